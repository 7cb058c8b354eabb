"""The fake Messenger side: the page's people, their 24-hour windows, what the bot sent."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from sendsongs.sandbox.clock import Clock, iso

WINDOW_SECONDS = 24 * 3600  # Messenger's standard messaging window


@dataclass
class MessengerUser:
    """A person who talks to the page, known by their page-scoped id (PSID)."""

    psid: str
    first_name: str
    last_name: str
    last_inbound: float  # when they last wrote to the page; opens the 24-hour window

    def window_open(self, now: float) -> bool:
        return now - self.last_inbound < WINDOW_SECONDS

    def to_json(self, now: float) -> dict[str, Any]:
        return {
            "psid": self.psid,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "last_inbound_at": iso(self.last_inbound),
            "window_open": self.window_open(now),
        }


@dataclass
class SentMessage:
    """One message the bot got accepted by the Send API."""

    index: int
    message_id: str
    recipient_id: str
    text: str
    quick_replies: list[dict[str, Any]]
    messaging_type: str
    tag: str | None
    sent_at: float

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "message_id": self.message_id,
            "recipient_id": self.recipient_id,
            "text": self.text,
            "quick_replies": self.quick_replies,
            "messaging_type": self.messaging_type,
            "tag": self.tag,
            "sent_at": iso(self.sent_at),
        }


@dataclass
class MessengerWorld:
    """Everything the fake page knows; mutated only from the event loop."""

    clock: Clock
    webhook_url: str
    users: dict[str, MessengerUser] = field(default_factory=dict)
    messages: list[SentMessage] = field(default_factory=list)

    def add_user(self, psid: str | None, first_name: str, last_name: str) -> MessengerUser:
        """Create (or rename) a person. A PSID exists only once someone wrote to the
        page, so a new person starts inside the 24-hour window."""
        psid = psid or self._new_psid()
        existing = self.users.get(psid)
        if existing is not None:
            existing.first_name, existing.last_name = first_name, last_name
            return existing
        user = MessengerUser(psid, first_name, last_name, last_inbound=self.clock())
        self.users[psid] = user
        return user

    def _new_psid(self) -> str:
        while True:
            psid = str(secrets.randbelow(9 * 10**15) + 10**15)  # 16 digits, like real PSIDs
            if psid not in self.users:
                return psid

    def note_inbound(self, psid: str) -> None:
        self.users[psid].last_inbound = self.clock()

    def set_window(self, psid: str, open_: bool) -> MessengerUser:
        user = self.users[psid]
        # Closing pushes the last inbound message a minute past the window's edge.
        user.last_inbound = self.clock() if open_ else self.clock() - WINDOW_SECONDS - 60
        return user

    def record(
        self,
        recipient_id: str,
        text: str,
        quick_replies: list[dict[str, Any]],
        messaging_type: str,
        tag: str | None,
    ) -> SentMessage:
        message = SentMessage(
            index=len(self.messages),
            message_id="m_" + secrets.token_urlsafe(24),
            recipient_id=recipient_id,
            text=text,
            quick_replies=quick_replies,
            messaging_type=messaging_type,
            tag=tag,
            sent_at=self.clock(),
        )
        self.messages.append(message)
        return message

    def sent(self, psid: str | None, since: int) -> list[SentMessage]:
        return [m for m in self.messages[max(since, 0) :] if psid is None or m.recipient_id == psid]

    def quick_reply_title(self, psid: str, payload: str) -> str | None:
        """The title of the latest quick reply offered to `psid` with this payload:
        tapping one sends its title as the message text."""
        for message in reversed(self.messages):
            if message.recipient_id != psid:
                continue
            for reply in message.quick_replies:
                if reply.get("payload") == payload:
                    return str(reply.get("title", payload))
        return None

    def reset(self, webhook_url: str) -> None:
        self.users.clear()
        self.messages.clear()
        self.webhook_url = webhook_url
