"""Call counting and fault injection for every vendor route the sandbox fakes.

A fault is either a plain HTTP failure (`status`, a hang, or a dropped connection) on a
path prefix, worn in the vendor's error shape, or a vendor's own refusal: one of Graph's
named errors (graph_errors.NAMED_ERRORS) on the Send API, or a Last.fm error code.
Either can be narrowed to one recipient: a Messenger PSID or a Telegram `chat_id`. It
lasts `remaining` calls and/or until `until` (unix seconds, from a `duration`), or, with
neither, until cleared. `session_invalidated` is bound to the page token current when it
was injected, so it lasts until the page gets a new token.

A 429 carries the vendor's retry hint (Retry-After, Telegram's `parameters.retry_after`,
ListenBrainz's X-RateLimit-* headers): `retry_after` seconds when given (`0` is honoured
as 0), the vendor's usual value otherwise, or none at all when `send_retry_after` is
off. A `reason` (e.g. Spotify's `QUOTA_EXCEEDED`) goes into a Web API error body.
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

from sendsongs.sandbox.clock import Clock, system_clock
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
    LINKS = "links"  # the short-link hosts: plain text, not JSON


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
    remaining: int | None  # None: every matching call fails until `until` or cleared
    retry_after: float | None = None  # None: the vendor's usual hint (1 s on a 429)
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
    until: float | None = None  # unix seconds after which the fault is gone
    send_retry_after: bool = True  # False: the response carries no retry hint at all
    reason: str | None = None  # e.g. "QUOTA_EXCEEDED", put in a Web API error body

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

    def hint(self, usual: float = 1.0) -> int | None:
        """The retry hint in whole seconds: `retry_after` if given, else `usual`; None
        when the fault sends none."""
        if not self.send_retry_after:
            return None
        return max(0, round(usual if self.retry_after is None else self.retry_after))

    def to_json(self) -> dict[str, Any]:
        status: int | str = "timeout" if self.status is None else self.status
        answer: dict[str, Any] = {
            "path_prefix": self.path_prefix,
            "status": "drop" if self.drop else status,
            "remaining": self.remaining,
            "retry_after": self.retry_after if self.send_retry_after else "none",
            "delay": self.delay,
            "description": self.description,
            "until": self.until,
            "reason": self.reason,
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
        answer["until_cleared"] = self.remaining is None and self.until is None
        return answer


@dataclass
class Traffic:
    """What the bot called, and the failures queued for its next calls."""

    clock: Clock = system_clock
    calls: Counter[str] = field(default_factory=Counter)
    faults: list[Fault] = field(default_factory=list)

    def take(self, call: Call) -> Fault | None:
        """Consume one use of the first live fault matching `call`; faults past their
        `until` are dropped first."""
        for fault in self.live():
            if fault.matches(call):
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self.faults.remove(fault)
                return fault
        return None

    def live(self) -> list[Fault]:
        """The queued faults, without those past their `until`."""
        now = self.clock()
        self.faults[:] = [f for f in self.faults if f.until is None or f.until > now]
        return self.faults

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
            fault.retry_after if fault.send_retry_after else None,
        )
    status = 504 if fault.status is None else fault.status
    if family is Family.TELEGRAM:
        return telegram_fault_response(fault, status)
    reason = fault.description or _REASONS.get(status, "Injected failure")
    headers: dict[str, str] = {}
    hint = fault.hint()
    if hint is not None and (status == 429 or fault.retry_after is not None):
        headers["Retry-After"] = str(hint)  # whole seconds, as the vendors send
    body: dict[str, Any]
    if family is Family.LINKS:
        return Response(reason, status_code=status, headers=headers, media_type="text/plain")
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
        if fault.reason and family is Family.WEB_API:
            # The shape of a quota 429 is not documented; public reports show a
            # `"reason": "QUOTA_EXCEEDED"` beside status and message, as modelled here.
            body["error"]["reason"] = fault.reason
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
    `parameters.retry_after` in whole seconds (unless the fault sends no hint) and no
    Retry-After header, as Telegram's."""
    body: dict[str, Any] = {"ok": False, "error_code": status}
    if status == 429:
        retry_after = fault.hint()
        if retry_after is None:
            body["description"] = fault.description or "Too Many Requests"
        else:
            body["description"] = (
                fault.description or f"Too Many Requests: retry after {retry_after}"
            )
            body["parameters"] = {"retry_after": retry_after}
    else:
        body["description"] = fault.description or _TELEGRAM_DESCRIPTIONS.get(
            status, "Internal Server Error"
        )
    return JSONResponse(body, status_code=status)
