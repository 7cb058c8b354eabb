"""In-memory stand-ins for the ports: a Store and a settable Clock."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from sendsongs.domain.models import (
    Grant,
    IncomingMessage,
    Outgoing,
    PendingLink,
    Person,
    RecipientCheck,
    Share,
    ShareStatus,
)

CURSOR_BEFORE_SHARE = timedelta(milliseconds=1)


class FakeClock:
    """A clock that only moves when a test says so."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now_value = now or datetime(2025, 1, 1, 12, 0, tzinfo=UTC)

    def now(self) -> datetime:
        return self.now_value

    def set(self, now: datetime) -> None:
        self.now_value = now

    def advance(self, seconds: float) -> datetime:
        self.now_value += timedelta(seconds=seconds)
        return self.now_value


def _utc(value: datetime) -> datetime:
    # The real stores refuse naive datetimes and hand back UTC; so does the fake.
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("naive datetime given to the store")
    return value.astimezone(UTC)


def _utc_share(share: Share) -> Share:
    return replace(
        share,
        shared_at=_utc(share.shared_at),
        next_check_at=_utc(share.next_check_at),
        settled_at=_utc(share.settled_at) if share.settled_at else None,
    )


@dataclass
class _Leased:
    lease_until: datetime | None = None
    done: bool = False
    held: bool = False


@dataclass
class _Check:
    next_check_at: datetime
    cursor: datetime | None
    claim: str | None = None


