"""The fake Spotify Web API: tracks, recently played, currently playing."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sendsongs.sandbox.catalog import CatalogTrack, derived_id, find_track, is_base62_id
from sendsongs.sandbox.clock import iso
from sendsongs.sandbox.paths import sandbox_url
from sendsongs.sandbox.spotify_world import AccessGrant, PlayRecord, SpotifyWorld
from sendsongs.sandbox.traffic import Family, Traffic, api_route

RECENTLY_PLAYED_SCOPE = "user-read-recently-played"
CURRENTLY_PLAYING_SCOPES = {"user-read-currently-playing", "user-read-playback-state"}


class ApiError(Exception):
    """A Web API refusal: `{"error": {"status", "message"}}`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message

    def response(self) -> Response:
        body = {"error": {"status": self.status, "message": self.message}}
        return JSONResponse(body, status_code=self.status)


def api_base(request: Request) -> str:
    """This sandbox's `/v1` URL as the caller reached it, for `href` and `next` links."""
    return sandbox_url(request, "/v1")


def track_json(track: CatalogTrack, base: str) -> dict[str, Any]:
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
    return {
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
        "popularity": track.popularity,
        "preview_url": None,
        "track_number": track.track_number,
        "type": "track",
        "uri": track.uri,
    }


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
            api_route("/v1/tracks/{id}", self.track, ["GET"], traffic, Family.WEB_API),
            api_route("/v1/me", self.me, ["GET"], traffic, Family.WEB_API),
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
        access = self.world.check_access(header[7:].strip())
        if isinstance(access, str):
            raise ApiError(401, access)
        return access

    def _listener(self, request: Request, scopes: set[str]) -> str:
        access = self._access(request)
        if access.user is None:
            # A client-credentials token speaks for the app, never for a person.
            raise ApiError(401, "Valid user authentication required")
        if not access.scopes() & scopes:
            raise ApiError(403, "Insufficient client scope")
        return access.user

    async def me(self, request: Request) -> Response:
        """The current user's profile (Web API "Get Current User's Profile")."""
        try:
            access = self._access(request)
            if access.user is None:
                raise ApiError(401, "Valid user authentication required")
        except ApiError as error:
            return error.response()
        user = access.user
        return JSONResponse(
            {
                "id": user,
                "display_name": user,
                "type": "user",
                "uri": f"spotify:user:{user}",
                "href": f"{api_base(request)}/users/{user}",
                "external_urls": {"spotify": f"https://open.spotify.com/user/{user}"},
            }
        )

    async def track(self, request: Request) -> Response:
        try:
            self._access(request)
            track_id = request.path_params["id"]
            if not is_base62_id(track_id):
                raise ApiError(400, "Invalid base62 id")
            track = find_track(track_id)
            if track is None:
                raise ApiError(404, "Resource not found")
        except ApiError as error:
            return error.response()
        return JSONResponse(track_json(track, api_base(request)))

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
                "items": [_item_json(p, base) for p in page],
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
                "item": track_json(playing.track, api_base(request)),
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


def _item_json(play: PlayRecord, base: str) -> dict[str, Any]:
    return {
        "track": track_json(play.track, base),
        "played_at": iso(play.played_at_ms / 1000),
        "context": None,
    }


def _next_url(base: str, page: list[PlayRecord], limit: int, forward: bool) -> str:
    cursor = f"after={page[0].played_at_ms}" if forward else f"before={page[-1].played_at_ms}"
    return f"{base}/me/player/recently-played?{cursor}&limit={limit}"
