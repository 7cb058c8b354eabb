"""Call counting and fault injection for the fake Graph, Spotify and Telegram routes."""

from __future__ import annotations

import asyncio
import secrets
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

from sendsongs.sandbox.paths import route_path

Endpoint = Callable[[Request], Awaitable[Response]]

DEFAULT_HANG = 30.0  # seconds a "timeout" fault holds the request by default


class Family(Enum):
    """Which vendor a route imitates, so an injected fault wears its error shape."""

    GRAPH = "graph"
    ACCOUNTS = "accounts"
    WEB_API = "web_api"
    TELEGRAM = "telegram"


@dataclass
class Fault:
    path_prefix: str
    status: int | None  # None: hang for `delay` seconds, then 504
    remaining: int | None  # None: every matching call fails until the faults are cleared
    retry_after: float | None = None
    delay: float = 0.0
    chat_id: str | None = None  # only calls addressed to this chat (Telegram's `chat_id`)
    description: str | None = None  # the error text, instead of the family's usual one
    drop: bool = False  # close the connection mid-response instead of answering

    def to_json(self) -> dict[str, Any]:
        status: int | str = "timeout" if self.status is None else self.status
        return {
            "path_prefix": self.path_prefix,
            "status": "drop" if self.drop else status,
            "remaining": self.remaining,
            "retry_after": self.retry_after,
            "delay": self.delay,
            "chat_id": self.chat_id,
            "description": self.description,
        }


@dataclass
class Traffic:
    """What the bot called, and the failures queued for its next calls."""

    calls: Counter[str] = field(default_factory=Counter)
    faults: list[Fault] = field(default_factory=list)

    def take(self, path: str, chat_id: str | None = None) -> Fault | None:
        """Consume one use of the first queued fault matching `path` (and, for a fault
        scoped to a chat, `chat_id`)."""
        for fault in self.faults:
            if not path.startswith(fault.path_prefix):
                continue
            if fault.chat_id is not None and fault.chat_id != chat_id:
                continue
            if fault.remaining is None:
                return fault
            if fault.remaining > 0:
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
        return await injected(fault, family)

    return Route(path, guarded, methods=methods)


async def injected(fault: Fault, family: Family) -> Response:
    """What a call hit by `fault` gets, after the fault's delay."""
    if fault.delay:
        await asyncio.sleep(fault.delay)
    if fault.drop:
        return DroppedConnection()
    return fault_response(fault, family)


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


def fault_response(fault: Fault, family: Family) -> Response:
    status = 504 if fault.status is None else fault.status
    if family is Family.TELEGRAM:
        return telegram_fault_response(fault, status)
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
