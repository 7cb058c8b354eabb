"""Control routes for the sandbox as a whole: faults, call counts, reset.

Under `/_sandbox` (docs/sandbox.md indexes the vendor pages, which have examples):

- `POST /faults`: an HTTP failure `{"path_prefix", "status": 400-599 | "timeout" |
  "drop", "count"?, "until_cleared"?, "duration"?, "retry_after"?, "delay"?,
  "description"?, "reason"?, "psid"?, "chat_id"?}`, or one of Graph's refusals on the
  Send API `{"error": <name in graph_errors.NAMED_ERRORS>, "psid"?, "count"? |
  "until_cleared"?, "usage_header"?: "business" | "app", "regain_minutes"?, "status"?,
  "path_prefix"?}`, or a Last.fm error `{"error": <code in lastfm.STATUSES>,
  "path_prefix"?, "status"?}` → `{"fault": {...}}`.
  How long: `count` calls (1 by default) and/or `duration` seconds (without `count`,
  every call until then; with both, whichever ends first); `"count": null` or
  `"until_cleared": true` keeps the fault until cleared. `session_invalidated` lasts,
  bound to the current page token, until cleared.
  The retry hint of a 429 (Retry-After, Telegram's `parameters.retry_after`,
  ListenBrainz's X-RateLimit-* headers): `retry_after` seconds (`0` is sent as 0), the
  vendor's usual value when absent, none at all with `"none"` or `null`. `reason`, e.g.
  `"QUOTA_EXCEEDED"`, goes into a Spotify Web API error body.
- `POST /lastfm/faults`: Last.fm's shorthand, `{"error": <code>, "method"?, ...}`
  (lastfm.shorthand_fault), otherwise as above
- `GET /faults` → `{"faults": [...]}` (the live ones); `DELETE /faults` clears them all
- `GET /stats` → `{"calls": {"METHOD /route/template": n}}`, faulted calls included
- `POST /reset`: back to an empty world with the configured settings
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sendsongs.sandbox.control_io import (
    ControlError,
    control,
    number_field,
    read_json,
    text_field,
)
from sendsongs.sandbox.graph_errors import NAMED_ERRORS
from sendsongs.sandbox.lastfm import PATH as LASTFM_PATH
from sendsongs.sandbox.lastfm import STATUSES as LASTFM_STATUSES
from sendsongs.sandbox.lastfm import shorthand_fault
from sendsongs.sandbox.traffic import DEFAULT_HANG, Fault, Traffic


class SandboxControl:
    """`/_sandbox/faults` (and Last.fm's shorthand for it), `/_sandbox/stats` and
    `/_sandbox/reset` handlers."""

    def __init__(
        self, traffic: Traffic, reset: Callable[[], None], page_token: Callable[[], str]
    ) -> None:
        self.traffic = traffic
        self.reset_world = reset
        self.page_token = page_token

    def routes(self) -> list[Route]:
        return [
            Route("/faults", control(self.list_faults), methods=["GET"]),
            Route("/faults", control(self.add_fault), methods=["POST"]),
            Route("/faults", control(self.clear_faults), methods=["DELETE"]),
            Route("/lastfm/faults", control(self.add_lastfm_fault), methods=["POST"]),
            Route("/stats", control(self.stats), methods=["GET"]),
            Route("/reset", control(self.reset), methods=["POST"]),
        ]

    async def list_faults(self, request: Request) -> Response:
        return JSONResponse({"faults": [f.to_json() for f in self.traffic.live()]})

    async def add_fault(self, request: Request) -> Response:
        return self.queue(self.parse(await read_json(request)))

    async def add_lastfm_fault(self, request: Request) -> Response:
        return self.queue(self.parse(shorthand_fault(await read_json(request))))

    def parse(self, body: dict[str, Any]) -> Fault:
        return parse_fault(body, self.page_token, self.traffic.clock())

    def queue(self, fault: Fault) -> Response:
        self.traffic.faults.append(fault)
        return JSONResponse({"fault": fault.to_json()})

    async def clear_faults(self, request: Request) -> Response:
        self.traffic.faults.clear()
        return JSONResponse({"faults": []})

    async def stats(self, request: Request) -> Response:
        return JSONResponse({"calls": dict(sorted(self.traffic.calls.items()))})

    async def reset(self, request: Request) -> Response:
        self.reset_world()
        return JSONResponse({"reset": True})


def parse_fault(body: dict[str, Any], page_token: Callable[[], str], now: float) -> Fault:
    """The fault a `POST /_sandbox/faults` body asks for; `page_token` gives the Page's
    current token, which an invalidated session is bound to; `now` (unix seconds) is
    when a `duration` starts."""
    error, lastfm_error = _vendor_error(body)
    prefix = body.get("path_prefix")
    if prefix is None and lastfm_error is not None:
        prefix = LASTFM_PATH
    if not (prefix is None and error is not None) and (
        not isinstance(prefix, str) or not prefix.startswith("/")
    ):
        raise ControlError("path_prefix must be a path starting with /")
    status = _status(body, error, lastfm_error)
    duration = number_field(body, "duration", None)
    if duration is not None and duration <= 0:
        raise ControlError("duration must be a positive number of seconds")
    remaining = _remaining(body, error, duration is not None)
    hang = body.get("status") == "timeout"
    delay = number_field(body, "delay", DEFAULT_HANG if hang else 0.0) or 0.0
    usage = body.get("usage_header")
    if usage not in (None, "business", "app"):
        raise ControlError('usage_header must be "business", "app" or null')
    regain = number_field(body, "regain_minutes", 1.0)
    if regain is None or regain < 0:
        raise ControlError("regain_minutes must be a number of minutes, 0 or more")
    send_retry_after, retry_after = _retry_after(body)
    reason = body.get("reason")
    if reason is not None and not isinstance(reason, str):
        raise ControlError("reason must be a string")
    return Fault(
        prefix,
        status,
        remaining,
        retry_after,
        delay,
        error=error,
        psid=text_field(body, "psid"),
        # The password change kills the token in use now; a new one is unaffected.
        token=page_token() if error == "session_invalidated" else None,
        usage_header=usage,
        regain_minutes=regain,
        chat_id=text_field(body, "chat_id"),
        description=text_field(body, "description"),
        drop=body.get("status") == "drop",
        lastfm_error=lastfm_error,
        until=None if duration is None else now + duration,
        send_retry_after=send_retry_after,
        reason=reason,
    )


def _vendor_error(body: dict[str, Any]) -> tuple[str | None, int | None]:
    """`error`: a Graph error's name, or a Last.fm error code."""
    error = body.get("error")
    if error is None:
        return None, None
    if isinstance(error, str) and error in NAMED_ERRORS:
        return error, None
    if isinstance(error, int) and not isinstance(error, bool) and error in LASTFM_STATUSES:
        return None, error
    raise ControlError(
        "error must be one of "
        + ", ".join(NAMED_ERRORS)
        + f" (Graph) or one of the Last.fm codes {sorted(LASTFM_STATUSES)}"
    )


def _status(body: dict[str, Any], error: str | None, lastfm_error: int | None) -> int | None:
    raw = body.get("status")
    if raw is None and error is not None:
        return 400  # Graph answers its refusals, throttling included, with 400
    if raw is None and lastfm_error is not None:
        return LASTFM_STATUSES[lastfm_error]
    if raw in ("timeout", "drop") and error is None and lastfm_error is None:
        return None
    if isinstance(raw, int) and not isinstance(raw, bool) and 400 <= raw <= 599:
        return raw
    raise ControlError('status must be an HTTP error status (400-599), "timeout" or "drop"')


def _remaining(body: dict[str, Any], error: str | None, timed: bool) -> int | None:
    """How many calls the fault answers; None: until cleared, asked for with
    `"until_cleared": true` or `"count": null` (the default for an invalidated
    session, which only a new token ends), or, for a `timed` fault (one with a
    `duration`) without a count, every call until its time is up."""
    count = body.get("count", 1)
    until_cleared = body.get(
        "until_cleared",
        count is None or (error == "session_invalidated" and "count" not in body),
    )
    if not isinstance(until_cleared, bool):
        raise ControlError("until_cleared must be true or false")
    if timed and body.get("until_cleared") is True:
        raise ControlError("a fault with a duration cannot also last until cleared")
    if until_cleared or (timed and "count" not in body):
        return None
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise ControlError("count must be a positive integer, or null for until cleared")
    return count


def _retry_after(body: dict[str, Any]) -> tuple[bool, float | None]:
    """Whether a 429 carries a retry hint, and its seconds (None: the vendor's usual).
    Absent: the usual hint; `null` or `"none"`: no hint at all."""
    if "retry_after" in body and body["retry_after"] in (None, "none"):
        return False, None
    seconds = number_field(body, "retry_after", None)
    if seconds is not None and seconds < 0:
        raise ControlError('retry_after must be zero or more seconds, or "none"')
    return True, seconds
