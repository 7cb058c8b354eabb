"""Plumbing shared by the `/_sandbox` control routes: JSON in, JSON errors out."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

Handler = Callable[[Request], Awaitable[Response]]


class ControlError(Exception):
    """A bad control request: answered `{"error": message}` with `status`."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def control(handler: Handler) -> Handler:
    """Turn ControlError into a JSON error response."""

    async def wrapped(request: Request) -> Response:
        try:
            return await handler(request)
        except ControlError as error:
            return JSONResponse({"error": str(error)}, status_code=error.status)

    wrapped.__name__ = handler.__name__
    return wrapped


async def read_json(request: Request) -> dict[str, Any]:
    """The request's JSON object; an empty body counts as `{}`."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise ControlError("body must be JSON") from None
    if not isinstance(body, dict):
        raise ControlError("body must be a JSON object")
    return body


def text_field(body: dict[str, Any], name: str, required: bool = False) -> str | None:
    value = body.get(name)
    if value is None or value == "":
        if required:
            raise ControlError(f"{name} is required")
        return None
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise ControlError(f"{name} must be a string")
    return str(value)


def number_field(body: dict[str, Any], name: str, default: float | None) -> float | None:
    value = body.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ControlError(f"{name} must be a number")
    return float(value)
