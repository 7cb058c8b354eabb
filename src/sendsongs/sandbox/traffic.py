"""Call counting and fault injection for the fake Graph and Spotify routes.

A fault is either a plain HTTP failure (`status`, or a hang) on a path prefix, worn in
the vendor's error shape, or one of Graph's named refusals (graph_errors.NAMED_ERRORS)
on the Send API. Either can be narrowed to one recipient PSID, and lasts `remaining`
calls or, with `remaining` None, until cleared. `session_invalidated` is bound to the
page token current when it was injected, so it lasts until the page gets a new token.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sendsongs.sandbox.graph_errors import (
    NAMED_ERRORS,
    UsageHeader,
    graph_error_body,
    named_error_response,
)
from sendsongs.sandbox.paths import route_path

Endpoint = Callable[[Request], Awaitable[Response]]

DEFAULT_HANG = 30.0  # seconds a "timeout" fault holds the request by default


class Family(Enum):
    """Which vendor a route imitates, so an injected fault wears its error shape."""

    GRAPH = "graph"
    ACCOUNTS = "accounts"
    WEB_API = "web_api"


SEND_API = "/{version}/me/messages"


@dataclass(frozen=True)
class Call:
    """What a fault can be narrowed by: where the call went, and for whom."""

    path: str  # relative to the sandbox, e.g. /v26.0/me/messages
    template: str  # the route's pattern, e.g. /{version}/me/messages
    family: Family
    psid: str | None = None  # the Send API recipient, or the profile asked for
    token: str | None = None  # the Graph access token the call carried


@dataclass
class Fault:
    path_prefix: str | None  # None: a named error's own routes (the Send API)
    status: int | None  # None: hang for `delay` seconds, then 504
    remaining: int | None  # None: until cleared
    retry_after: float | None = None
    delay: float = 0.0
    error: str | None = None  # a name in NAMED_ERRORS
    psid: str | None = None
    token: str | None = None
    usage_header: UsageHeader | None = None
    regain_minutes: float = 1.0

    def matches(self, call: Call) -> bool:
        if self.path_prefix is not None:
            if not call.path.startswith(self.path_prefix):
                return False
        elif self.error is not None:
            if call.family is not Family.GRAPH:
                return False
            if not NAMED_ERRORS[self.error].all_graph_calls and call.template != SEND_API:
                return False
        if self.psid is not None and call.psid != self.psid:
            return False
        return self.token is None or call.token == self.token

    def to_json(self) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "path_prefix": self.path_prefix,
            "status": "timeout" if self.status is None else self.status,
            "remaining": self.remaining,
            "retry_after": self.retry_after,
            "delay": self.delay,
        }
        if self.error is not None:
            named = NAMED_ERRORS[self.error]
            answer |= {
                "error": self.error,
                "code": named.code,
                "error_subcode": named.subcode,
                "usage_header": self.usage_header,
                "regain_minutes": self.regain_minutes,
                "bound_to_token": self.token is not None,
            }
        answer["psid"] = self.psid
        answer["until_cleared"] = self.remaining is None
        return answer


@dataclass
class Traffic:
    """What the bot called, and the failures queued for its next calls."""

    calls: Counter[str] = field(default_factory=Counter)
    faults: list[Fault] = field(default_factory=list)

    def take(self, call: Call) -> Fault | None:
        """Consume one use of the first queued fault matching `call`."""
        for fault in self.faults:
            if fault.matches(call):
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self.faults.remove(fault)
                return fault
        return None

    def reset(self) -> None:
        self.calls.clear()
        self.faults.clear()


Observer = Callable[[Request, Response], Awaitable[None]]


def api_route(
    path: str,
    endpoint: Endpoint,
    methods: list[str],
    traffic: Traffic,
    family: Family,
    *,
    page_id: str = "",
    observe: Observer | None = None,
) -> Route:
    """A vendor route whose calls are counted under `path` and which faults can hit.
    `observe` sees every response, injected or not."""

    async def guarded(request: Request) -> Response:
        traffic.calls[f"{request.method} {path}"] += 1
        fault = None
        if traffic.faults:
            fault = traffic.take(await _call(request, path, family))
        if fault is None:
            response = await endpoint(request)
        else:
            if fault.delay:
                await asyncio.sleep(fault.delay)
            response = fault_response(fault, family, page_id)
        if observe is not None:
            await observe(request, response)
        return response

    return Route(path, guarded, methods=methods)


async def _call(request: Request, template: str, family: Family) -> Call:
    if family is not Family.GRAPH:
        return Call(route_path(request), template, family)
    token = request.query_params.get("access_token")
    auth = request.headers.get("authorization", "")
    if token is None and auth[:7].lower() == "bearer ":
        token = auth[7:].strip()
    psid = request.path_params.get("psid")
    if template == SEND_API:
        try:
            body = json.loads(await request.body())
        except ValueError:
            body = None
        recipient = body.get("recipient") if isinstance(body, dict) else None
        found = recipient.get("id") if isinstance(recipient, dict) else None
        psid = str(found) if found is not None else None
    return Call(route_path(request), template, family, psid, token)


_REASONS = {
    429: "API rate limit exceeded",
    500: "Server error",
    502: "Bad gateway",
    503: "Service unavailable",
    504: "Gateway timeout",
}


def fault_response(fault: Fault, family: Family, page_id: str = "") -> Response:
    if fault.error is not None and family is Family.GRAPH:
        return named_error_response(
            fault.error,
            400 if fault.status is None else fault.status,
            page_id,
            fault.usage_header,
            fault.regain_minutes,
            fault.retry_after,
        )
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
