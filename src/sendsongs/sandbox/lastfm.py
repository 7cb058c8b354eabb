"""The fake Last.fm API (`/lastfm/2.0/?method=...&format=json`): recent tracks, user info.

Faithful to https://www.last.fm/api/show/user.getRecentTracks, /api/show/user.getInfo and
/api/errorcodes, with the HTTP statuses and JSON quirks recorded at
https://lastfm-docs.github.io/api-docs/ (user/getRecentTracks, user/getInfo, codes): numbers
as strings, `#text` / `@attr` keys, the now-playing track first without a date, errors as
`{"error": code, "message": ...}` (6 "User not found" with 404, 17 for a private profile
with 403, 29 with 429).
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote_plus

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sendsongs.sandbox.config import SandboxConfig
from sendsongs.sandbox.control_io import ControlError, text_field
from sendsongs.sandbox.history_world import HistoryUser, HistoryWorld, Listen
from sendsongs.sandbox.traffic import Call, Family, Fault, Traffic, injected

PATH = "/lastfm/2.0/"
DEFAULT_LIMIT = 50
MAX_LIMIT = 1000
MESSAGES = {
    3: "Invalid Method - No method with that name in this package",
    5: "Invalid format - This service doesn't exist in that format",
    6: "Invalid parameters - Your request is missing a required parameter",
    8: "Operation failed - Most likely the backend service failed. Please try again.",
    10: "Invalid API key - You must be granted a valid key by last.fm",
    11: "Service Offline - This service is temporarily offline. Try again later.",
    16: "There was a temporary error processing your request. Please try again",
    17: "Login: User required to be logged in",
    26: "API Key Suspended - This application is not allowed to make requests to the web services",
    29: "Rate Limit Exceeded - This application has made too many requests in a short period."
    " If this is your API key, see https://www.last.fm/api/tos#4.4 for information about"
    " raising the limit.",
}
STATUSES = {3: 400, 5: 400, 6: 400, 8: 500, 10: 403, 11: 503, 16: 503, 17: 403, 26: 403, 29: 429}
_CODE_FOR_STATUS = {429: 29, 403: 17, 500: 8, 502: 16, 503: 11, 504: 16}
IMAGE_SIZES = ("small", "medium", "large", "extralarge")

Endpoint = Callable[[Request], Awaitable[Response]]


class LastfmError(Exception):
    def __init__(self, code: int, message: str | None = None, status: int | None = None) -> None:
        super().__init__(message or MESSAGES[code])
        self.code = code
        self.message = message or MESSAGES[code]
        self.status = status or STATUSES.get(code, 400)

    def response(self) -> Response:
        body = {"error": self.code, "message": self.message}
        return JSONResponse(body, status_code=self.status)


def shorthand_fault(body: dict[str, Any]) -> dict[str, Any]:
    """`POST /_sandbox/lastfm/faults` `{"error": code, "method"?: "user.getRecentTracks",
    ...}` as the shared fault body: `method` narrows it to that method's calls."""
    if body.get("error") is None:
        raise ControlError(f"error must be one of the Last.fm codes {sorted(STATUSES)}")
    method = text_field(body, "method")
    shared = {name: value for name, value in body.items() if name != "method"}
    shared["path_prefix"] = PATH + (f"?method={method.lower()}" if method else "")
    return shared


def fault_error(fault: Fault) -> LastfmError:
    """An injected fault as Last.fm's error: its own code, or the one for its status."""
    status = 504 if fault.status is None else fault.status
    code = fault.lastfm_error or _CODE_FOR_STATUS.get(status, 8)
    return LastfmError(code, fault.description, status)


def music_url(*parts: str) -> str:
    return "https://www.last.fm/music/" + "/_/".join(quote_plus(part) for part in parts)


def _images() -> list[dict[str, str]]:
    return [{"size": size, "#text": ""} for size in IMAGE_SIZES]


def track_json(listen: Listen, extended: bool, now_playing: bool = False) -> dict[str, Any]:
    """One `recenttracks.track` entry; `extended=1` changes the artist's shape."""
    artist: dict[str, Any]
    if extended:
        artist = {
            "url": music_url(listen.artist),
            "name": listen.artist,
            "image": _images(),
            "mbid": "",
        }
    else:
        artist = {"mbid": "", "#text": listen.artist}
    track: dict[str, Any] = {}
    if now_playing:
        track["@attr"] = {"nowplaying": "true"}
    track |= {
        "artist": artist,
        "streamable": "0",
        "image": _images(),
        "mbid": listen.mbid or "",
        "album": {"mbid": "", "#text": listen.album},
        "name": listen.title,
        "url": music_url(listen.artist, listen.title),
    }
    if not now_playing:
        moment = datetime.fromtimestamp(listen.listened_at, UTC)
        track["date"] = {
            "uts": str(listen.listened_at),
            "#text": f"{moment.day} {moment:%b %Y, %H:%M}",
        }
    if extended:
        track["loved"] = "0"
    return track


