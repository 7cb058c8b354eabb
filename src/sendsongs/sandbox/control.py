"""Control routes for the sandbox as a whole: faults, call counts, reset."""

from __future__ import annotations

from collections.abc import Callable

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
        if raw_status in ("timeout", "drop"):
            status = None
        elif (
            isinstance(raw_status, int)
            and not isinstance(raw_status, bool)
            and (400 <= raw_status <= 599)
        ):
            status = raw_status
        else:
            raise ControlError('status must be an HTTP error status (400-599), "timeout" or "drop"')
        count = body.get("count", 1)
        if count is not None and (
            not isinstance(count, int) or isinstance(count, bool) or count < 1
        ):
            raise ControlError("count must be a positive integer, or null for until cleared")
        hang = raw_status == "timeout"
        delay = number_field(body, "delay", DEFAULT_HANG if hang else 0.0) or 0.0
        fault = Fault(
            prefix,
            status,
            count,
            number_field(body, "retry_after", None),
            delay,
            chat_id=text_field(body, "chat_id"),
            description=text_field(body, "description"),
            drop=raw_status == "drop",
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
