"""The Protocols the service needs from the outside world.

    store roles   People · Shares · Groups · Inbox · Outbox · Secrets · Pauses · Limits ·
                  Erasures (+ StoreAdmin)
    chat          ChatChannel, one per channel, routed by an address's channel name;
                  UpdateReader, per channel that stores its updates unread
    music         Catalog (track look-up) · PlayHistory and AccountLink (OAuth) or
                  AccountLookup (user name), one per source
    hand-overs    InboxNotifier (stored messages → a worker) · CheckQueue (claimed checks)
    time          Clock

Every backend (SQLite, DynamoDB, the tests' in-memory one) implements the store
roles and passes the one contract suite in tests/contract. Adapters translate
vendor errors into sendsongs.errors; nothing here names a vendor type.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from sendsongs.domain.models import (
    Address,
    Choice,
    Connection,
    ConnectionStatus,
    Grant,
    Group,
    IncomingMessage,
    MessageKind,
    Outgoing,
    PendingLink,
    Person,
    Play,
    ReadUpdate,
    RecipientCheck,
    Reply,
    Share,
    Track,
)


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


# -- chat channels --


class ChatChannel(Protocol):
    """One chat platform the bot speaks (Messenger, Telegram)."""

    name: str  # the channel part of the addresses it serves, e.g. "messenger"

    async def send(self, to: str, reply: Reply, kind: MessageKind) -> None:
        """Deliver one message to the channel's id `to`.

        Raises RecipientUnreachable (held until the person writes again; its
        `explanation` says why in the person's words), RateLimited / TransientError
        (retry later), ChannelUnavailable (the operator must act, e.g. a revoked
        token: keep the message) or ServiceError (refused for good).
        """
        ...

    async def profile_name(self, to: str) -> str | None:
        """The person's display name on the channel, if it will tell."""
        ...


class UpdateReader(Protocol):
    """Reads the updates a channel's webhook stored unread (IncomingMessage.unread):
    the webhook only checks and stores them, so it answers fast; the worker reads
    each one just before handling it."""

    name: str  # the channel whose updates it reads, e.g. "telegram"

    async def read(self, stored: IncomingMessage) -> ReadUpdate:
        """What the stored update means: the IncomingMessage to handle (same id and
        received_at, the sender known, `unread` None), a Reachability, or None
        (nothing to answer). Acknowledges what the channel wants acknowledged once
        the update is in hand (Telegram: a pressed button's answerCallbackQuery); a
        failure to do so is logged, never raised. Raises UnreadableUpdate if the
        update is not one the channel sends; it never will be readable."""
        ...


# -- music: one catalog, one history (and maybe one account link) per source --


class Catalog(Protocol):
    """Track look-ups with the app's own credentials (no person involved)."""

    source: str  # whose rate limits its calls count against, e.g. "spotify"

    async def track(self, track_id: str) -> Track:
        """The Spotify track `track_id` (base62); NotFound if there is none."""
        ...

    async def resolve_short_link(self, host: str, code: str) -> str:
        """The track id a short link (`https://spotify.link/<code>`) redirects to;
        NotATrack if it leads anywhere but a track (an album, a playlist), NotFound
        if the link itself is unknown or expired."""
        ...


@dataclass(frozen=True)
class History:
    """What one history request returned."""

    plays: list[Play]


class PlayHistory(Protocol):
    """A person's finished listens at one source."""

    source: str  # the Connection.source it reads, e.g. "spotify"

    async def plays(self, connection: Connection, since: datetime) -> History:
        """Finished listens with `played_at >= since`, oldest first, read from the
        source's recent window (so late arrivals with old timestamps are seen).

        An adapter whose source uses grants refreshes one only when it is expired
        or refused (once), and stores the new one itself (People.save_grant).
        Raises GrantRevoked, AccessRefused (the source will not show this history),
        RateLimited, TransientError.
        """
        ...


@dataclass(frozen=True)
class LinkedAccount:
    """The outcome of an account link: the source's stable id for the person, for
    OAuth sources the grant, and whether the source lets this app read the history
    (Spotify's development mode admits only the users listed in its dashboard)."""

    account: str | None
    grant: Grant | None = None
    readable: bool = True


class AccountLink(Protocol):
    """Connecting a person's account at a source that needs their consent (OAuth)."""

    source: str
    # How long a grant lives from the person's consent, refreshes or not (None: no
    # limit). Spotify: six months since mid-2026 (Spotify for Developers changelog).
    grant_lifetime: timedelta | None

    def authorize_url(self, state: str, code_challenge: str) -> str:
        """The consent page a person is sent to (PKCE S256 challenge)."""
        ...

    async def exchange_code(self, code: str, code_verifier: str) -> LinkedAccount:
        """Trade the callback's code for a grant, and check with one real call that
        the history can be read (`readable`). GrantRevoked if the sign-in is refused."""
        ...


@dataclass(frozen=True)
class PublicAccount:
    """A public history found by user name, as a person registering should hear of it."""

    account: str  # the user name as the source spells it (our stable key for them)
    listens_today: int  # finished listens in the last 24 hours (at most a page of them)
    latest: Play | None  # the newest finished listen ever, if any


class AccountLookup(Protocol):
    """Finding a public history by user name (ListenBrainz, Last.fm): no consent
    needed, so registering is checking the name and that the history is readable."""

    source: str

    async def look_up(self, user: str, now: datetime) -> PublicAccount:
        """The account and what its history shows as of `now`. NotFound if there is
        no such user; AccessRefused if its history is private; RateLimited,
        TransientError."""
        ...


# -- store roles --


class People(Protocol):
    """People, their channel addresses and their one play-history connection."""

    async def save_person(self, person: Person, address: Address) -> None:
        """Insert or update a person and tie `address` to them (moving it, if it
        belonged to someone else)."""
        ...

    async def get_person(self, person_id: str) -> Person | None: ...

    async def person_at(self, address: Address) -> Person | None:
        """Who is reached at this address, if anyone."""
        ...

    async def address_of(self, person_id: str) -> Address | None:
        """Where to reach the person: the address they used last."""
        ...

    async def find_people(self, name: str) -> list[Person]:
        """People whose name equals `name` ignoring case, oldest registration first."""
        ...

    async def find_similar(self, name: str, limit: int) -> list[Person]:
        """People whose name is close to `name` (domain.names.closeness: the same
        but for accents, a first name or surname alone, a small typo), closest
        first, then oldest registration first; at most `limit`. May read every
        name: meant for the rare miss, not for every message."""
        ...

    async def save_connection(self, connection: Connection) -> None:
        """Insert or replace the person's connection (a person has exactly one).
        StoreError if the account is connected to someone else."""
        ...

    async def get_connection(self, person_id: str) -> Connection | None: ...

    async def connection_of_account(self, source: str, account: str) -> Connection | None:
        """The connection that holds this account at this source, if any."""
        ...

    async def save_grant(self, person_id: str, grant: Grant) -> None:
        """Replace the grant of the person's connection (a refresh, a rotation)."""
        ...

    async def set_connection_status(self, person_id: str, status: ConnectionStatus) -> None: ...

    async def grants_to_renew(
        self, source: str, consented_before: datetime, limit: int
    ) -> list[Connection]:
        """Readable connections of `source` whose grant was consented to before
        `consented_before` and whose person was not reminded yet, oldest first."""
        ...

    async def mark_reminded(self, person_id: str, at: datetime) -> None:
        """The person was reminded; a new connection (saved again) clears it."""
        ...

    async def addresses_of(self, person_id: str) -> list[Address]:
        """Every address tied to the person, in no particular order."""
        ...

    async def erase_person(self, person_id: str) -> None:
        """Delete the person, their addresses and their connection (grant included);
        nothing if they are not there."""
        ...


class Shares(Protocol):
    """Shares and the per-recipient check schedule."""

    async def add_share(self, share: Share) -> None:
        """Save a pending share (nothing, if its id exists). The recipient's next
        check becomes the earlier of its current one and the share's, and the
        check's version is bumped, so a check in flight cannot forget it."""
        ...

    async def get_share(self, share_id: str) -> Share | None: ...

    async def pending_shares(self, recipient_id: str) -> list[Share]: ...

    async def shares_sent_by(self, sender_id: str, limit: int) -> list[Share]:
        """The sender's shares, newest first."""
        ...

    async def shares_of_send(self, group_send: str) -> list[Share]:
        """Every share one group send created (one per member), oldest first."""
        ...

    async def mark_delivered(self, share_id: str, at: datetime) -> None:
        """Record that the song reached the recipient (the first time counts)."""
        ...

    async def cancel_share(self, share_id: str, at: datetime) -> bool:
        """Stop tracking a pending share (status cancelled, settled at `at`); False,
        and nothing changed, if it is not pending."""
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
        next_check_at: datetime | None,
        outgoing: Sequence[Outgoing] = (),
    ) -> bool:
        """One atomic step: save the updated shares and the notifications they
        cause, and schedule the recipient's next check at `next_check_at` (None:
        nothing left to check). If shares were added since the claim (the version
        moved), their own next checks are honoured too. False, and nothing
        written, if the claim was lost to another worker or already spent."""
        ...

    async def next_check_at(self, recipient_id: str) -> datetime | None:
        """When the recipient's next check is due (None: no check scheduled)."""
        ...

    async def erase_shares_of(self, person_id: str) -> list[Share]:
        """Delete every share sent by or to the person, and their check; returns the
        deleted shares. A check claimed meanwhile can no longer settle."""
        ...


