"""`/messenger/data-deletion`: Facebook's Data Deletion Request Callback and the
status page its answer points to."""

from __future__ import annotations

from urllib.parse import urlencode

import structlog
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from sendsongs.channels.messenger.deletion import BadSignedRequest, read_signed_request
from sendsongs.domain.models import Address
from sendsongs.web.context import bot
from sendsongs.web.pages import page

log = structlog.get_logger(__name__)

PATH = "/messenger/data-deletion"
MAX_BODY = 16 * 1024  # a signed_request is a few hundred bytes


async def request_deletion(request: Request) -> Response:
    """Verify the signed request, erase the person, answer with the status page's
    url and a confirmation code (Meta shows both to the person). A malformed,
    forged or expired request gets 400 and erases nothing."""
    context = bot(request)
    if context.messenger is None:
        return PlainTextResponse("the Messenger channel is not configured", status_code=404)
    if int(request.headers.get("content-length") or 0) > MAX_BODY:
        return JSONResponse({"error": "request too large"}, status_code=413)
    form = await request.form(max_files=0, max_fields=8)
    signed = form.get("signed_request")
    if not isinstance(signed, str) or not signed:
        return JSONResponse({"error": "signed_request is missing"}, status_code=400)
    service = context.service
    try:
        asked = read_signed_request(signed, context.messenger.app_secret, service.ports.clock.now())
    except BadSignedRequest as error:
        log.warning("data_deletion_refused", reason=str(error))
        return JSONResponse({"error": f"invalid signed_request: {error}"}, status_code=400)
    code = await service.forgetting.on_request(Address("messenger", asked.user_id))
    url = f"{service.public_url}{PATH}?{urlencode({'code': code})}"
    log.info("data_deletion_done")
    return JSONResponse({"url": url, "confirmation_code": code})


async def deletion_status(request: Request) -> Response:
    code = request.query_params.get("code", "").strip()
    if not code:
        return page(request, "deletion.html", 400, code="(none)", erased_at=None)
    erased_at = await bot(request).service.forgetting.erased_at(code[:64])
    if erased_at is None:
        return page(request, "deletion.html", 404, code=code[:64], erased_at=None)
    shown = f"{erased_at:%d %B %Y at %H:%M}"
    return page(request, "deletion.html", code=code, erased_at=shown)
