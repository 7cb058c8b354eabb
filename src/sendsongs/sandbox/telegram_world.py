"""The fake Telegram side: the bot's users and their private chats, its webhook, the
updates it was sent and what it sent back.

Shapes follow the Bot API reference (https://core.telegram.org/bots/api): User, Chat,
Message, CallbackQuery, ChatMemberUpdated, WebhookInfo.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from sendsongs.sandbox.clock import Clock

# Update types a webhook gets when `allowed_updates` is empty or was never given: all but
# these (https://core.telegram.org/bots/api#setwebhook, `allowed_updates`).
NOT_BY_DEFAULT = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


@dataclass
class TelegramUser:
    """A person with a private chat with the bot; in a private chat, chat id = user id."""

    id: int
    first_name: str
    last_name: str
    username: str
    language_code: str = "en"
    started: bool = False  # pressed Start (or wrote): until then the bot cannot write first
    blocked: bool = False  # "Stop and block bot"
    next_message_id: int = 1  # message ids count up per private chat, both sides sharing

    def user_json(self) -> dict[str, Any]:
        """A `User` object; Telegram omits optional fields that are empty."""
        user: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.last_name:
            user["last_name"] = self.last_name
        if self.username:
            user["username"] = self.username
        user["language_code"] = self.language_code
        return user

    def chat_json(self) -> dict[str, Any]:
        """The private `Chat` with this user, as it appears inside a Message."""
        chat: dict[str, Any] = {"id": self.id, "first_name": self.first_name}
        if self.last_name:
            chat["last_name"] = self.last_name
        if self.username:
            chat["username"] = self.username
        chat["type"] = "private"
        return chat

    def take_message_id(self) -> int:
        message_id = self.next_message_id
        self.next_message_id += 1
        return message_id

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "username": self.username,
            "started": self.started,
            "blocked": self.blocked,
        }


@dataclass
class BotMessage:
    """One message the bot got accepted by `sendMessage`."""

    index: int
    message_id: int
    chat_id: int
    text: str  # as the user sees it, after entity parsing
    raw_text: str  # as the bot sent it
    parse_mode: str | None
    reply_markup: dict[str, Any] | None
    link_preview_options: dict[str, Any] | None
    date: int

    def callback_data(self) -> list[str]:
        """The `callback_data` of every inline button on this message."""
        rows = (self.reply_markup or {}).get("inline_keyboard") or []
        return [b["callback_data"] for row in rows for b in row if "callback_data" in b]

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "message_id": self.message_id,
            "chat_id": self.chat_id,
            "text": self.text,
            "raw_text": self.raw_text,
            "parse_mode": self.parse_mode,
            "reply_markup": self.reply_markup,
            "link_preview_options": self.link_preview_options,
            "date": self.date,
        }


@dataclass
class CallbackQuery:
    """A button press sent to the bot, and how (or whether) the bot answered it."""

    id: str
    user_id: int
    message_id: int
    data: str
    answered: bool = False
    answer: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "user_id": self.user_id,
            "message_id": self.message_id,
            "data": self.data,
            "answered": self.answered,
            "answer": self.answer if self.answered else None,
        }


@dataclass
class Webhook:
    """What `setWebhook` registered; an empty url means no webhook."""

    url: str = ""
    secret_token: str | None = None
    allowed_updates: list[str] = field(default_factory=list)
    max_connections: int = 40
    last_error_date: int | None = None
    last_error_message: str | None = None

    def wants(self, update_type: str) -> bool:
        if self.allowed_updates:
            return update_type in self.allowed_updates
        return update_type not in NOT_BY_DEFAULT

    def info_json(self) -> dict[str, Any]:
        """A `WebhookInfo` object, as `getWebhookInfo` returns it."""
        info: dict[str, Any] = {
            "url": self.url,
            "has_custom_certificate": False,
            "pending_update_count": 0,
        }
        if self.url:
            if self.last_error_date is not None:
                info["last_error_date"] = self.last_error_date
                info["last_error_message"] = self.last_error_message
            info["max_connections"] = self.max_connections
            if self.allowed_updates:
                info["allowed_updates"] = list(self.allowed_updates)
        return info


@dataclass
class SentUpdate:
    """An update the sandbox posted (or tried to post) to the webhook."""

    update_id: int
    kind: str
    body: dict[str, Any]
    deliveries: list[int | None] = field(default_factory=list)  # webhook status; None: unreachable

    def to_json(self) -> dict[str, Any]:
        return {
            "update_id": self.update_id,
            "type": self.kind,
            "update": self.body,
            "deliveries": self.deliveries,
        }


@dataclass
class TelegramWorld:
    """Everything the fake Telegram knows about one bot; mutated only from the event loop."""

    clock: Clock
    token: str
    users: dict[int, TelegramUser] = field(default_factory=dict)
    messages: list[BotMessage] = field(default_factory=list)
    callback_queries: dict[str, CallbackQuery] = field(default_factory=dict)
    updates: dict[int, SentUpdate] = field(default_factory=dict)
    webhook: Webhook = field(default_factory=Webhook)
    next_update_id: int = field(default_factory=lambda: _random_start())

    @property
    def bot_id(self) -> int:
        """The bot's user id: the digits before the colon of its token."""
        prefix = self.token.split(":", 1)[0]
        return int(prefix) if prefix.isdigit() else 0

    def bot_json(self) -> dict[str, Any]:
        """The bot as a `User` inside messages and chat member updates."""
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "Send Songs",
            "username": "SendSongsSandboxBot",
        }

    def now(self) -> int:
        return int(self.clock())

    def add_user(
        self,
        user_id: int | None,
        first_name: str,
        last_name: str,
        username: str,
        started: bool,
    ) -> TelegramUser:
        """Create (or rename) a person."""
        if user_id is None:
            user_id = self._new_user_id()
        existing = self.users.get(user_id)
        if existing is not None:
            existing.first_name, existing.last_name = first_name, last_name
            existing.username = username
            existing.started = existing.started or started
            return existing
        user = TelegramUser(user_id, first_name, last_name, username, started=started)
        self.users[user_id] = user
        return user

    def _new_user_id(self) -> int:
        while True:
            user_id = secrets.randbelow(9 * 10**9) + 10**9  # 10 digits, like today's ids
            if user_id not in self.users:
                return user_id

    def take_update_id(self) -> int:
        """Update ids increase one by one from an arbitrary start, as Telegram's do."""
        update_id = self.next_update_id
        self.next_update_id += 1
        return update_id

    def record_message(
        self,
        user: TelegramUser,
        text: str,
        raw_text: str,
        parse_mode: str | None,
        reply_markup: dict[str, Any] | None,
        link_preview_options: dict[str, Any] | None,
    ) -> BotMessage:
        message = BotMessage(
            index=len(self.messages),
            message_id=user.take_message_id(),
            chat_id=user.id,
            text=text,
            raw_text=raw_text,
            parse_mode=parse_mode,
            reply_markup=reply_markup,
            link_preview_options=link_preview_options,
            date=self.now(),
        )
        self.messages.append(message)
        return message

    def sent(self, chat_id: int | None, since: int) -> list[BotMessage]:
        return [
            m for m in self.messages[max(since, 0) :] if chat_id is None or m.chat_id == chat_id
        ]

    def find_message(self, chat_id: int, message_id: int) -> BotMessage | None:
        for message in self.messages:
            if message.chat_id == chat_id and message.message_id == message_id:
                return message
        return None

    def latest_with_button(self, chat_id: int, data: str) -> BotMessage | None:
        for message in reversed(self.messages):
            if message.chat_id == chat_id and data in message.callback_data():
                return message
        return None

    def new_callback_query(
        self, user: TelegramUser, message: BotMessage, data: str
    ) -> CallbackQuery:
        query_id = str(secrets.randbelow(9 * 10**18) + 10**18)  # 19 digits, like real ids
        query = CallbackQuery(query_id, user.id, message.message_id, data)
        self.callback_queries[query_id] = query
        return query

    def reset(self) -> None:
        self.users.clear()
        self.messages.clear()
        self.callback_queries.clear()
        self.updates.clear()
        self.webhook = Webhook()
        self.next_update_id = _random_start()


def _random_start() -> int:
    return secrets.randbelow(9 * 10**8) + 10**8
