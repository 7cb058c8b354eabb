"""The fake Spotify Web API: the current user, tracks, recently played, currently playing.

Shapes follow https://developer.spotify.com/documentation/web-api/reference and the
February 2026 changes (https://developer.spotify.com/documentation/web-api/references/
changes/february-2026): tracks carry no `popularity`; `GET /v1/me` carries no `country`,
`email`, `explicit_content`, `followers` or `product`. The same changes dropped
`external_ids` (the ISRC) from tracks for development-mode apps; the sandbox keeps it by
default and drops it when `track_external_ids` is switched off
(`POST /_sandbox/spotify/settings`).

Errors: `{"error": {"status", "message"}}` - 401 for a missing, unknown or expired
token, 400 `invalid id` for a malformed id, 404 `Resource not found` for an unknown
one. With development mode on, any call made with the token of a person not on the
allow-list answers 403 with a plain-text body (not JSON), as Spotify does:
"Check settings on developer.spotify.com/dashboard, the user may not be registered."
(older wording: "User not registered in the Developer Dashboard").
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sendsongs.sandbox.catalog import CatalogTrack, derived_id, find_track, is_base62_id
from sendsongs.sandbox.clock import iso
from sendsongs.sandbox.paths import sandbox_url
from sendsongs.sandbox.spotify_grants import AccessGrant
from sendsongs.sandbox.spotify_world import PlayRecord, SpotifyUser, SpotifyWorld
from sendsongs.sandbox.traffic import Family, Traffic, api_route

RECENTLY_PLAYED_SCOPE = "user-read-recently-played"
CURRENTLY_PLAYING_SCOPES = {"user-read-currently-playing", "user-read-playback-state"}


class ApiError(Exception):
    """A Web API refusal: `{"error": {"status", "message"}}`, or plain text."""

    def __init__(self, status: int, message: str, plain: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.plain = plain

    def response(self) -> Response:
        if self.plain:
            return Response(self.message, status_code=self.status, media_type="text/plain")
        body = {"error": {"status": self.status, "message": self.message}}
        return JSONResponse(body, status_code=self.status)


def api_base(request: Request) -> str:
    """This sandbox's `/v1` URL as the caller reached it, for `href` and `next` links."""
    return sandbox_url(request, "/v1")


def track_json(track: CatalogTrack, base: str, external_ids: bool = True) -> dict[str, Any]:
    """A full track object, as `GET /v1/tracks/{id}` returns it."""
    artists = [_artist_json(name, base) for name in track.artists]
    album_id = derived_id(f"album:{track.album}:{track.release_date}")
    album = {
        "album_type": track.album_type,
        "artists": artists,
        "external_urls": {"spotify": f"https://open.spotify.com/album/{album_id}"},
        "href": f"{base}/albums/{album_id}",
        "id": album_id,
        "images": [],
        "name": track.album,
        "release_date": track.release_date,
        "release_date_precision": "day",
        "type": "album",
        "uri": f"spotify:album:{album_id}",
    }
    body: dict[str, Any] = {
        "album": album,
        "artists": artists,
        "disc_number": 1,
        "duration_ms": track.duration_ms,
        "explicit": track.explicit,
        "external_ids": {"isrc": track.isrc},
        "external_urls": {"spotify": track.url},
        "href": f"{base}/tracks/{track.id}",
        "id": track.id,
        "is_local": False,
        "name": track.name,
        "preview_url": None,
        "track_number": track.track_number,
        "type": "track",
        "uri": track.uri,
    }
    if not external_ids:
        del body["external_ids"]
    return body


def _artist_json(name: str, base: str) -> dict[str, Any]:
    artist_id = derived_id(f"artist:{name}")
    return {
        "external_urls": {"spotify": f"https://open.spotify.com/artist/{artist_id}"},
        "href": f"{base}/artists/{artist_id}",
        "id": artist_id,
        "name": name,
        "type": "artist",
        "uri": f"spotify:artist:{artist_id}",
    }


