"""The Protocols the service needs from the outside world: store, chat, music, clock."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from sendsongs.domain.models import (
    Grant,
    IncomingMessage,
    MessageKind,
    Outgoing,
    PendingLink,
    Person,
    Play,
    RecipientCheck,
    Reply,
    Share,
    Track,
)


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class ChatChannel(Protocol):
    """Where people talk to the bot (Messenger today)."""

    async def send(self, person_id: str, reply: Reply, kind: MessageKind) -> None:
        """Deliver one message; raises RecipientUnreachable or TransientError."""
        ...

    async def profile_name(self, person_id: str) -> str | None:
        """The person's display name on the channel, if it will tell."""
        ...


class MusicService(Protocol):
    """Where tracks and play histories come from (Spotify today)."""

    def authorize_url(self, state: str, code_challenge: str) -> str:
        """The consent page a person is sent to (PKCE S256 challenge)."""
        ...

    async def exchange_code(self, code: str, code_verifier: str) -> Grant:
        """Trade the callback's code for a grant; GrantRevoked if refused."""
        ...

    async def refresh(self, grant: Grant) -> Grant:
        """A fresh access token (and the rotated refresh token, if any)."""
        ...

    async def track(self, track_id: str) -> Track:
        """Look a track up with app credentials; NotFound if unknown."""
        ...

    async def recently_played(self, access_token: str, after: datetime | None) -> list[Play]:
        """Plays strictly after `after`, oldest first; AccessTokenRejected on 401."""
        ...


class Store(Protocol):
    """Durable state. Every method is one atomic step; implementations must pass
    tests/contract (in-memory, SQLite, DynamoDB)."""

    async def migrate(self) -> None:
        """Create or upgrade the schema; idempotent."""
        ...

    async def ping(self) -> None:
        """Raise StoreError unless the store is usable."""
        ...

    async def close(self) -> None: ...

    # -- inbox: incoming chat messages, durable before the webhook answers --
    async def add_incoming(self, message: IncomingMessage) -> bool:
        """Store a message; False if its id was taken before (a redelivery)."""
        ...

    async def claim_incoming(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> list[IncomingMessage]:
        """Unfinished messages not leased at `now`, oldest first, leased until `lease_until`."""
        ...

    async def finish_incoming(self, message_id: str) -> None:
        """Mark a message handled; it is never claimed again."""
        ...

    # -- people and their grants --
    async def save_person(self, person: Person, grant: Grant) -> None:
        """Insert or replace a person and their grant (clears needs_reconnect)."""
        ...

    async def get_person(self, person_id: str) -> Person | None: ...

    async def find_people(self, name: str) -> list[Person]:
        """People whose name equals `name` ignoring case, oldest registration first."""
        ...

    async def get_grant(self, person_id: str) -> Grant | None: ...

    async def save_grant(self, person_id: str, grant: Grant) -> None: ...

    async def mark_needs_reconnect(self, person_id: str) -> None: ...

    # -- single-use secrets of the sign-up flows --
    async def save_pending_link(self, link: PendingLink) -> None: ...

    async def take_pending_link(self, state: str, now: datetime) -> PendingLink | None:
        """Remove and return the link if it exists and has not expired."""
        ...

    async def save_signup_code(self, code: str, grant: Grant, expires_at: datetime) -> None: ...

    async def take_signup_code(self, code: str, now: datetime) -> Grant | None:
        """Remove and return the grant if the code exists and has not expired."""
        ...

    async def purge(self, handled_before: datetime, now: datetime) -> int:
        """Drop inbox messages handled and received before `handled_before` (past any
        redelivery) and sign-up links and codes expired at `now`; returns how many."""
        ...

    # -- shares and the per-recipient check schedule --
    async def add_share(self, share: Share) -> None:
        """Save a pending share; the recipient's next check becomes the earlier of
        its current one and the share's. A new check's cursor starts just before
        `shared_at`."""
        ...

    async def get_share(self, share_id: str) -> Share | None: ...

    async def pending_shares(self, recipient_id: str) -> list[Share]: ...

    async def shares_sent_by(self, sender_id: str, limit: int) -> list[Share]:
        """The sender's shares, newest first."""
        ...

    async def claim_due_checks(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> list[RecipientCheck]:
        """Recipients whose next check is at or before `now`, earliest first; each
        is moved to `lease_until` under a new claim token, so a crashed worker's
        claim comes due again by itself."""
        ...

    async def settle_check(
        self,
        check: RecipientCheck,
        shares: Sequence[Share],
        cursor: datetime | None,
        outgoing: Sequence[Outgoing] = (),
    ) -> bool:
        """Save the updated shares, the new cursor and the notifications they cause,
        then set the recipient's next check to the earliest `next_check_at` among
        all their pending shares (none left: the check is removed). False, and
        nothing written, if the claim was lost to another worker."""
        ...

    async def next_check_at(self, recipient_id: str) -> datetime | None:
        """When the recipient's next check is due (None: no check scheduled)."""
        ...

    # -- outbox: notifications delivered after the change that caused them --
    async def add_outgoing(self, messages: Sequence[Outgoing]) -> None: ...

    async def claim_outgoing(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> list[Outgoing]:
        """Undelivered, unheld messages not leased at `now`, oldest first."""
        ...

    async def finish_outgoing(self, message_id: str) -> None:
        """The message was delivered (or can never be): drop it."""
        ...

    async def hold_outgoing(self, message_id: str) -> None:
        """Keep the message until its person writes to us again (24-hour window)."""
        ...

    async def release_held(self, person_id: str) -> int:
        """Make the person's held messages deliverable again; returns how many."""
        ...


@dataclass(frozen=True)
class Ports:
    """The outside world as the service sees it."""

    store: Store
    chat: ChatChannel
    music: MusicService
    clock: Clock
