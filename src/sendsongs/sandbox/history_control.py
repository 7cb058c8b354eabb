"""The ListenBrainz and Last.fm stand-ins wired together, and their `/_sandbox` controls."""

from __future__ import annotations

import uuid
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sendsongs.sandbox.catalog import find_track, is_base62_id
from sendsongs.sandbox.clock import Clock, parse_iso
from sendsongs.sandbox.config import SandboxConfig
from sendsongs.sandbox.control_io import (
    ControlError,
    control,
    number_field,
    read_json,
    text_field,
)
from sendsongs.sandbox.history_world import HistoryUser, HistoryWorld, Listen
from sendsongs.sandbox.lastfm import LastfmApi
from sendsongs.sandbox.listenbrainz import ListenBrainzApi, RateWindow
from sendsongs.sandbox.traffic import Traffic

LISTENBRAINZ = "listenbrainz"
LASTFM = "lastfm"


class HistoryServices:
    """Both play-history services: the app mounts `routes()` and `controls()`."""

    def __init__(self, config: SandboxConfig, clock: Clock, traffic: Traffic) -> None:
        self.config = config
        self.traffic = traffic
        self.listenbrainz = HistoryWorld(clock)
        self.lastfm = HistoryWorld(clock)
        self.limiter = RateWindow(
            clock, config.listenbrainz_rate_limit, config.listenbrainz_rate_window
        )
        self.lastfm_api = LastfmApi(self.lastfm, config)
        self.listenbrainz_api = ListenBrainzApi(self.listenbrainz, self.limiter)

    def routes(self) -> list[Route]:
        return [*self.listenbrainz_api.routes(self.traffic), *self.lastfm_api.routes(self.traffic)]

    def controls(self) -> list[Route]:
        routes: list[Route] = []
        for service, world in ((LISTENBRAINZ, self.listenbrainz), (LASTFM, self.lastfm)):
            handlers = ServiceControl(service, world)
            routes += [
                Route(f"/{service}/users", control(handlers.list_users), methods=["GET"]),
                Route(f"/{service}/users", control(handlers.add_user), methods=["POST"]),
                Route(f"/{service}/listens", control(handlers.add_listen), methods=["POST"]),
                Route(
                    f"/{service}/users/{{name}}/listens",
                    control(handlers.user_listens),
                    methods=["GET"],
                ),
                Route(f"/{service}/calls", control(handlers.calls), methods=["GET"]),
            ]
        return [
            *routes,
            Route("/listenbrainz/rate-limit", control(self.set_rate_limit), methods=["POST"]),
            Route("/lastfm/quirks", control(self.set_quirks), methods=["POST"]),
        ]

    def reset(self) -> None:
        self.listenbrainz.reset()
        self.lastfm.reset()
        self.limiter.limit = self.config.listenbrainz_rate_limit
        self.limiter.window = self.config.listenbrainz_rate_window
        self.limiter.reset()
        self.lastfm_api.single_track_as_object = False

    async def set_rate_limit(self, request: Request) -> Response:
        body = await read_json(request)
        limit = body.get("limit")
        if limit is not None and (
            not isinstance(limit, int) or isinstance(limit, bool) or limit < 1
        ):
            raise ControlError("limit must be a positive integer, or null for no limit")
        window = int(number_field(body, "window", self.limiter.window) or 0)
        if window < 1:
            raise ControlError("window must be at least 1 second")
        self.limiter.limit, self.limiter.window = limit, window
        self.limiter.reset()
        return JSONResponse({"limit": limit, "window": window})

    async def set_quirks(self, request: Request) -> Response:
        body = await read_json(request)
        single = body.get("single_track_as_object", False)
        if not isinstance(single, bool):
            raise ControlError("single_track_as_object must be true or false")
        self.lastfm_api.single_track_as_object = single
        return JSONResponse({"single_track_as_object": single})


