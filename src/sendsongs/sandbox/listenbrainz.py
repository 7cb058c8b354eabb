"""The fake ListenBrainz API (`/listenbrainz/1/...`): listens, playing-now, token check.

Faithful to https://listenbrainz.readthedocs.io/en/latest/users/api/core.html and
.../users/json.html: `{"payload": ...}` bodies, listens newest first, `min_ts` / `max_ts`
exclusive, `count` 25 by default and capped at 1000, errors as `{"code", "error"}`, and the
`X-RateLimit-*` headers of .../users/api/index.html#rate-limiting on every answer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sendsongs.sandbox.clock import Clock
from sendsongs.sandbox.history_world import HistoryWorld, Listen
from sendsongs.sandbox.paths import route_path
from sendsongs.sandbox.traffic import Call, Family, Fault, Traffic, injected

PREFIX = "/listenbrainz"
DEFAULT_COUNT = 25  # DEFAULT_ITEMS_PER_GET
MAX_COUNT = 1000  # MAX_ITEMS_PER_GET
UNENFORCED_LIMIT = 1000  # what the headers say while no limit is configured
OVER_LIMIT = (
    "You have exceeded your rate limit. See the X-RateLimit-* response headers for more"
    " information on your current rate limit."
)
_REASONS = {429: OVER_LIMIT, 500: "An unknown error occured.", 503: "Service Unavailable"}

Endpoint = Callable[[Request], Awaitable[Response]]


class ApiError(Exception):
    """A ListenBrainz refusal: `{"code": status, "error": message}`."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class RateWindow:
    """ListenBrainz's fixed windows: each starts on a multiple of `window` seconds, and a
    caller (token, else address) may make `limit` calls in it."""

    clock: Clock
    limit: int | None
    window: int
    counts: dict[tuple[str, int], int] = field(default_factory=dict)

    def hit(self, key: str) -> tuple[dict[str, str], bool]:
        """Count one call; the headers to send and whether the call is over the limit."""
        now = int(self.clock())
        reset = (now // self.window) * self.window + self.window
        slot = (key, reset)
        self.counts[slot] = self.counts.get(slot, 0) + 1
        limit = UNENFORCED_LIMIT if self.limit is None else self.limit
        used = self.counts[slot]
        return rate_headers(limit, max(limit - used, 0), reset, reset - now), (
            self.limit is not None and used > self.limit
        )

    def reset(self) -> None:
        self.counts.clear()


def rate_headers(limit: int, remaining: int, reset: int, reset_in: int) -> dict[str, str]:
    return {
        "Access-Control-Expose-Headers": (
            "X-RateLimit-Remaining,X-RateLimit-Limit,X-RateLimit-Reset,X-RateLimit-Reset-In"
        ),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Reset": str(reset),
        "X-RateLimit-Reset-In": str(reset_in),
    }


def error_response(status: int, message: str, headers: dict[str, str]) -> Response:
    return JSONResponse({"code": status, "error": message}, status_code=status, headers=headers)


def listen_json(listen: Listen) -> dict[str, Any]:
    """A listen as `GET /1/user/{user}/listens` returns it (Listen.to_api upstream)."""
    return {
        "inserted_at": int(listen.visible_at),
        "listened_at": listen.listened_at,
        "recording_msid": listen.msid,
        "track_metadata": track_metadata(listen),
        "user_name": listen.user,
    }


def track_metadata(listen: Listen, playing_now: bool = False) -> dict[str, Any]:
    info: dict[str, Any] = {}
    if listen.duration_ms is not None:
        info["duration_ms"] = listen.duration_ms
    for key in ("spotify_id", "isrc", "recording_mbid", "music_service", "submission_client"):
        value = getattr(listen, key)
        if value:
            info[key] = value
    if listen.spotify_id:
        info["origin_url"] = listen.spotify_id
    if listen.artist_mbids:
        info["artist_mbids"] = list(listen.artist_mbids)
    if not playing_now:
        info["recording_msid"] = listen.msid  # stored listens carry their msid here too
    metadata: dict[str, Any] = {
        "artist_name": listen.artist,
        "track_name": listen.title,
        "additional_info": info,
    }
    if listen.album:
        metadata["release_name"] = listen.album
    if listen.mbid and not playing_now:
        mapping: dict[str, Any] = {"recording_mbid": listen.mbid, "recording_name": listen.title}
        if listen.artist_mbids:
            mapping["artist_mbids"] = list(listen.artist_mbids)
            mapping["artists"] = [
                {"artist_mbid": mbid, "artist_credit_name": listen.artist, "join_phrase": ""}
                for mbid in listen.artist_mbids
            ]
        metadata["mbid_mapping"] = mapping
    return metadata


class ListenBrainzApi:
    """Route handlers over one HistoryWorld, behind a RateWindow."""

    def __init__(self, world: HistoryWorld, limiter: RateWindow) -> None:
        self.world = world
        self.limiter = limiter

    def routes(self, traffic: Traffic) -> list[Route]:
        paths = {
            "/1/user/{user}/listens": self.listens,
            "/1/user/{user}/playing-now": self.playing_now,
            "/1/validate-token": self.validate_token,
        }
        return [
            Route(PREFIX + path, self._guard(PREFIX + path, endpoint, traffic), methods=["GET"])
            for path, endpoint in paths.items()
        ]

    def _guard(self, path: str, endpoint: Endpoint, traffic: Traffic) -> Endpoint:
        """Count and log the call, apply the rate limit and any queued fault."""

        async def guarded(request: Request) -> Response:
            traffic.calls[f"{request.method} {path}"] += 1
            response = await self._answer(request, path, endpoint, traffic)
            self.world.log_call(
                {
                    "path": route_path(request),
                    "query": dict(request.query_params),
                    "user_agent": request.headers.get("user-agent"),
                    "status": response.status_code,
                }
            )
            return response

        return guarded

    async def _answer(
        self, request: Request, path: str, endpoint: Endpoint, traffic: Traffic
    ) -> Response:
        auth = request.headers.get("authorization", "")
        caller = auth[6:].strip() if auth[:6].lower() == "token " else None
        if caller is None or self.world.user_by_token(caller) is None:
            caller = request.client.host if request.client else "unknown"
        headers, over = self.limiter.hit(caller)
        if over:
            return error_response(429, OVER_LIMIT, headers)
        fault = None
        if traffic.faults:
            fault = traffic.take(Call(route_path(request), path, Family.LISTENBRAINZ))
        if fault is not None:
            return await injected(
                fault, Family.LISTENBRAINZ, shape=lambda hit: self._fault_response(hit, headers)
            )
        try:
            response = await endpoint(request)
        except ApiError as error:
            return error_response(error.status, error.message, headers)
        response.headers.update(headers)
        return response

    def _fault_response(self, fault: Fault, headers: dict[str, str]) -> Response:
        """An injected fault in ListenBrainz's shape; a 429 also empties the window."""
        status = 504 if fault.status is None else fault.status
        if status == 429:
            wait = fault.hint(int(headers["X-RateLimit-Reset-In"]))
            if wait is None:  # no retry hint: a 429 without the rate-limit headers
                headers = {}
            else:
                reset = int(self.world.clock()) + wait
                headers = rate_headers(int(headers["X-RateLimit-Limit"]), 0, reset, wait)
        message = fault.description or _REASONS.get(status, "Injected failure")
        return error_response(status, message, headers)

    def _user(self, request: Request) -> str:
        name: str = request.path_params["user"]
        if self.world.find_user(name) is None:
            raise ApiError(404, f"Cannot find user: {name}")
        return name

    async def listens(self, request: Request) -> Response:
        name = self._user(request)
        min_ts = _int_arg(request, "min_ts")
        max_ts = _int_arg(request, "max_ts")
        asked = _int_arg(request, "count")
        count = min(DEFAULT_COUNT if asked is None else asked, MAX_COUNT)
        if count < 0:
            raise ApiError(400, "Number of items requested should be positive")
        if min_ts and max_ts and max_ts < min_ts:
            raise ApiError(400, "max_ts should be greater than min_ts")
        if min_ts and max_ts and min_ts >= max_ts:
            raise ApiError(400, "min_ts should be less than max_ts")
        stored = self.world.history(name)  # newest first
        window = [
            item
            for item in stored
            if (not min_ts or item.listened_at > min_ts)
            and (not max_ts or item.listened_at < max_ts)
        ]
        # With only min_ts the store reads forward from it: the listens just after min_ts,
        # still answered newest first.
        page = window[-count:] if min_ts and not max_ts and count else window[:count]
        return JSONResponse(
            {
                "payload": {
                    "count": len(page),
                    "latest_listen_ts": stored[0].listened_at if stored else 0,
                    "listens": [listen_json(item) for item in page],
                    "oldest_listen_ts": stored[-1].listened_at if stored else 0,
                    "user_id": name,
                }
            }
        )

    async def playing_now(self, request: Request) -> Response:
        name = self._user(request)
        playing = self.world.playing(name)
        listens = [] if playing is None else [playing]
        return JSONResponse(
            {
                "payload": {
                    "count": len(listens),
                    "listens": [
                        {"playing_now": True, "track_metadata": track_metadata(item, True)}
                        for item in listens
                    ],
                    "playing_now": True,
                    "user_id": name,
                }
            }
        )

    async def validate_token(self, request: Request) -> Response:
        token = request.query_params.get("token", "")
        auth = request.headers.get("authorization", "")
        if not token and auth[:6].lower() == "token ":
            token = auth[6:].strip()
        if not token:
            raise ApiError(400, "You need to provide an Authorization token.")
        user = self.world.user_by_token(token)
        if user is None:
            return JSONResponse({"code": 200, "message": "Token invalid.", "valid": False})
        return JSONResponse(
            {"code": 200, "message": "Token valid.", "valid": True, "user_name": user.name}
        )


def _int_arg(request: Request, name: str) -> int | None:
    raw = request.query_params.get(name)
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        raise ApiError(400, f"Invalid {name} argument: {raw}") from None
