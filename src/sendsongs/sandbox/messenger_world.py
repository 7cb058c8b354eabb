"""The fake Messenger side: the page's people, their 24-hour windows, what the bot sent."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from sendsongs.sandbox.clock import Clock, iso

WINDOW_SECONDS = 24 * 3600  # Messenger's standard messaging window
HUMAN_AGENT_SECONDS = 7 * 24 * 3600  # how long the HUMAN_AGENT tag may answer


@dataclass
class MessengerUser:
    """A person who talks to the page, known by their page-scoped id (PSID)."""

    psid: str
    first_name: str
    last_name: str
    last_inbound: float  # when they last wrote to the page; opens the 24-hour window

    def window_open(self, now: float, seconds: float = WINDOW_SECONDS) -> bool:
        return now - self.last_inbound < seconds

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
    attachment: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "message_id": self.message_id,
            "recipient_id": self.recipient_id,
            "text": self.text,
            "quick_replies": self.quick_replies,
            "attachment": self.attachment,
            "messaging_type": self.messaging_type,
            "tag": self.tag,
            "sent_at": iso(self.sent_at),
        }


@dataclass
class FailedSend:
    """One Send API call that Graph refused (or a fault answered): nothing reached
    the person."""

    index: int
    recipient_id: str | None
    text: str | None
    status: int
    error: dict[str, Any]
    at: float

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "recipient_id": self.recipient_id,
            "text": self.text,
            "status": self.status,
            "error": self.error,
            "at": iso(self.at),
        }


@dataclass
class MessengerWorld:
    """Everything the fake page knows; mutated only from the event loop."""

    clock: Clock
    webhook_url: str
    page_access_token: str = ""
    require_appsecret_proof: bool = False
    users: dict[str, MessengerUser] = field(default_factory=dict)
    messages: list[SentMessage] = field(default_factory=list)
    failures: list[FailedSend] = field(default_factory=list)
    # The exact bytes of each webhook delivery, by message id, for redelivery.
    deliveries: dict[str, bytes] = field(default_factory=dict)

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
        attachment: dict[str, Any] | None = None,
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
            attachment=attachment,
        )
        self.messages.append(message)
        return message

    def record_failure(
        self, recipient_id: str | None, text: str | None, status: int, error: dict[str, Any]
    ) -> FailedSend:
        failure = FailedSend(len(self.failures), recipient_id, text, status, error, self.clock())
        self.failures.append(failure)
        return failure

    def failed(self, psid: str | None, since: int) -> list[FailedSend]:
        return [f for f in self.failures[max(since, 0) :] if psid is None or f.recipient_id == psid]

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

    def reset(self, webhook_url: str, page_access_token: str, require_proof: bool) -> None:
        self.users.clear()
        self.messages.clear()
        self.failures.clear()
        self.deliveries.clear()
        self.webhook_url = webhook_url
        self.page_access_token = page_access_token
        self.require_appsecret_proof = require_proof
