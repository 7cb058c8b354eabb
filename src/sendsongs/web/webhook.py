"""`/webhook`: Messenger's verification handshake and its signed event deliveries."""

from __future__ import annotations

import structlog
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from sendsongs.channels.messenger.webhook import (
    MalformedEvent,
    parse_webhook,
    verify_signature,
    verify_subscription,
)
from sendsongs.errors import StoreError
from sendsongs.web.bodies import NOT_STORED, read_body
from sendsongs.web.context import MessengerWebhook, bot

log = structlog.get_logger(__name__)

SIGNATURE_HEADER = "X-Hub-Signature-256"


def _configured(request: Request) -> MessengerWebhook | None:
    return bot(request).messenger


async def verify(request: Request) -> Response:
    messenger = _configured(request)
    if messenger is None:
        return PlainTextResponse("the Messenger channel is not configured", status_code=404)
    params = request.query_params
    challenge = verify_subscription(
        params.get("hub.mode"),
        params.get("hub.verify_token"),
        params.get("hub.challenge"),
        messenger.verify_token,
    )
    if challenge is None:
        return PlainTextResponse("verification failed", status_code=403)
    return PlainTextResponse(challenge)


async def receive(request: Request) -> Response:
    """Answer 200 only once the events are stored: a crash after it loses nothing,
    and Messenger redelivers whatever we did not acknowledge."""
    context = bot(request)
    if context.messenger is None:
        return PlainTextResponse("the Messenger channel is not configured", status_code=404)
    body = await read_body(request)
    if body is None:
        return PlainTextResponse("event too large", status_code=413)
    signature = request.headers.get(SIGNATURE_HEADER)
    if not signature:
        return PlainTextResponse(f"missing {SIGNATURE_HEADER}", status_code=401)
    if not verify_signature(context.messenger.app_secret, body, signature):
        log.warning("webhook_bad_signature")
        return PlainTextResponse("invalid signature", status_code=403)
    try:
        messages = parse_webhook(body, context.service.ports.clock.now())
    except MalformedEvent as error:
        return PlainTextResponse(f"malformed event: {error}", status_code=400)
    try:
        added = await context.service.conversation.accept(messages)
    except StoreError as error:
        # nothing stored and nothing acknowledged: Messenger delivers it again
        log.error("webhook_not_stored", error=str(error))
        return PlainTextResponse(NOT_STORED, status_code=503)
    log.debug("webhook_accepted", messages=len(messages), new=added)
    if messages:
        # all of them, not only the new ones: a redelivery may follow a lost hand-over
        await context.notifier.notify(messages)
    return PlainTextResponse("EVENT_RECEIVED")