class MemoryStore:
    """The Store Protocol over plain dicts. No method ever suspends, so each one
    is atomic under asyncio, as each is one transaction in the real stores."""

    def __init__(self) -> None:
        self.inbox: dict[str, tuple[IncomingMessage, _Leased]] = {}
        self.people: dict[str, Person] = {}
        self.grants: dict[str, Grant] = {}
        self.links: dict[str, PendingLink] = {}
        self.codes: dict[str, tuple[Grant, datetime]] = {}
        self.shares: dict[str, Share] = {}
        self.checks: dict[str, _Check] = {}
        self.outbox: dict[str, tuple[Outgoing, _Leased]] = {}
        self.closed = False

    async def migrate(self) -> None:
        return None

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        self.closed = True

    # -- inbox --
    async def add_incoming(self, message: IncomingMessage) -> bool:
        if message.id in self.inbox:
            return False
        message = replace(message, received_at=_utc(message.received_at))
        self.inbox[message.id] = (message, _Leased())
        return True

    async def claim_incoming(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> list[IncomingMessage]:
        now, lease_until = _utc(now), _utc(lease_until)
        free = [
            (message, state)
            for message, state in self.inbox.values()
            if not state.done and (state.lease_until is None or state.lease_until <= now)
        ]
        free.sort(key=lambda item: item[0].received_at)  # stable: ties keep arrival order
        for _, state in free[:limit]:
            state.lease_until = lease_until
        return [message for message, _ in free[:limit]]

    async def finish_incoming(self, message_id: str) -> None:
        if message_id in self.inbox:
            self.inbox[message_id][1].done = True

    async def purge(self, handled_before: datetime, now: datetime) -> int:
        handled_before, now = _utc(handled_before), _utc(now)
        old = [
            mid
            for mid, (message, state) in self.inbox.items()
            if state.done and message.received_at < handled_before
        ]
        links = [state for state, link in self.links.items() if link.expires_at <= now]
        codes = [code for code, (_, expires_at) in self.codes.items() if expires_at <= now]
        for mid in old:
            del self.inbox[mid]
        for state in links:
            del self.links[state]
        for code in codes:
            del self.codes[code]
        return len(old) + len(links) + len(codes)

    # -- people and grants --
    async def save_person(self, person: Person, grant: Grant) -> None:
        self.people[person.id] = replace(
            person, registered_at=_utc(person.registered_at), needs_reconnect=False
        )
        self.grants[person.id] = replace(grant, expires_at=_utc(grant.expires_at))

    async def get_person(self, person_id: str) -> Person | None:
        return self.people.get(person_id)

    async def find_people(self, name: str) -> list[Person]:
        key = name.casefold()
        found = [p for p in self.people.values() if p.name.casefold() == key]
        return sorted(found, key=lambda p: (p.registered_at, p.id))

    async def get_grant(self, person_id: str) -> Grant | None:
        return self.grants.get(person_id) if person_id in self.people else None

    async def save_grant(self, person_id: str, grant: Grant) -> None:
        if person_id in self.people:  # a grant belongs to a person; no orphans
            self.grants[person_id] = replace(grant, expires_at=_utc(grant.expires_at))

    async def mark_needs_reconnect(self, person_id: str) -> None:
        if person_id in self.people:
            self.people[person_id] = replace(self.people[person_id], needs_reconnect=True)

    # -- single-use secrets --
    async def save_pending_link(self, link: PendingLink) -> None:
        self.links[link.state] = replace(link, expires_at=_utc(link.expires_at))

    async def take_pending_link(self, state: str, now: datetime) -> PendingLink | None:
        link = self.links.pop(state, None)
        return link if link is not None and link.expires_at > _utc(now) else None

    async def save_signup_code(self, code: str, grant: Grant, expires_at: datetime) -> None:
        self.codes[code] = (replace(grant, expires_at=_utc(grant.expires_at)), _utc(expires_at))

    async def take_signup_code(self, code: str, now: datetime) -> Grant | None:
        entry = self.codes.pop(code, None)
        return entry[0] if entry is not None and entry[1] > _utc(now) else None

    # -- shares and checks --
    async def add_share(self, share: Share) -> None:
        if share.id in self.shares:
            return  # a reprocessed message must not duplicate or reset a share
        share = _utc_share(share)
        self.shares[share.id] = share
        if share.status is not ShareStatus.PENDING:
            return
        check = self.checks.get(share.recipient_id)
        if check is None:
            self.checks[share.recipient_id] = _Check(
                next_check_at=share.next_check_at,
                cursor=share.shared_at - CURSOR_BEFORE_SHARE,
            )
        else:
            check.next_check_at = min(check.next_check_at, share.next_check_at)

    async def get_share(self, share_id: str) -> Share | None:
        return self.shares.get(share_id)

    async def pending_shares(self, recipient_id: str) -> list[Share]:
        found = [
            s
            for s in self.shares.values()
            if s.recipient_id == recipient_id and s.status is ShareStatus.PENDING
        ]
        return sorted(found, key=lambda s: (s.shared_at, s.id))

    async def shares_sent_by(self, sender_id: str, limit: int) -> list[Share]:
        found = [s for s in self.shares.values() if s.sender_id == sender_id]
        return sorted(found, key=lambda s: (s.shared_at, s.id), reverse=True)[:limit]

    async def claim_due_checks(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> list[RecipientCheck]:
        now, lease_until = _utc(now), _utc(lease_until)
        due = sorted(
            (item for item in self.checks.items() if item[1].next_check_at <= now),
            key=lambda item: (item[1].next_check_at, item[0]),
        )[:limit]
        claimed = []
        for recipient_id, check in due:
            check.next_check_at = lease_until
            check.claim = secrets.token_hex(16)
            claimed.append(RecipientCheck(recipient_id, check.claim, check.cursor))
        return claimed

    async def settle_check(
        self,
        check: RecipientCheck,
        shares: Sequence[Share],
        cursor: datetime | None,
        outgoing: Sequence[Outgoing] = (),
    ) -> bool:
        if any(s.recipient_id != check.recipient_id for s in shares):
            raise ValueError("settle_check got a share of another recipient")
        current = self.checks.get(check.recipient_id)
        if current is None or current.claim is None or current.claim != check.claim:
            return False
        for share in shares:  # a check decides only where a share stands
            if share.id in self.shares:
                share = _utc_share(share)
                self.shares[share.id] = replace(
                    self.shares[share.id],
                    status=share.status,
                    next_check_at=share.next_check_at,
                    settled_at=share.settled_at,
                )
        await self.add_outgoing(outgoing)
        if cursor is not None:
            current.cursor = _utc(cursor)
        current.claim = None  # a claim settles once
        pending = [s.next_check_at for s in await self.pending_shares(check.recipient_id)]
        if pending:
            current.next_check_at = min(pending)
        else:
            del self.checks[check.recipient_id]
        return True

    async def next_check_at(self, recipient_id: str) -> datetime | None:
        check = self.checks.get(recipient_id)
        return check.next_check_at if check else None

    # -- outbox --
    async def add_outgoing(self, messages: Sequence[Outgoing]) -> None:
        for message in messages:
            if message.id not in self.outbox:  # idempotent, like the inbox
                message = replace(message, created_at=_utc(message.created_at))
                self.outbox[message.id] = (message, _Leased())

    async def claim_outgoing(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> list[Outgoing]:
        now, lease_until = _utc(now), _utc(lease_until)
        free = [
            (message, state)
            for message, state in self.outbox.values()
            if not state.held and (state.lease_until is None or state.lease_until <= now)
        ]
        free.sort(key=lambda item: item[0].created_at)
        for _, state in free[:limit]:
            state.lease_until = lease_until
        return [message for message, _ in free[:limit]]

    async def finish_outgoing(self, message_id: str) -> None:
        self.outbox.pop(message_id, None)

    async def hold_outgoing(self, message_id: str) -> None:
        if message_id in self.outbox:
            state = self.outbox[message_id][1]
            state.held, state.lease_until = True, None

    async def release_held(self, person_id: str) -> int:
        released = 0
        for message, state in self.outbox.values():
            if state.held and message.person_id == person_id:
                state.held, state.lease_until = False, None
                released += 1
        return released
