"""Call counting and fault injection for every vendor route the sandbox fakes.

A fault is either a plain HTTP failure (`status`, a hang, or a dropped connection) on a
path prefix, worn in the vendor's error shape, or a vendor's own refusal: one of Graph's
named errors (graph_errors.NAMED_ERRORS) on the Send API, or a Last.fm error code.
Either can be narrowed to one recipient: a Messenger PSID or a Telegram `chat_id`; it
lasts `remaining` calls or, with `remaining` None, until cleared. `session_invalidated`
is bound to the page token current when it was injected, so it lasts until the page
gets a new token.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

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
    TELEGRAM = "telegram"
    LISTENBRAINZ = "listenbrainz"
    LASTFM = "lastfm"


SEND_API = "/{version}/me/messages"


@dataclass(frozen=True)
class Call:
    """What a fault can be narrowed by: where the call went, and for whom."""

    path: str  # relative to the sandbox, e.g. /v26.0/me/messages
    template: str  # the route's pattern, e.g. /{version}/me/messages
    family: Family
    psid: str | None = None  # the Send API recipient, or the profile asked for
    token: str | None = None  # the Graph access token the call carried
    chat_id: str | None = None  # the Telegram chat the call addresses


@dataclass
class Fault:
    path_prefix: str | None  # None: a named error's own routes (the Send API)
    status: int | None  # None: hang for `delay` seconds, then 504 (or drop, below)
    remaining: int | None  # None: every matching call fails until the faults are cleared
    retry_after: float | None = None
    delay: float = 0.0
    error: str | None = None  # a name in NAMED_ERRORS
    psid: str | None = None  # only Graph calls for this recipient
    token: str | None = None  # only Graph calls carrying this access token
    usage_header: UsageHeader | None = None
    regain_minutes: float = 1.0
    chat_id: str | None = None  # only calls addressed to this chat (Telegram's `chat_id`)
    description: str | None = None  # the error text, instead of the family's usual one
    drop: bool = False  # close the connection mid-response instead of answering
    lastfm_error: int | None = None  # a Last.fm error code (lastfm.STATUSES)

    def matches(self, call: Call) -> bool:
        if self.path_prefix is not None:
            if not call.path.startswith(self.path_prefix):
                return False
        elif self.error is not None and (
            not NAMED_ERRORS[self.error].all_graph_calls and call.template != SEND_API
        ):
            return False
        if self.error is not None and call.family is not Family.GRAPH:
            return False  # Graph's refusals have no meaning elsewhere
        if self.lastfm_error is not None and call.family is not Family.LASTFM:
            return False
        if self.psid is not None and call.psid != self.psid:
            return False
        if self.chat_id is not None and call.chat_id != self.chat_id:
            return False
        return self.token is None or call.token == self.token

    def to_json(self) -> dict[str, Any]:
        status: int | str = "timeout" if self.status is None else self.status
        answer: dict[str, Any] = {
            "path_prefix": self.path_prefix,
            "status": "drop" if self.drop else status,
            "remaining": self.remaining,
            "retry_after": self.retry_after,
            "delay": self.delay,
            "description": self.description,
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
        if self.lastfm_error is not None:
            answer["error"] = self.lastfm_error
        answer["psid"] = self.psid
        answer["chat_id"] = self.chat_id
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
            response = await injected(fault, family, page_id)
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


async def injected(
    fault: Fault,
    family: Family,
    page_id: str = "",
    shape: Callable[[Fault], Response] | None = None,
) -> Response:
    """What a call hit by `fault` gets, after the fault's delay: a dropped connection,
    or the error in the vendor's shape (`shape`, for vendors whose errors depend on
    their own state, else fault_response)."""
    if fault.delay:
        await asyncio.sleep(fault.delay)
    if fault.drop:
        return DroppedConnection()
    if shape is not None:
        return shape(fault)
    return fault_response(fault, family, page_id)


class DroppedConnection(Response):
    """Starts a response, then fails: a real server (uvicorn) closes the socket and the
    client sees the connection end mid-response, as when a proxy in front of the API
    resets it. In process, over httpx.ASGITransport, the same error reaches the caller
    directly, so a client sees an httpx.RemoteProtocolError either way."""

    def __init__(self) -> None:
        super().__init__(status_code=200)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = [(b"content-type", b"application/json"), (b"content-length", b"64")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        raise httpx.RemoteProtocolError(
            "peer closed connection without sending complete message body (injected fault)"
        )


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
    if family is Family.TELEGRAM:
        return telegram_fault_response(fault, status)
    reason = fault.description or _REASONS.get(status, "Injected failure")
    headers: dict[str, str] = {}
    if status == 429 or fault.retry_after is not None:
        # Both vendors send whole seconds; a 429 without the header would not be faithful.
        headers["Retry-After"] = str(max(0, round(fault.retry_after or 1)))
    body: dict[str, Any]
    if family is Family.GRAPH:
        code = 4 if status == 429 else 2
        message = fault.description or (
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


# What the Bot API answers for each status, as observed from api.telegram.org:
# https://core.telegram.org/bots/api#making-requests (the `ok`/`error_code`/`description`
# shape) and the error texts bots meet in practice.
_TELEGRAM_DESCRIPTIONS = {
    400: "Bad Request: chat not found",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: can't use getUpdates method while webhook is active",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def telegram_fault_response(fault: Fault, status: int) -> Response:
    """`{"ok": false, "error_code", "description"}`; a 429 carries
    `parameters.retry_after` in whole seconds and no Retry-After header, as Telegram's."""
    body: dict[str, Any] = {"ok": False, "error_code": status}
    if status == 429:
        retry_after = max(1, round(fault.retry_after or 1))
        body["description"] = fault.description or f"Too Many Requests: retry after {retry_after}"
        body["parameters"] = {"retry_after": retry_after}
    else:
        body["description"] = fault.description or _TELEGRAM_DESCRIPTIONS.get(
            status, "Internal Server Error"
        )
    return JSONResponse(body, status_code=status)
