"""`/telegram/webhook`: the Bot API's update deliveries, checked by their secret header
and stored unread (the worker reads them: channels/telegram/reader.py)."""

from __future__ import annotations

import json
from typing import Any

import structlog
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from sendsongs.channels.telegram.updates import (
    CHANNEL,
    HANDLED_UPDATES,
    MalformedUpdate,
    update_object,
    verify_secret,
)
from sendsongs.domain.models import Address, IncomingMessage
from sendsongs.errors import StoreError
from sendsongs.ports import Clock
from sendsongs.web.bodies import NOT_STORED, read_body
from sendsongs.web.context import bot

log = structlog.get_logger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
_STORED_KEYS = frozenset(("update_id", *HANDLED_UPDATES))


async def receive(request: Request) -> Response:
    """Answer 200 only once the update is stored: Telegram redelivers (same
    update_id) whatever was not acknowledged, and the inbox drops the repeat.

    The update is stored as sent, not read: reading it with python-telegram-bot
    costs more than the rest of the intake, and what is stored is never lost to a
    reading mistake. The worker reads it just before handling it."""
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
        message = _unread(body, context.service.ports.clock)
    except MalformedUpdate as error:
        # Telegram retries a non-2xx for hours; what it can't read now it never will
        log.warning("telegram_update_unreadable", error=str(error))
        return PlainTextResponse(f"ignored: {error}")
    if message is None:
        return PlainTextResponse("ignored")
    try:
        added = await context.service.conversation.accept([message])
    except StoreError as error:
        # nothing stored and nothing acknowledged: Telegram delivers it again
        log.error("telegram_update_not_stored", error=str(error))
        return PlainTextResponse(NOT_STORED, status_code=503)
    log.debug("telegram_update_accepted", message_id=message.id, new=added)
    # even when known: a redelivery may follow a lost hand-over
    await context.notifier.notify([message])
    return PlainTextResponse("ok")


def _unread(body: bytes, clock: Clock) -> IncomingMessage | None:
    """The inbox row for an update: id `telegram:<update_id>`, the update's JSON
    kept for the worker, the chat as its sender when it can be seen at a glance.
    None for an update of a type the bot does not handle (setWebhook's
    allowed_updates keeps those away anyway)."""
    data = update_object(body)
    update_id = data["update_id"]
    if not any(key in data for key in HANDLED_UPDATES):
        return None
    return IncomingMessage(
        id=f"{CHANNEL}:{update_id}",
        sender=_chat(data),
        received_at=clock.now(),
        unread=_as_sent(body, data),
    )


# Where an update's chat id sits, per update type (https://core.telegram.org/bots/api#update)
_CHAT_PATHS = (
    ("message", "chat", "id"),
    ("edited_message", "chat", "id"),
    ("callback_query", "message", "chat", "id"),
    ("callback_query", "from", "id"),  # a press on an old message: the user's id is the chat's
    ("my_chat_member", "chat", "id"),
)


def _chat(data: dict[str, Any]) -> Address:
    """The chat an update belongs to, as far as a few look-ups can tell, else an
    unknown sender. Only a routing key: on AWS the inbox queue keeps each sender's
    messages in order and lets different senders' go side by side. The worker's
    reading of the update decides the sender it is answered as."""
    for path in _CHAT_PATHS:
        value: Any = data
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if isinstance(value, int) and not isinstance(value, bool):
            return Address(CHANNEL, str(value))
    return Address.unknown(CHANNEL)


def _as_sent(body: bytes, data: dict[str, Any]) -> str:
    """The update's JSON text: the body itself, as Telegram sends only the allowed
    update types; written anew, with the handled keys only, if it holds more."""
    if _STORED_KEYS.issuperset(data):
        try:
            return body.decode()
        except UnicodeDecodeError:
            pass  # JSON in UTF-16 or UTF-32, which json.loads also reads
    return json.dumps({key: data[key] for key in _STORED_KEYS if key in data})
