"""Control routes for the sandbox as a whole: faults, call counts, reset.

- `GET /_sandbox/faults` lists the live faults; `DELETE /_sandbox/faults` clears them.
- `POST /_sandbox/faults` queues one:
  `{"path_prefix": "/v1/", "status": 429, "retry_after": 0, "duration": 10}`.
  `status` is an HTTP error status or `"timeout"` (hang `delay` seconds, then 504);
  `count` (calls, default 1) and/or `duration` (seconds; without `count` the fault hits
  every call until then); `retry_after` seconds, or `"none"`/`null` to send no
  `Retry-After` header at all (a 429 gets `1` when the field is absent); `reason`, e.g.
  `"QUOTA_EXCEEDED"`, goes into the Web API error body; `delay` seconds before answering.
- `GET /_sandbox/stats`: `{"calls": {"GET /v1/me/player/recently-played": 3, ...}}`,
  counted per route template, faulted calls included.
- `POST /_sandbox/reset`: back to an empty world with the configured settings.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sendsongs.sandbox.control_io import ControlError, control, number_field, read_json
from sendsongs.sandbox.traffic import DEFAULT_HANG, Fault, Traffic


class SandboxControl:
    """`/_sandbox/faults`, `/_sandbox/stats` and `/_sandbox/reset` handlers."""

    def __init__(self, traffic: Traffic, reset: Callable[[], None]) -> None:
        self.traffic = traffic
        self.reset_world = reset

    def routes(self) -> list[Route]:
        return [
            Route("/faults", control(self.list_faults), methods=["GET"]),
            Route("/faults", control(self.add_fault), methods=["POST"]),
            Route("/faults", control(self.clear_faults), methods=["DELETE"]),
            Route("/stats", control(self.stats), methods=["GET"]),
            Route("/reset", control(self.reset), methods=["POST"]),
        ]

    async def list_faults(self, request: Request) -> Response:
        return JSONResponse({"faults": [f.to_json() for f in self.traffic.faults]})

    async def add_fault(self, request: Request) -> Response:
        body = await read_json(request)
        prefix = body.get("path_prefix")
        if not isinstance(prefix, str) or not prefix.startswith("/"):
            raise ControlError("path_prefix must be a path starting with /")
        raw_status = body.get("status")
        status: int | None
        if raw_status == "timeout":
            status = None
        elif (
            isinstance(raw_status, int)
            and not isinstance(raw_status, bool)
            and (400 <= raw_status <= 599)
        ):
            status = raw_status
        else:
            raise ControlError('status must be an HTTP error status (400-599) or "timeout"')
        duration = number_field(body, "duration", None)
        if duration is not None and duration <= 0:
            raise ControlError("duration must be a positive number of seconds")
        count = body.get("count", None if duration is not None else 1)
        if count is not None and (
            not isinstance(count, int) or isinstance(count, bool) or count < 1
        ):
            raise ControlError("count must be a positive integer")
        delay = number_field(body, "delay", DEFAULT_HANG if status is None else 0.0) or 0.0
        # Absent: the default header; null or "none": no header at all.
        send_retry_after = "retry_after" not in body or body["retry_after"] not in (None, "none")
        retry_after = number_field(body, "retry_after", None) if send_retry_after else None
        if retry_after is not None and retry_after < 0:
            raise ControlError("retry_after must be zero or more seconds")
        reason = body.get("reason")
        if reason is not None and not isinstance(reason, str):
            raise ControlError("reason must be a string")
        fault = Fault(
            prefix,
            status,
            count,
            retry_after,
            delay,
            until=None if duration is None else self.traffic.clock() + duration,
            send_retry_after=send_retry_after,
            reason=reason,
        )
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