class LastfmApi:
    """One endpoint, dispatching on `method` as Last.fm does."""

    def __init__(self, world: HistoryWorld, config: SandboxConfig) -> None:
        self.world = world
        self.config = config
        # Reports show a page holding exactly one track answered as an object, not a list;
        # today's documented example shows a list, so this stays off unless asked for.
        self.single_track_as_object = False
        self.methods: dict[str, Callable[[Request], dict[str, Any]]] = {
            "user.getrecenttracks": self.recent_tracks,
            "user.getinfo": self.user_info,
        }

    def routes(self, traffic: Traffic) -> list[Route]:
        endpoint = self._guard(traffic)
        return [Route(path, endpoint, methods=["GET"]) for path in (PATH, PATH.rstrip("/"))]

    def _guard(self, traffic: Traffic) -> Endpoint:
        async def guarded(request: Request) -> Response:
            method = request.query_params.get("method", "").lower()
            key = f"{PATH}?method={method}"
            traffic.calls[f"{request.method} {key}"] += 1
            fault = traffic.take(Call(key, key, Family.LASTFM)) if traffic.faults else None
            response = await self._answer(request, method, fault)
            self.world.log_call(
                {
                    "path": key,
                    "query": {k: v for k, v in request.query_params.items() if k != "api_key"},
                    "user_agent": request.headers.get("user-agent"),
                    "status": response.status_code,
                }
            )
            return response

        return guarded

    async def _answer(self, request: Request, method: str, fault: Fault | None) -> Response:
        try:
            if fault is not None:
                return await injected(
                    fault, Family.LASTFM, shape=lambda hit: fault_error(hit).response()
                )
            if request.query_params.get("format", "").lower() != "json":
                raise LastfmError(5)  # the sandbox speaks JSON only
            if request.query_params.get("api_key") != self.config.lastfm_api_key:
                raise LastfmError(10)
            handler = self.methods.get(method)
            if handler is None:
                raise LastfmError(3)
            return JSONResponse(handler(request))
        except LastfmError as error:
            return error.response()

    def _user(self, request: Request) -> HistoryUser:
        name = request.query_params.get("user")
        if not name:
            raise LastfmError(6)
        user = self.world.find_user(name)
        if user is None:
            raise LastfmError(6, "User not found", 404)
        return user

    def recent_tracks(self, request: Request) -> dict[str, Any]:
        user = self._user(request)
        if user.private:
            raise LastfmError(17)
        limit = _int_param(request, "limit", DEFAULT_LIMIT)
        if not 1 <= limit <= MAX_LIMIT:
            raise LastfmError(6, f"limit param out of bounds (1-{MAX_LIMIT})")
        page = _int_param(request, "page", 1)
        if page < 1:
            raise LastfmError(6, "page param out of bounds (1-1000000)")
        start = _int_param(request, "from", 0)
        end = _int_param(request, "to", 0)
        extended = request.query_params.get("extended") in ("1", "true")
        # "only display scrobbles after `from`" and "before `to`": both bounds exclusive.
        scrobbles = [
            item
            for item in self.world.history(user.name)
            if item.listened_at > start and (not end or item.listened_at < end)
        ]
        tracks = [track_json(t, extended) for t in scrobbles[(page - 1) * limit : page * limit]]
        playing = self.world.playing(user.name)
        if playing is not None and page == 1:
            # "One track is added when the user is currently listening."
            tracks.insert(0, track_json(playing, extended, now_playing=True))
        return {
            "recenttracks": {
                "track": tracks[0] if len(tracks) == 1 and self.single_track_as_object else tracks,
                "@attr": {
                    "user": user.name,
                    "totalPages": str(math.ceil(len(scrobbles) / limit)),
                    "page": str(page),
                    "perPage": str(limit),
                    "total": str(len(scrobbles)),
                },
            }
        }

    def user_info(self, request: Request) -> dict[str, Any]:
        user = self._user(request)
        return {
            "user": {
                "name": user.name,
                "age": "0",
                "subscriber": "0",
                "realname": user.realname,
                "bootstrap": "0",
                "playcount": str(len(self.world.history(user.name))),
                "playlists": "0",
                "image": _images(),
                # The documented quirk: `unixtime` is a string, `#text` a number.
                "registered": {"unixtime": str(user.registered), "#text": user.registered},
                "country": "None",
                "gender": "n",
                "url": f"https://www.last.fm/user/{quote_plus(user.name)}",
                "type": "user",
            }
        }


def _int_param(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise LastfmError(6) from None
