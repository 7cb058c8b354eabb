"""Call counting and fault injection for the fake Graph and Spotify routes.

A fault hits calls whose sandbox path starts with its `path_prefix`, for `count` calls
or for `duration` seconds (or until both run out, when both are given). A 429 carries
`Retry-After` (1 s unless told; `0` is honoured as 0) unless the fault says to leave
the header out; a `reason` (e.g. `QUOTA_EXCEEDED`) goes into a Web API error body.
"""

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

from sendsongs.sandbox.clock import Clock, system_clock
from sendsongs.sandbox.paths import route_path

Endpoint = Callable[[Request], Awaitable[Response]]

DEFAULT_HANG = 30.0  # seconds a "timeout" fault holds the request by default


class Family(Enum):
    """Which vendor a route imitates, so an injected fault wears its error shape."""

    GRAPH = "graph"
    ACCOUNTS = "accounts"
    WEB_API = "web_api"
    LINKS = "links"  # the short-link hosts: plain text, not JSON


@dataclass
class Fault:
    path_prefix: str
    status: int | None  # None: hang for `delay` seconds, then 504
    remaining: int | None  # None: as many calls as come before `until`
    retry_after: float | None = None  # None: the default (1 s on a 429)
    delay: float = 0.0
    until: float | None = None  # unix seconds after which the fault is gone
    send_retry_after: bool = True
    reason: str | None = None  # e.g. "QUOTA_EXCEEDED", put in a Web API error body

    def to_json(self) -> dict[str, Any]:
        return {
            "path_prefix": self.path_prefix,
            "status": "timeout" if self.status is None else self.status,
            "remaining": self.remaining,
            "retry_after": self.retry_after if self.send_retry_after else "none",
            "delay": self.delay,
            "until": self.until,
            "reason": self.reason,
        }


@dataclass
class Traffic:
    """What the bot called, and the failures queued for its next calls."""

    clock: Clock = system_clock
    calls: Counter[str] = field(default_factory=Counter)
    faults: list[Fault] = field(default_factory=list)

    def take(self, path: str) -> Fault | None:
        """Consume one use of the first live fault matching `path`."""
        now = self.clock()
        self.faults[:] = [f for f in self.faults if f.until is None or f.until > now]
        for fault in self.faults:
            if path.startswith(fault.path_prefix):
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
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
    if fault.send_retry_after and (status == 429 or fault.retry_after is not None):
        # Both vendors send whole seconds.
        retry_after = 1.0 if fault.retry_after is None else fault.retry_after
        headers["Retry-After"] = str(max(0, round(retry_after)))
    body: dict[str, Any]
    if family is Family.LINKS:
        return Response(reason, status_code=status, headers=headers, media_type="text/plain")
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
        if fault.reason:
            # The shape of a quota 429 is not documented; public reports show a
            # `"reason": "QUOTA_EXCEEDED"` beside status and message, as modelled here.
            body["error"]["reason"] = fault.reason
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