class Groups(Protocol):
    """Groups of people, each owned by the person who made it; names are unique per
    owner, ignoring case."""

    async def create_group(self, group: Group) -> bool:
        """Save a new group with its members; False, and nothing saved, if the owner
        already has a group by that name (ignoring case) or the id is taken."""
        ...

    async def get_group(self, group_id: str) -> Group | None: ...

    async def groups_of(self, person_id: str) -> list[Group]:
        """The groups the person owns or belongs to, by name ignoring case."""
        ...

    async def add_member(self, group_id: str, person_id: str) -> bool:
        """False if they were a member already (or the group is gone)."""
        ...

    async def remove_member(self, group_id: str, person_id: str) -> bool:
        """False if they were not a member."""
        ...

    async def delete_group(self, group_id: str) -> None:
        """Remove the group and its memberships (nothing, if it is gone)."""
        ...


class Inbox(Protocol):
    """Incoming chat messages, durable before the webhook answers."""

    async def add_incoming(self, messages: Sequence[IncomingMessage]) -> int:
        """Store messages in one step; returns how many were new (a message
        whose id was taken before is a redelivery and is dropped)."""
        ...

    async def claim_incoming(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> list[IncomingMessage]:
        """Unfinished messages not leased at `now`, oldest first, leased until `lease_until`."""
        ...

    async def claim_message(
        self, message_id: str, now: datetime, lease_until: datetime
    ) -> IncomingMessage | None:
        """This one message, leased until `lease_until`, if it is unfinished and not
        leased at `now`; None if it was handled, is unknown, or is in other hands (a
        queue names the message and a worker takes it)."""
        ...

    async def finish_incoming(self, message_id: str) -> None:
        """Mark a message handled; it is never claimed again. What it said, and who
        said it, is forgotten: only its id stays, to drop redeliveries."""
        ...


class InboxNotifier(Protocol):
    """Gets stored incoming messages handled: wakes the local worker, or puts them on
    a queue (SQS FIFO on AWS, grouped by sender so each person's stay in order)."""

    async def notify(self, messages: Sequence[IncomingMessage]) -> None:
        """`messages` are stored (none: only a nudge, e.g. held messages were
        released); raise if they could not be passed on (the webhook then answers 5xx
        and the platform delivers them again)."""
        ...


class CheckQueue(Protocol):
    """Where claimed recipient checks wait for a checker (SQS on AWS)."""

    async def send_checks(self, checks: Sequence[RecipientCheck]) -> None:
        """Queue every check; raise if any could not be queued (its lease runs out
        and the next sweep claims it again)."""
        ...


class Outbox(Protocol):
    """Messages to deliver after the change that caused them."""

    async def add_outgoing(self, messages: Sequence[Outgoing]) -> None: ...

    async def claim_outgoing(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> list[Outgoing]:
        """Undelivered, unheld messages not leased at `now`, oldest first."""
        ...

    async def finish_outgoing(self, message_id: str) -> None:
        """The message was delivered (or can never be): drop it."""
        ...

    async def retry_outgoing(self, message_id: str, not_before: datetime) -> None:
        """Deliver again no earlier than `not_before` (a passing failure)."""
        ...

    async def hold_outgoing(self, message_id: str) -> None:
        """Keep the message until its address writes to us again."""
        ...

    async def release_held(self, address: Address) -> int:
        """Make the address's held messages deliverable again; returns how many."""
        ...

    async def drop_held(self, created_before: datetime) -> list[Outgoing]:
        """Remove and return held messages created before `created_before`, oldest
        first: they waited long enough."""
        ...

    async def erase_to(self, addresses: Sequence[Address]) -> int:
        """Drop every message waiting for these addresses, or sent on their behalf
        (their songs held for a friend); returns how many."""
        ...


class Secrets(Protocol):
    """Single-use secrets: OAuth states, sign-up codes, button choices."""

    async def save_pending_link(self, link: PendingLink) -> None: ...

    async def take_pending_link(self, state: str, now: datetime) -> PendingLink | None:
        """Remove and return the link if it exists and has not expired."""
        ...

    async def save_signup_code(
        self, code: str, account: LinkedAccount, expires_at: datetime
    ) -> None: ...

    async def take_signup_code(self, code: str, now: datetime) -> LinkedAccount | None:
        """Remove and return the account if the code exists and has not expired."""
        ...

    async def save_choice(self, choice: Choice) -> None: ...

    async def take_choice(self, token: str, now: datetime) -> Choice | None:
        """Remove and return the choice if it exists and has not expired."""
        ...

    async def erase_for(self, addresses: Sequence[Address], account: str | None) -> None:
        """Drop the OAuth states and choices of these addresses, and the sign-up
        codes holding `account` (if given)."""
        ...


class Pauses(Protocol):
    """App-wide pauses a source asked for (rate limits), seen by every worker."""

    async def pause(self, source: str, until: datetime) -> None:
        """Pause calls to `source` until `until` (a later pause wins)."""
        ...

    async def paused_until(self, source: str) -> datetime | None: ...


class Limits(Protocol):
    """Per-person attempt counters (sign-ups, shares), agreed on by every worker."""

    async def take(self, key: str, now: datetime, window: timedelta, limit: int) -> datetime | None:
        """Count one attempt under `key` at `now`, unless `limit` attempts were counted
        within `window` before it. None if counted; otherwise nothing is counted and
        the answer is when the oldest counted attempt leaves the window (try then)."""
        ...

    async def forget(self, keys: Sequence[str]) -> None:
        """Drop every attempt counted under these keys."""
        ...


class Erasures(Protocol):
    """Receipts of erasures done at someone's request: a confirmation code and when.
    They hold no personal data, so they outlive what they describe."""

    async def record_erasure(self, code: str, erased_at: datetime) -> None: ...

    async def erased_at(self, code: str) -> datetime | None:
        """When the erasure with this confirmation code was done; None if unknown."""
        ...


class StoreAdmin(Protocol):
    """The store as a whole: schema, health, housekeeping, shutdown."""

    async def migrate(self) -> None:
        """Create or upgrade the schema; idempotent."""
        ...

    async def ping(self) -> None:
        """Raise StoreError unless the store is usable."""
        ...

    async def purge(self, handled_before: datetime, now: datetime) -> None:
        """Drop handled inbox messages received before `handled_before` (past any
        redelivery) and secrets expired at `now`. Best effort: a backend may leave
        this to its own expiry (DynamoDB TTL)."""
        ...

    async def scrub(self) -> None:
        """Make what was deleted unreadable in the store's files (SQLite: deleted
        content is zeroed as it goes, then the write-ahead log is checkpointed and
        truncated). Backends whose deletes leave nothing behind do nothing."""
        ...

    async def reencrypt(self) -> int:
        """Re-encrypt every stored credential under the current key (after a key
        rotation, while the previous keys are still accepted for reading); returns
        how many values were rewritten."""
        ...

    async def close(self) -> None: ...


@dataclass(frozen=True)
class Stores:
    """The store roles of one backend."""

    people: People
    shares: Shares
    groups: Groups
    inbox: Inbox
    outbox: Outbox
    secrets: Secrets
    pauses: Pauses
    limits: Limits
    erasures: Erasures
    admin: StoreAdmin


@dataclass(frozen=True)
class Ports:
    """The outside world as the service sees it."""

    stores: Stores
    channels: Mapping[str, ChatChannel]  # by channel name
    catalog: Catalog
    histories: Mapping[str, PlayHistory]  # by source name
    account_links: Mapping[str, AccountLink]  # by source name, OAuth sources only
    clock: Clock
    # by source name, the sources registered by user name that this bot offers
    account_lookups: Mapping[str, AccountLookup] = field(default_factory=dict)
    # by channel name, the channels whose webhooks store updates unread
    readers: Mapping[str, UpdateReader] = field(default_factory=dict)