class WebApi:
    """Route handlers over the catalog and the fake listeners' histories."""

    def __init__(self, world: SpotifyWorld) -> None:
        self.world = world

    def routes(self, traffic: Traffic) -> list[Route]:
        return [
            api_route("/v1/me", self.me, ["GET"], traffic, Family.WEB_API),
            api_route("/v1/tracks/{id}", self.track, ["GET"], traffic, Family.WEB_API),
            api_route(
                "/v1/me/player/recently-played",
                self.recently_played,
                ["GET"],
                traffic,
                Family.WEB_API,
            ),
            api_route(
                "/v1/me/player/currently-playing",
                self.currently_playing,
                ["GET"],
                traffic,
                Family.WEB_API,
            ),
        ]

    def _access(self, request: Request) -> AccessGrant:
        header = request.headers.get("authorization")
        if not header:
            raise ApiError(401, "No token provided")
        if header[:7].lower() != "bearer " or not header[7:].strip():
            raise ApiError(400, "Only valid bearer authentication supported")
        access = self.world.grants.check_access(header[7:].strip())
        if isinstance(access, str):
            raise ApiError(401, access)
        return access

    def _listener(self, request: Request, scopes: set[str] | None) -> str:
        """The person behind a user token that holds one of `scopes` (None: any)."""
        access = self._access(request)
        if access.user is None:
            # A client-credentials token speaks for the app, never for a person.
            raise ApiError(401, "Valid user authentication required")
        if not self.world.admits(access.user):
            raise ApiError(403, self.world.platform.not_registered_message, plain=True)
        if scopes is not None and not access.scopes() & scopes:
            raise ApiError(403, "Insufficient client scope")
        return access.user

    def _track_json(self, track: CatalogTrack, request: Request) -> dict[str, Any]:
        return track_json(track, api_base(request), self.world.platform.track_external_ids)

    async def me(self, request: Request) -> Response:
        try:
            user_id = self._listener(request, None)
        except ApiError as error:
            return error.response()
        user = self.world.users.get(user_id) or SpotifyUser(user_id, user_id)
        base = api_base(request)
        return JSONResponse(
            {
                "display_name": user.display_name,
                "external_urls": {"spotify": f"https://open.spotify.com/user/{user.id}"},
                "href": f"{base}/users/{user.id}",
                "id": user.id,
                "images": [],
                "type": "user",
                "uri": f"spotify:user:{user.id}",
            }
        )

    async def track(self, request: Request) -> Response:
        try:
            self._access(request)
            track_id = request.path_params["id"]
            if not is_base62_id(track_id):
                raise ApiError(400, "invalid id")
            track = find_track(track_id)
            if track is None:
                raise ApiError(404, "Resource not found")
        except ApiError as error:
            return error.response()
        return JSONResponse(self._track_json(track, request))

    async def recently_played(self, request: Request) -> Response:
        try:
            user = self._listener(request, {RECENTLY_PLAYED_SCOPE})
            limit = _int_param(request, "limit", 1, 50) or 20
            after = _int_param(request, "after", 0, None)
            before = _int_param(request, "before", 0, None)
            if after is not None and before is not None:
                raise ApiError(400, "Only one of after or before may be given")
        except ApiError as error:
            return error.response()
        history = self.world.history(user)  # newest first, at most 50
        if after is not None:
            # `after` pages forward in time: the plays nearest the cursor come first.
            newer = [p for p in history if p.played_at_ms > after]
            page, more = newer[-limit:], len(newer) > limit
        else:
            older = [p for p in history if before is None or p.played_at_ms < before]
            page, more = older[:limit], len(older) > limit
        base = api_base(request)
        return JSONResponse(
            {
                "items": [_item_json(p, self._track_json(p.track, request)) for p in page],
                "next": _next_url(base, page, limit, forward=after is not None) if more else None,
                "cursors": (
                    {"after": str(page[0].played_at_ms), "before": str(page[-1].played_at_ms)}
                    if page
                    else None
                ),
                "limit": limit,
                "href": str(request.url),
            }
        )

    async def currently_playing(self, request: Request) -> Response:
        try:
            user = self._listener(request, CURRENTLY_PLAYING_SCOPES)
        except ApiError as error:
            return error.response()
        playing = self.world.now_playing.get(user)
        if playing is None:
            return Response(status_code=204)
        now = self.world.clock()
        progress = playing.progress_ms
        if playing.is_playing:
            progress += int((now - playing.since) * 1000)
        if progress >= playing.track.duration_ms:
            return Response(status_code=204)  # the track ended and nothing followed it
        return JSONResponse(
            {
                "timestamp": int(now * 1000),
                "context": None,
                "progress_ms": progress,
                "item": self._track_json(playing.track, request),
                "currently_playing_type": "track",
                "is_playing": playing.is_playing,
            }
        )


def _int_param(request: Request, name: str, low: int, high: int | None) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"Invalid {name}") from None
    if value < low or (high is not None and value > high):
        raise ApiError(400, f"Invalid {name}")
    return value


def _item_json(play: PlayRecord, track: dict[str, Any]) -> dict[str, Any]:
    return {
        "track": track,
        "played_at": iso(play.played_at_ms / 1000),
        "context": None,
    }


def _next_url(base: str, page: list[PlayRecord], limit: int, forward: bool) -> str:
    cursor = f"after={page[0].played_at_ms}" if forward else f"before={page[-1].played_at_ms}"
    return f"{base}/me/player/recently-played?{cursor}&limit={limit}"
