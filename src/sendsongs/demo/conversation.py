"""Every demo chat as one log: what each person typed and what the bot sent them.

The sandbox's chat apps keep only what the bot sent, so the page would lose a person's
own messages on a reload or in a second tab. The demo writes down what is typed (the
page says it through `/demo/api/...`) and reads the bot's messages from the sandbox's
worlds, appending both in the order they happened."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from sendsongs.demo.people import TELEGRAM, DemoPerson
from sendsongs.sandbox.messenger_world import MessengerWorld, SentMessage
from sendsongs.sandbox.telegram_world import BotMessage, TelegramWorld


@dataclass
class Entry:
    """One chat bubble. `buttons`: quick replies (Messenger) or an inline keyboard
    (Telegram), each {"title", "payload"} plus "url" for a link button."""

    index: int
    person: str  # DemoPerson.key
    sender: str  # "person" or "bot"
    text: str
    at: float  # unix seconds
    buttons: list[dict[str, str]] = field(default_factory=list)
    message_id: int | None = None  # Telegram's, for pressing this message's buttons
    error: str | None = None  # why a typed message did not reach the bot

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "person": self.person,
            "from": self.sender,
            "text": self.text,
            "at": self.at,
            "buttons": self.buttons,
            "message_id": self.message_id,
            "error": self.error,
        }


class Conversations:
    """The log, grown by `said` and by `sync` (which reads the bot's new messages)."""

    def __init__(
        self, people: tuple[DemoPerson, ...], messenger: MessengerWorld, telegram: TelegramWorld
    ) -> None:
        self.messenger = messenger
        self.telegram = telegram
        self.by_chat = {(p.channel, p.chat_id): p.key for p in people}
        self.entries: list[Entry] = []
        self.read_messenger = 0  # index into messenger.messages
        self.read_telegram = 0  # index into telegram.messages

    def said(self, person: DemoPerson, text: str) -> Entry:
        """Log a typed message before it is posted, so the bot's answer comes after it."""
        self.sync()
        entry = Entry(len(self.entries), person.key, "person", text, time.time())
        self.entries.append(entry)
        return entry

    def since(self, index: int) -> list[Entry]:
        self.sync()
        return self.entries[max(index, 0) :]

    def sync(self) -> None:
        """Append the bot's messages sent since the last look (no awaits: one step)."""
        for sent in self.messenger.messages[self.read_messenger :]:
            key = self.by_chat.get(("messenger", sent.recipient_id))
            if key is not None:
                self._append(key, _from_messenger(sent))
        self.read_messenger = len(self.messenger.messages)
        for message in self.telegram.messages[self.read_telegram :]:
            key = self.by_chat.get((TELEGRAM, str(message.chat_id)))
            if key is not None:
                self._append(key, _from_telegram(message))
        self.read_telegram = len(self.telegram.messages)

    def _append(self, key: str, entry: Entry) -> None:
        entry.index, entry.person = len(self.entries), key
        self.entries.append(entry)


def _from_messenger(sent: SentMessage) -> Entry:
    buttons = [
        {"title": str(q.get("title", "")), "payload": str(q.get("payload", ""))}
        for q in sent.quick_replies
        if q.get("content_type") == "text"
    ]
    return Entry(0, "", "bot", sent.text, sent.sent_at, buttons)


def _from_telegram(message: BotMessage) -> Entry:
    rows = (message.reply_markup or {}).get("inline_keyboard") or []
    buttons = []
    for row in rows:
        for button in row:
            if "callback_data" in button:
                buttons.append({"title": button["text"], "payload": button["callback_data"]})
            elif "url" in button:
                buttons.append({"title": button["text"], "payload": "", "url": button["url"]})
    return Entry(0, "", "bot", message.text, float(message.date), buttons, message.message_id)
