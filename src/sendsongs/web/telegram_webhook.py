"""`/telegram/webhook`: the Bot API's update deliveries, checked by their secret header."""

from __future__ import annotations

import structlog
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from sendsongs.channels.telegram.updates import (
    Incoming,
    MalformedUpdate,
    MemberChange,
    parse_update,
    verify_secret,
)
from sendsongs.web.bodies import read_body
from sendsongs.web.context import BotContext, TelegramWebhook, bot

log = structlog.get_logger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name


async def receive(request: Request) -> Response:
    """Answer 200 only once the update is stored: Telegram redelivers (same
    update_id) whatever was not acknowledged, and the inbox drops the repeat."""
    context = bot(request)
    telegram = context.telegram
    if telegram is None:
        return PlainTextResponse("the Telegram channel is not configured", status_code=404)
    header = request.headers.get(SECRET_HEADER)
    if header is None:
        return PlainTextResponse(f"missing {SECRET_HEADER}", status_code=401)
    if not verify_secret(telegram.secret, header):
        log.warning("telegram_webhook_bad_secret")
        return PlainTextResponse("wrong secret token", status_code=403)
    body = await read_body(request)
    if body is None:
        return PlainTextResponse("update too large", status_code=413)
    try:
        parsed = parse_update(body, context.service.ports.clock.now())
    except MalformedUpdate as error:
        # Telegram retries a non-2xx for hours; what it can't read now it never will
        log.warning("telegram_update_unreadable", error=str(error))
        return PlainTextResponse(f"ignored: {error}")
    match parsed:
        case Incoming():
            return await _accept(context, telegram, parsed)
        case MemberChange():
            return await _member_change(context, parsed)
    return PlainTextResponse("ignored")


async def _accept(context: BotContext, telegram: TelegramWebhook, incoming: Incoming) -> Response:
    added = await context.service.conversation.accept([incoming.message])
    log.debug("telegram_update_accepted", message_id=incoming.message.id, new=added)
    # even when known: a redelivery may follow a lost hand-over
    await context.notifier.notify([incoming.message])
    query = incoming.callback_query_id
    if query is None or not added:
        return PlainTextResponse("ok")
    # after the 200 is sent: the answer only stops the button's spinner
    return PlainTextResponse("ok", background=BackgroundTask(telegram.answer_press, query))


async def _member_change(context: BotContext, change: MemberChange) -> Response:
    if change.blocked:
        # nothing to store: each message to them is refused (403) and held until
        # they unblock, which Telegram announces with the opposite update
        log.info("telegram_bot_blocked", address=str(change.address))
        return PlainTextResponse("ok")
    if await context.service.conversation.reachable_again(change.address):
        await context.notifier.notify([])  # a nudge: released messages can go now
    return PlainTextResponse("ok")
