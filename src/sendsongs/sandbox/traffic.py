"""Call counting and fault injection for the fake Graph and Spotify routes."""

from __future__ import annotations

import asyncio
import secrets
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sendsongs.sandbox.paths import route_path

Endpoint = Callable[[Request], Awaitable[Response]]

DEFAULT_HANG = 30.0  # seconds a "timeout" fault holds the request by default


class Family(Enum):
    """Which vendor a route imitates, so an injected fault wears its error shape."""

    GRAPH = "graph"
    ACCOUNTS = "accounts"
    WEB_API = "web_api"


@dataclass
class Fault:
    path_prefix: str
    status: int | None  # None: hang for `delay` seconds, then 504
    remaining: int
    retry_after: float | None = None
    delay: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "path_prefix": self.path_prefix,
            "status": "timeout" if self.status is None else self.status,
            "remaining": self.remaining,
            "retry_after": self.retry_after,
            "delay": self.delay,
        }


@dataclass
class Traffic:
    """What the bot called, and the failures queued for its next calls."""

    calls: Counter[str] = field(default_factory=Counter)
    faults: list[Fault] = field(default_factory=list)

    def take(self, path: str) -> Fault | None:
        """Consume one use of the first queued fault matching `path`."""
        for fault in self.faults:
            if fault.remaining > 0 and path.startswith(fault.path_prefix):
                fault.remaining -= 1
                if fault.remaining == 0:
                    self.faults.remove(fault)
                return fault
        return None

    def reset(self) -> None:
        self.calls.clear()
        self.faults.clear()


def api_route(
    path: str, endpoint: Endpoint, methods: list[str], traffic: Traffic, family: Family
) -> Route:
    """A vendor route whose calls are counted under `path` and which faults can hit."""

    async def guarded(request: Request) -> Response:
        traffic.calls[f"{request.method} {path}"] += 1
        fault = traffic.take(route_path(request))
        if fault is None:
            return await endpoint(request)
        if fault.delay:
            await asyncio.sleep(fault.delay)
        return fault_response(fault, family)

    return Route(path, guarded, methods=methods)


_REASONS = {
    429: "API rate limit exceeded",
    500: "Server error",
    502: "Bad gateway",
    503: "Service unavailable",
    504: "Gateway timeout",
}


def fault_response(fault: Fault, family: Family) -> Response:
    status = 504 if fault.status is None else fault.status
    reason = _REASONS.get(status, "Injected failure")
    headers: dict[str, str] = {}
    if status == 429 or fault.retry_after is not None:
        # Both vendors send whole seconds; a 429 without the header would not be faithful.
        headers["Retry-After"] = str(max(0, round(fault.retry_after or 1)))
    body: dict[str, Any]
    if family is Family.GRAPH:
        code = 4 if status == 429 else 2
        message = (
            "(#4) Application request limit reached"
            if status == 429
            else "An unexpected error has occurred. Please retry your request later."
        )
        body = {"error": graph_error_body(message, code, is_transient=True)}
    elif family is Family.ACCOUNTS:
        body = {
            "error": "server_error" if status >= 500 else "too_many_requests",
            "error_description": reason,
        }
    else:
        body = {"error": {"status": status, "message": reason}}
    return JSONResponse(body, status_code=status, headers=headers)


def graph_error_body(
    message: str,
    code: int,
    subcode: int | None = None,
    error_type: str = "OAuthException",
    is_transient: bool = False,
) -> dict[str, Any]:
    """The inside of a Graph API `{"error": ...}` body."""
    error: dict[str, Any] = {"message": message, "type": error_type, "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    if is_transient:
        error["is_transient"] = True
    error["fbtrace_id"] = "A" + secrets.token_urlsafe(16)[:22]
    return error