class ServiceControl:
    """`/_sandbox/<service>/...` handlers over one HistoryWorld."""

    def __init__(self, service: str, world: HistoryWorld) -> None:
        self.service = service
        self.world = world

    def _known(self, name: str | None) -> HistoryUser:
        user = self.world.find_user(name or "")
        if user is None:
            raise ControlError(
                f"unknown {self.service} user {name!r}: create it with"
                f" POST /_sandbox/{self.service}/users",
                404,
            )
        return user

    async def list_users(self, request: Request) -> Response:
        return JSONResponse({"users": [u.to_json() for u in self.world.users.values()]})

    async def add_user(self, request: Request) -> Response:
        body = await read_json(request)
        name = text_field(body, "name", required=True) or ""
        private = body.get("private")
        if private is not None and not isinstance(private, bool):
            raise ControlError("private must be true or false")
        if private and self.service != LASTFM:
            raise ControlError("only Last.fm profiles can hide their recent listening")
        return JSONResponse(
            self.world.add_user(name, text_field(body, "realname"), private).to_json()
        )

    async def add_listen(self, request: Request) -> Response:
        body = await read_json(request)
        listen = self._listen(body)
        now = self.world.clock()
        if body.get("now_playing") is True:
            return JSONResponse({"now_playing": self.world.start_playing(listen).to_json()})
        self.world.add(listen)
        return JSONResponse({"listen": listen.to_json(now)})

    async def user_listens(self, request: Request) -> Response:
        user = self._known(request.path_params["name"])
        now = self.world.clock()
        playing = self.world.playing(user.name)
        return JSONResponse(
            {
                "listens": [item.to_json(now) for item in self.world.all_listens(user.name)],
                "now_playing": None if playing is None else playing.to_json(now),
            }
        )

    async def calls(self, request: Request) -> Response:
        return JSONResponse({"calls": list(self.world.calls)})

    def _listen(self, body: dict[str, Any]) -> Listen:
        user = self._known(text_field(body, "user", required=True))
        now = self.world.clock()
        fields: dict[str, Any] = {}
        track_id = text_field(body, "track_id")
        if track_id is not None:
            track = find_track(track_id)
            if track is None:
                raise ControlError(f"track {track_id!r} is not in the sandbox catalog", 404)
            # ListenBrainz's Spotify importer joins the artists; scrobblers send the first.
            artist = ", ".join(track.artists) if self.service == LISTENBRAINZ else track.artists[0]
            fields |= {"artist": artist, "title": track.name, "album": track.album}
            fields["duration_ms"] = track.duration_ms
            if body.get("with_ids", True) is not False:
                fields |= {"spotify_id": track.url, "isrc": track.isrc}
                if self.service == LISTENBRAINZ:
                    fields |= {"music_service": "spotify.com", "submission_client": "listenbrainz"}
        for name in ("artist", "title", "album", "isrc", "music_service", "submission_client"):
            value = text_field(body, name)
            if value is not None:
                fields[name] = value
        if "artist" not in fields or "title" not in fields:
            raise ControlError("artist and title are required (or a catalog track_id)")
        duration = number_field(body, "duration_ms", None)
        if duration is not None:
            fields["duration_ms"] = int(duration)
        spotify = text_field(body, "spotify_id")
        if spotify is not None:
            fields["spotify_id"] = _spotify_url(spotify)
        for name in ("recording_mbid", "mapped_recording_mbid"):
            fields[name] = _mbid(text_field(body, name), name)
        mbids = body.get("artist_mbids", [])
        if not isinstance(mbids, list):
            raise ControlError("artist_mbids must be a list of MBIDs")
        fields["artist_mbids"] = tuple(_mbid(str(m), "artist_mbids") for m in mbids)
        visible_after = number_field(body, "visible_after", 0.0) or 0.0
        return Listen(
            user=user.name,
            listened_at=_listened_at(body, now),
            visible_at=now + visible_after,
            **fields,
        )


def _listened_at(body: dict[str, Any], now: float) -> int:
    ago = number_field(body, "ago", None)
    raw = body.get("listened_at")
    if ago is not None and raw is not None:
        raise ControlError("give listened_at or ago, not both")
    if ago is not None:
        return int(now - ago)
    if raw is None:
        return int(now)
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        return int(raw)
    if isinstance(raw, str):
        try:
            return int(parse_iso(raw))
        except ValueError:
            pass
    raise ControlError("listened_at must be unix seconds or an ISO-8601 timestamp")


def _spotify_url(value: str) -> str:
    if is_base62_id(value):
        return f"https://open.spotify.com/track/{value}"
    if value.startswith(("https://open.spotify.com/track/", "http://open.spotify.com/track/")):
        return value
    raise ControlError("spotify_id must be a Spotify track id or its open.spotify.com URL")


def _mbid(value: str | None, name: str) -> str | None:
    if value is None:
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise ControlError(f"{name} must be an MBID (a UUID)") from None
