"""The things Send Songs talks about: people, tracks, plays, shares and chat messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


@dataclass(frozen=True)
class Track:
    """A recording as the music service describes it."""

    uri: str  # e.g. "spotify:track:46X0dXeliHXD73sxexJx7d"
    name: str
    artists: tuple[str, ...]
    duration_ms: int
    url: str  # the link a person can open
    isrc: str | None = None  # same recording on another release shares it

    @property
    def title(self) -> str:
        """ "Song by Artist", the way replies name a track."""
        if not self.artists:
            return self.name
        return f"{self.name} by {', '.join(self.artists)}"


@dataclass(frozen=True)
class Play:
    """One entry of a person's play history."""

    track_uri: str
    played_at: datetime
    isrc: str | None = None


@dataclass(frozen=True)
class Grant:
    """A person's authorization at the music service (kept encrypted by the store)."""

    access_token: str
    refresh_token: str
    expires_at: datetime

    def __repr__(self) -> str:  # keep tokens out of logs and tracebacks
        return f"Grant(expires_at={self.expires_at.isoformat()})"


@dataclass(frozen=True)
class Person:
    """A registered user, addressed by the chat channel's id for them."""

    id: str
    name: str
    registered_at: datetime
    needs_reconnect: bool = False


class ShareStatus(StrEnum):
    PENDING = "pending"
    LISTENED = "listened"
    EXPIRED = "expired"


@dataclass(frozen=True)
class Share:
    """A song sent from one person to another, and where its listen check stands."""

    id: str
    sender_id: str
    recipient_id: str
    track: Track
    shared_at: datetime
    next_check_at: datetime
    pre: str | None = None
    post: str | None = None
    status: ShareStatus = ShareStatus.PENDING
    settled_at: datetime | None = None


@dataclass(frozen=True)
class RecipientCheck:
    """A claimed, due play-history check of one recipient (settles all their shares)."""

    recipient_id: str
    claim: str  # token proving this worker still holds the claim
    cursor: datetime | None  # plays at or before this were already seen


@dataclass(frozen=True)
class PendingLink:
    """What a signed OAuth `state` stands for until the callback consumes it."""

    state: str
    code_verifier: str  # PKCE
    expires_at: datetime
    person_id: str | None = None  # chat flow: who asked for the link
    name: str | None = None


@dataclass(frozen=True)
class QuickReply:
    title: str
    payload: str


@dataclass(frozen=True)
class Reply:
    """A message to a person: text and optional quick-reply buttons."""

    text: str
    quick_replies: tuple[QuickReply, ...] = ()


class MessageKind(StrEnum):
    RESPONSE = "response"  # answers something the person just wrote
    UPDATE = "update"  # news the person did not ask for right now


@dataclass(frozen=True)
class IncomingMessage:
    """A message from a person, already free of the chat channel's wire format."""

    id: str  # the channel's message id, used to drop redeliveries
    sender_id: str
    received_at: datetime
    text: str = ""
    payload: str | None = None  # a quick reply or button the person pressed
    attachments: tuple[str, ...] = field(default=())  # urls of shared links/media


@dataclass(frozen=True)
class Outgoing:
    """A notification waiting in the outbox, written in the same step as the change
    that caused it, so a crash between the two cannot lose it."""

    id: str
    person_id: str
    reply: Reply
    created_at: datetime
    kind: MessageKind = MessageKind.UPDATE
