"""`/healthz`: is the process up and its store usable?"""

from __future__ import annotations

import structlog
from starlette.requests import Request
from starlette.responses import JSONResponse

from sendsongs.errors import StoreError
from sendsongs.web.context import bot

log = structlog.get_logger(__name__)


async def healthz(request: Request) -> JSONResponse:
    try:
        await bot(request).service.ports.stores.admin.ping()
    except StoreError as error:
        # the reason goes to the log only: it may name paths
        log.error("health_store_unavailable", error=str(error))
        return JSONResponse({"status": "unavailable", "store": "unavailable"}, status_code=503)
    return JSONResponse({"status": "ok"})
