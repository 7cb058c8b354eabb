"""The things Send Songs talks about: people and their addresses and connections,
tracks, plays, shares and chat messages. No I/O, no clock, no vendor types."""

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
    # MusicBrainz recording id: Spotify's catalog has none, so shares carry none
    # today (and the stores keep none); matching uses it once a catalog fills it
    recording_mbid: str | None = None

    @property
    def title(self) -> str:
        """ "Song by Artist", the way replies name a track."""
        if not self.artists:
            return self.name
        return f"{self.name} by {', '.join(self.artists)}"


@dataclass(frozen=True)
class Play:
    """One finished listen in a person's play history, from any source.

    Each source fills what it knows: Spotify the track URI, ISRC and length;
    ListenBrainz and Last.fm often only artist and title, sometimes a Spotify id,
    an ISRC or a MusicBrainz recording id (MBID).
    """

    played_at: datetime
    track_uri: str | None = None  # "spotify:track:<id>"
    isrc: str | None = None
    duration_ms: int | None = None
    recording_mbid: str | None = None
    artist: str | None = None
    title: str | None = None


@dataclass(frozen=True)
class Grant:
    """A person's authorization at the music service (kept encrypted by the store)."""

    access_token: str
    refresh_token: str
    expires_at: datetime  # of the access token
    consented_at: datetime | None = None  # refresh tokens die a fixed time after this

    def __repr__(self) -> str:  # keep tokens out of logs and tracebacks
        return f"Grant(expires_at={self.expires_at.isoformat()})"


@dataclass(frozen=True, order=True)
class Address:
    """Where a person is reached: a channel and the channel's id for them
    (Messenger's page-scoped id, PSID; Telegram's chat id)."""

    channel: str
    id: str

    def __str__(self) -> str:
        return f"{self.channel}:{self.id}"

    @classmethod
    def unknown(cls, channel: str) -> Address:
        """The sender of an update not read yet: the channel, and no id on it."""
        return cls(channel, "")

    @classmethod
    def parse(cls, value: str) -> Address:
        """`"messenger:1234"` → Address("messenger", "1234"); ValueError otherwise."""
        channel, sep, ident = value.partition(":")
        if not sep or not channel or not ident:
            raise ValueError(f"not an address: {value!r}")
        return cls(channel, ident)


@dataclass(frozen=True)
class Person:
    """A registered user, under our own id; reached at one or more addresses."""

    id: str
    name: str
    registered_at: datetime


class ConnectionStatus(StrEnum):
    OK = "ok"
    REVOKED = "revoked"  # the grant was withdrawn or has lapsed: reconnect
    REFUSED = "refused"  # the source will not show this history (e.g. not allow-listed)


@dataclass(frozen=True)
class Connection:
    """The one play history a person connected: which source, which account there,
    and the grant when the source needs one (kept encrypted by every store)."""

    person_id: str
    source: str  # "spotify", "listenbrainz", "lastfm"
    account: str | None  # the source's stable id or user name for the person
    connected_at: datetime
    grant: Grant | None = None
    status: ConnectionStatus = ConnectionStatus.OK
    reminded_at: datetime | None = None  # told to renew before the grant lapses

    @property
    def readable(self) -> bool:
        return self.status is ConnectionStatus.OK


class ShareStatus(StrEnum):
    PENDING = "pending"
    LISTENED = "listened"
    EXPIRED = "expired"
    CANCELLED = "cancelled"  # the sender stopped tracking it


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
    group_send: str | None = None  # the message that sent it to a group: one per member
    group_name: str | None = None  # the group's name when it was sent
    delivered_at: datetime | None = None  # None: not delivered (or before deliveries
    # through the outbox were recorded)
    unread: bool = False  # settled without its recipient's history read: "couldn't read"

    @property
    def send_key(self) -> str:
        """What the sender sent in one go: the group send, or this share alone."""
        return self.group_send or self.id


@dataclass(frozen=True)
class Group:
    """People one person shares with at once. The owner manages it; members (person
    ids, in the order they were added) and the owner may send to it."""

    id: str
    owner_id: str
    name: str
    created_at: datetime
    members: tuple[str, ...] = ()

    def includes(self, person_id: str) -> bool:
        return person_id == self.owner_id or person_id in self.members


@dataclass(frozen=True)
class RecipientCheck:
    """A claimed, due play-history check of one recipient (settles all their shares)."""

    recipient_id: str
    claim: str  # token proving this worker still holds the claim
    version: int = 0  # bumped by every share added to the recipient


@dataclass(frozen=True)
class PendingLink:
    """What a signed OAuth `state` stands for until the callback consumes it."""

    state: str
    code_verifier: str  # PKCE
    expires_at: datetime
    address: Address | None = None  # chat flow: who asked for the link
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
    """A message from a person, already free of the chat channel's wire format.

    Or not yet: a channel whose wire format is costly to read stores what it was
    sent as is, in `unread`, and its UpdateReader (ports.py) reads it in the worker,
    just before the message is handled. Until then the sender is
    `Address.unknown(<channel>)` (the channel is known, the id on it is not) and
    text, payload, attachments and profile_name are empty.
    """

    id: str  # "<channel>:<the channel's message id>", used to drop redeliveries
    sender: Address
    received_at: datetime
    text: str = ""
    payload: str | None = None  # a quick reply or button the person pressed
    attachments: tuple[str, ...] = field(default=())  # urls of shared links/media
    profile_name: str | None = None  # the name the channel shows for the sender, if sent
    # a correction of a message sent earlier (Telegram's edited_message): read only
    # to tell the person edits are not acted on. Never stored: only Telegram sends
    # edits, and its updates are read from the stored update each time.
    edited: bool = False
    unread: str | None = None  # the update as the channel sent it (JSON text), until read


@dataclass(frozen=True)
class Reachability:
    """The channel says whether the bot can write to a person: False when they
    blocked it (each message to them is refused and held), True when they unblock
    it (what was held can go)."""

    address: Address
    reachable: bool


# What a stored, unread update means: a message to answer, a change of
# reachability, or None (nothing the bot answers: another kind of chat, a type of
# update it has no use for).
ReadUpdate = IncomingMessage | Reachability | None


@dataclass(frozen=True)
class Outgoing:
    """A notification waiting in the outbox, written in the same step as the change
    that caused it, so a crash between the two cannot lose it."""

    id: str
    address: Address
    reply: Reply
    created_at: datetime
    kind: MessageKind = MessageKind.UPDATE
    # whose message this is, when someone else's (a song a friend sent): told if it
    # can never be delivered
    on_behalf_of: Address | None = None


@dataclass(frozen=True)
class Choice:
    """What a button stands for, kept server-side: buttons carry only its token
    (Telegram allows 64 bytes of callback data, Messenger 1,000 characters)."""

    token: str
    address: Address  # only the person it was offered to may use it
    payload: str  # JSON of the command it completes
    expires_at: datetime
