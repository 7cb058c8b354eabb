"""`/healthz`: is the process up and its store usable?"""

from __future__ import annotations

import structlog
from starlette.requests import Request
from starlette.responses import JSONResponse

from sendsongs.errors import StoreError
from sendsongs.web.context import bot

log = structlog.get_logger(__name__)


async def healthz(request: Request) -> JSONResponse:
    """200 `{"status": "ok"}` when the store answers and no channel refuses the bot;
    503 otherwise, naming what fails (`store`, `channels`) but never why: reasons
    may carry paths or tokens, so they go to the log only."""
    service = bot(request).service
    body: dict[str, object] = {"status": "ok"}
    try:
        await service.ports.stores.admin.ping()
    except StoreError as error:
        log.error("health_store_unavailable", error=str(error))
        body.update(status="unavailable", store="unavailable")
    failing = service.delivery.failing_channels
    if failing:
        body.update(status="unavailable", channels=dict.fromkeys(sorted(failing), "failing"))
    return JSONResponse(body, status_code=200 if body["status"] == "ok" else 503)
