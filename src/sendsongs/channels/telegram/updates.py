"""Telegram webhook intake: the secret header check and update parsing (no I/O).

Updates are read with python-telegram-bot's `Update.de_json`, so the field names,
optional fields and nesting are the library's, which follows the Bot API
(https://core.telegram.org/bots/api#update); only what Send Songs uses is kept.
"""

from __future__ import annotations

import dataclasses
import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from telegram import CallbackQuery, ChatMemberUpdated, Message, Update, User
from telegram.constants import ChatMemberStatus, ChatType, MessageEntityType

from sendsongs.channels.telegram.slash import from_slash
from sendsongs.domain.models import Address, IncomingMessage
from sendsongs.domain.text import mend_surrogates

CHANNEL = "telegram"
# The update types the bot handles; setWebhook's `allowed_updates`, so Telegram
# does not post the others at all.
HANDLED_UPDATES = ("message", "edited_message", "callback_query", "my_chat_member")
_LINK_ENTITIES = (MessageEntityType.URL, MessageEntityType.TEXT_LINK)


class MalformedUpdate(ValueError):
    """The body is not JSON, or not an update Telegram would send."""


@dataclass(frozen=True)
class Incoming:
    """A message or a button press to store in the inbox. `callback_query_id` is
    set for a press: Telegram's button spins until it is answered."""

    message: IncomingMessage
    callback_query_id: str | None = None


@dataclass(frozen=True)
class MemberChange:
    """The person blocked (`kicked`) or unblocked (`member`) the bot."""

    address: Address
    blocked: bool


Parsed = Incoming | MemberChange | None  # None: an update the bot has no use for


def verify_secret(expected: str, header: str | None) -> bool:
    """True when `X-Telegram-Bot-Api-Secret-Token` equals the `secret_token` given
    to setWebhook (compared in constant time)."""
    if not expected or header is None:
        return False
    return hmac.compare_digest(header.encode(), expected.encode())


def parse_update(body: bytes, received_at: datetime) -> Parsed:
    """What one update means for the bot.

    Private-chat text messages and button presses become IncomingMessages with id
    `telegram:<update_id>` (Telegram redelivers with the same id, so the inbox drops
    repeats) and sender `telegram:<chat id>`. Other chats, other update types and
    messages without text are None. MalformedUpdate if the body is not an update.
    """
    update = _update(body)
    try:
        return _meaning(update, received_at)
    except MalformedUpdate:
        raise
    # de_json checks no field's type: a number where text belongs reaches us as is,
    # and what reads it fails the way a wrong type makes it fail
    except (AttributeError, TypeError, ValueError, KeyError, IndexError) as exc:
        raise MalformedUpdate(f"not a Bot API update ({type(exc).__name__})") from exc


def _meaning(update: Update, received_at: datetime) -> Parsed:
    if update.message is not None:
        return _from_message(update.update_id, update.message, received_at)
    if update.edited_message is not None:
        # answered, never acted on: a share or a sign-up must not happen twice
        edit = _from_message(update.update_id, update.edited_message, received_at)
        return None if edit is None else Incoming(dataclasses.replace(edit.message, edited=True))
    if update.callback_query is not None:
        return _from_press(update.update_id, update.callback_query, received_at)
    if update.my_chat_member is not None:
        return _member_change(update.my_chat_member)
    return None  # channel posts, inline queries …: nothing to answer


