"""Telegram updates as the Bot API would deliver them to a webhook: built and posted.

Shapes: https://core.telegram.org/bots/api#update (Message, CallbackQuery,
ChatMemberUpdated); the secret header: https://core.telegram.org/bots/api#setwebhook.
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

from sendsongs.sandbox.telegram_world import BotMessage, TelegramUser, TelegramWorld

WEBHOOK_TIMEOUT = 30.0  # seconds
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
# A command: "/" and up to 32 letters, digits or underscores, maybe "@botname".
_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{1,32})?(?=\s|$)")


def utf16_length(text: str) -> int:
    """Entity offsets and lengths count UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def command_entities(text: str) -> list[dict[str, Any]]:
    """A `bot_command` entity for a leading command, as Telegram marks it."""
    match = _COMMAND.match(text)
    if match is None:
        return []
    return [{"offset": 0, "length": utf16_length(match.group()), "type": "bot_command"}]


def user_message_json(user: TelegramUser, message_id: int, text: str, date: int) -> dict[str, Any]:
    """A `Message` a person wrote in their private chat with the bot."""
    message: dict[str, Any] = {
        "message_id": message_id,
        "from": user.user_json(),
        "chat": user.chat_json(),
        "date": date,
        "text": text,
    }
    entities = command_entities(text)
    if entities:
        message["entities"] = entities
    return message


def bot_message_json(world: TelegramWorld, user: TelegramUser, sent: BotMessage) -> dict[str, Any]:
    """A `Message` the bot sent, as `sendMessage` returns it and a callback query carries."""
    message: dict[str, Any] = {
        "message_id": sent.message_id,
        "from": world.bot_json(),
        "chat": user.chat_json(),
        "date": sent.date,
        "text": sent.text,
    }
    if sent.link_preview_options:
        message["link_preview_options"] = sent.link_preview_options
    markup = sent.reply_markup or {}
    if "inline_keyboard" in markup:
        # Only an inline keyboard stays attached to the message.
        message["reply_markup"] = {"inline_keyboard": markup["inline_keyboard"]}
    return message


def message_update(update_id: int, message: dict[str, Any]) -> dict[str, Any]:
    return {"update_id": update_id, "message": message}


def callback_query_update(
    update_id: int,
    query_id: str,
    user: TelegramUser,
    message: dict[str, Any],
    chat_instance: str,
    data: str,
) -> dict[str, Any]:
    return {
        "update_id": update_id,
        "callback_query": {
            "id": query_id,
            "from": user.user_json(),
            "message": message,
            "chat_instance": chat_instance,
            "data": data,
        },
    }


def my_chat_member_update(
    update_id: int, world: TelegramWorld, user: TelegramUser, blocked: bool
) -> dict[str, Any]:
    """The bot's own membership in the private chat changing: "kicked" when the person
    blocks the bot, back to "member" when they unblock it."""
    bot = world.bot_json()
    member = {"user": bot, "status": "member"}
    kicked = {"user": bot, "status": "kicked", "until_date": 0}
    old, new = (member, kicked) if blocked else (kicked, member)
    return {
        "update_id": update_id,
        "my_chat_member": {
            "chat": user.chat_json(),
            "from": user.user_json(),
            "date": world.now(),
            "old_chat_member": old,
            "new_chat_member": new,
        },
    }


def encode(update: dict[str, Any]) -> bytes:
    return json.dumps(update, separators=(",", ":"), ensure_ascii=False).encode()


async def deliver(
    client: httpx.AsyncClient | None, url: str, body: bytes, secret_token: str | None
) -> tuple[int | None, str | None]:
    """POST the update; the webhook's status, or None and why it could not be reached."""
    headers = {"Content-Type": "application/json"}
    if secret_token:
        headers[SECRET_HEADER] = secret_token
    try:
        if client is not None:
            response = await client.post(url, content=body, headers=headers)
        else:
            async with httpx.AsyncClient(timeout=WEBHOOK_TIMEOUT) as own:
                response = await own.post(url, content=body, headers=headers)
    except httpx.HTTPError as error:
        return None, f"{type(error).__name__}: {error}"
    return response.status_code, None
