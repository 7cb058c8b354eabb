"""`/healthz`: is the process up and its store usable?"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse

from sendsongs.errors import StoreError
from sendsongs.web.context import bot


async def healthz(request: Request) -> JSONResponse:
    try:
        await bot(request).service.ports.store.ping()
    except StoreError as error:
        return JSONResponse({"status": "unavailable", "store": str(error)}, status_code=503)
    return JSONResponse({"status": "ok"})