def update_object(body: bytes) -> dict[str, Any]:
    """The JSON object of an update, checked only for an integer `update_id` (no
    python-telegram-bot: the webhook calls this before it stores the update).
    MalformedUpdate if the body is not JSON, not an object or has no such id."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise MalformedUpdate("body is not JSON") from exc
    if not isinstance(data, dict):
        raise MalformedUpdate("an update is a JSON object")
    update_id = data.get("update_id")
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        raise MalformedUpdate("update_id is missing or not an integer")
    return data


def _update(body: bytes) -> Update:
    data = update_object(body)
    update_id = data["update_id"]
    # Only the handled types are read: a type this library does not know yet (the
    # Bot API grows) or one we ignore can't make a good update unreadable.
    handled = {key: data[key] for key in HANDLED_UPDATES if key in data}
    try:
        return Update.de_json({"update_id": update_id, **handled})
    # de_json raises whatever a wrong shape leads it to (TypeError for a missing
    # field, KeyError, AttributeError for a string where an object belongs)
    except Exception as exc:
        raise MalformedUpdate(f"not a Bot API update ({type(exc).__name__})") from exc


def _from_message(update_id: int, message: Message, received_at: datetime) -> Incoming | None:
    if message.chat.type != ChatType.PRIVATE or message.from_user is None:
        return None  # the bot answers people one to one, not groups or channels
    text = _text(message.text, "text") or _text(message.caption, "caption") or ""
    name = _name(message.from_user)
    return Incoming(
        IncomingMessage(
            id=f"{CHANNEL}:{update_id}",
            sender=Address(CHANNEL, _id(message.chat.id, "chat.id")),
            received_at=received_at,
            text=from_slash(text, name) if message.text else text,
            attachments=_links(message),
            profile_name=name,
        )
    )


def _from_press(update_id: int, query: CallbackQuery, received_at: datetime) -> Incoming | None:
    chat = query.message.chat if query.message is not None else None
    if chat is not None and chat.type != ChatType.PRIVATE:
        return None
    # in a private chat the chat id is the user's id
    chat_id = chat.id if chat is not None else query.from_user.id
    query_id = _text(query.id, "callback_query.id")
    if not query_id:
        raise MalformedUpdate("callback_query.id is missing")
    return Incoming(
        IncomingMessage(
            id=f"{CHANNEL}:{update_id}",
            sender=Address(CHANNEL, _id(chat_id, "chat.id")),
            received_at=received_at,
            text=_button_text(query),
            payload=_text(query.data, "callback_query.data"),
            profile_name=_name(query.from_user),
        ),
        callback_query_id=query_id,
    )


def _member_change(change: ChatMemberUpdated) -> MemberChange | None:
    if change.chat.type != ChatType.PRIVATE:
        return None
    status = change.new_chat_member.status
    if status == ChatMemberStatus.BANNED:  # "kicked": the person blocked the bot
        return MemberChange(Address(CHANNEL, _id(change.chat.id, "chat.id")), blocked=True)
    if status == ChatMemberStatus.MEMBER:
        return MemberChange(Address(CHANNEL, _id(change.chat.id, "chat.id")), blocked=False)
    return None


def _name(user: User) -> str | None:
    parts = (_text(user.first_name, "first_name"), _text(user.last_name, "last_name"))
    name = " ".join(" ".join(part for part in parts if part).split())
    return name or None


def _text(value: object, field: str) -> str | None:
    """A text field as the Bot API types it (String, maybe absent), with a lone
    half of a surrogate pair (JSON can escape one) replaced by U+FFFD."""
    if value is None:
        return None
    if isinstance(value, str):
        return mend_surrogates(value)
    raise MalformedUpdate(f"{field} is not a string")


def _id(value: object, field: str) -> str:
    """A chat or user id (Integer) as an address id."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise MalformedUpdate(f"{field} is not an integer")


def _button_text(query: CallbackQuery) -> str:
    """The label of the pressed button, so a button we no longer know is read by
    what the person saw on it."""
    message = query.message
    markup = getattr(message, "reply_markup", None)
    for row in getattr(markup, "inline_keyboard", ()):
        for button in row:
            if button.callback_data == query.data and isinstance(button.text, str):
                return mend_surrogates(button.text)
    return ""


def _links(message: Message) -> tuple[str, ...]:
    """Links in the text, including those hidden behind words (text_link)."""
    found: list[str] = []
    entities = message.parse_entities(list(_LINK_ENTITIES)) or message.parse_caption_entities(
        list(_LINK_ENTITIES)
    )
    for entity, shown in entities.items():
        url = entity.url if entity.type == MessageEntityType.TEXT_LINK else shown
        if url and isinstance(url, str) and url not in found:
            found.append(url)
    return tuple(found)
