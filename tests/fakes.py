"""In-memory stand-ins for the ports: every store role, and a settable Clock."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from sendsongs.domain.models import (
    Address,
    Choice,
    Connection,
    ConnectionStatus,
    Grant,
    Group,
    IncomingMessage,
    Outgoing,
    PendingLink,
    Person,
    RecipientCheck,
    Share,
    ShareStatus,
)
from sendsongs.domain.names import closest
from sendsongs.errors import StoreError
from sendsongs.ports import LinkedAccount, Stores


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
        delivered_at=_utc(share.delivered_at) if share.delivered_at else None,
    )


@dataclass
class _Leased:
    lease_until: datetime | None = None
    done: bool = False
    held: bool = False
    not_before: datetime | None = None


@dataclass
class _Check:
    next_check_at: datetime
    claim: str | None = None
    version: int = 1


class MemoryStore:
    """Every store role over plain dicts. No method ever suspends, so each one is
    atomic under asyncio, as each is one transaction in the real stores."""

    def __init__(self) -> None:
        self.inbox: dict[str, tuple[IncomingMessage, _Leased]] = {}
        self.people: dict[str, Person] = {}
        self.addresses: dict[Address, tuple[str, datetime]] = {}  # -> (person id, seen)
        self.connections: dict[str, Connection] = {}
        self.links: dict[str, PendingLink] = {}
        self.codes: dict[str, tuple[LinkedAccount, datetime]] = {}
        self.choices: dict[str, Choice] = {}
        self.pauses: dict[str, datetime] = {}
        self.limit_events: dict[str, list[datetime]] = {}  # key -> expiry of each attempt
        self.erasures: dict[str, datetime] = {}
        self.shares: dict[str, Share] = {}
        self.checks: dict[str, _Check] = {}
        self.outbox: dict[str, tuple[Outgoing, _Leased]] = {}
        self.groups: dict[str, Group] = {}
        self.closed = False

    def roles(self) -> Stores:
        return Stores(
            people=self,
            shares=self,
            groups=self,
            inbox=self,
            outbox=self,
            secrets=self,
            pauses=self,
            limits=self,
            erasures=self,
            admin=self,
        )

    # -- admin --
    async def migrate(self) -> None:
        return None

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        self.closed = True

    async def purge(self, handled_before: datetime, now: datetime) -> None:
        handled_before, now = _utc(handled_before), _utc(now)
        for mid in [
            mid
            for mid, (message, state) in self.inbox.items()
            if state.done and message.received_at < handled_before
        ]:
            del self.inbox[mid]
        self.links = {k: v for k, v in self.links.items() if v.expires_at > now}
        self.codes = {k: v for k, v in self.codes.items() if v[1] > now}
        self.choices = {k: v for k, v in self.choices.items() if v.expires_at > now}
        self.limit_events = {
            k: alive for k, v in self.limit_events.items() if (alive := [e for e in v if e > now])
        }

    async def scrub(self) -> None:
        return None  # nothing deleted from a dict lingers anywhere

    async def reencrypt(self) -> int:
        return 0  # kept in memory, never encrypted

    # -- inbox --
    async def add_incoming(self, messages: Sequence[IncomingMessage]) -> int:
        # all or nothing, as one transaction: check every item before writing any
        checked = [replace(m, received_at=_utc(m.received_at)) for m in messages]
        added = 0
        for message in checked:
            if message.id not in self.inbox:
                self.inbox[message.id] = (message, _Leased())
                added += 1
        return added

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

    async def claim_message(
        self, message_id: str, now: datetime, lease_until: datetime
    ) -> IncomingMessage | None:
        now, lease_until = _utc(now), _utc(lease_until)
        found = self.inbox.get(message_id)
        if found is None:
            return None
        message, state = found
        if state.done or (state.lease_until is not None and state.lease_until > now):
            return None
        state.lease_until = lease_until
        return message

    async def finish_incoming(self, message_id: str) -> None:
        if message_id in self.inbox:
            message, state = self.inbox[message_id]
            state.done = True
            # as SQLite: only the id and the time stay
            self.inbox[message_id] = (
                IncomingMessage(message.id, Address("", ""), message.received_at),
                state,
            )

    # -- people, addresses, connections --
    async def save_person(self, person: Person, address: Address) -> None:
        at = _utc(person.registered_at)  # as SQLite: the time given, for the address too
        existing = self.people.get(person.id)
        kept = existing.registered_at if existing is not None else at
        self.people[person.id] = replace(person, registered_at=kept)
        seen = self.addresses.get(address, ("", at))[1]
        self.addresses[address] = (person.id, max(seen, at))

    async def get_person(self, person_id: str) -> Person | None:
        return self.people.get(person_id)

    async def person_at(self, address: Address) -> Person | None:
        entry = self.addresses.get(address)
        return None if entry is None else self.people.get(entry[0])

    async def address_of(self, person_id: str) -> Address | None:
        mine = [(seen, a) for a, (pid, seen) in self.addresses.items() if pid == person_id]
        if not mine:
            return None
        newest = max(seen for seen, _ in mine)
        return min(a for seen, a in mine if seen == newest)

    async def find_people(self, name: str) -> list[Person]:
        key = name.casefold()
        found = [p for p in self.people.values() if p.name.casefold() == key]
        return sorted(found, key=lambda p: (p.registered_at, p.id))

    async def find_similar(self, name: str, limit: int) -> list[Person]:
        people = sorted(self.people.values(), key=lambda p: (p.registered_at, p.id))
        return closest(name, ((p.name, p) for p in people), limit)

    async def save_connection(self, connection: Connection) -> None:
        taken = await self.connection_of_account(connection.source, connection.account or "")
        if taken is not None and taken.person_id != connection.person_id:
            raise StoreError("this account is connected to someone else")
        self.connections[connection.person_id] = replace(
            connection, connected_at=_utc(connection.connected_at), reminded_at=None
        )

    async def get_connection(self, person_id: str) -> Connection | None:
        return self.connections.get(person_id)

    async def connection_of_account(self, source: str, account: str) -> Connection | None:
        return next(
            (
                c
                for c in self.connections.values()
                if account and c.source == source and c.account == account
            ),
            None,
        )

    async def save_grant(self, person_id: str, grant: Grant) -> None:
        if person_id in self.connections:  # a grant belongs to a connection; no orphans
            self.connections[person_id] = replace(
                self.connections[person_id], grant=replace(grant, expires_at=_utc(grant.expires_at))
            )

    async def set_connection_status(self, person_id: str, status: ConnectionStatus) -> None:
        if person_id in self.connections:
            self.connections[person_id] = replace(self.connections[person_id], status=status)

    async def grants_to_renew(
        self, source: str, consented_before: datetime, limit: int
    ) -> list[Connection]:
        before = _utc(consented_before)
        due = [
            c
            for c in self.connections.values()
            if c.source == source
            and c.status is ConnectionStatus.OK
            and c.reminded_at is None
            and c.grant is not None
            and c.grant.consented_at is not None
            and c.grant.consented_at < before
        ]
        return sorted(due, key=lambda c: c.grant.consented_at)[: max(limit, 0)]  # type: ignore[union-attr,return-value]

    async def mark_reminded(self, person_id: str, at: datetime) -> None:
        if person_id in self.connections:
            self.connections[person_id] = replace(self.connections[person_id], reminded_at=_utc(at))

    async def addresses_of(self, person_id: str) -> list[Address]:
        return [a for a, (pid, _) in self.addresses.items() if pid == person_id]

    async def erase_person(self, person_id: str) -> None:
        self.people.pop(person_id, None)
        self.connections.pop(person_id, None)
        for address in await self.addresses_of(person_id):
            del self.addresses[address]

    # -- single-use secrets --
    async def save_pending_link(self, link: PendingLink) -> None:
        self.links[link.state] = replace(link, expires_at=_utc(link.expires_at))

    async def take_pending_link(self, state: str, now: datetime) -> PendingLink | None:
        link = self.links.pop(state, None)
        return link if link is not None and link.expires_at > _utc(now) else None

    async def save_signup_code(
        self, code: str, account: LinkedAccount, expires_at: datetime
    ) -> None:
        self.codes[code] = (account, _utc(expires_at))

    async def take_signup_code(self, code: str, now: datetime) -> LinkedAccount | None:
        entry = self.codes.pop(code, None)
        return entry[0] if entry is not None and entry[1] > _utc(now) else None

    async def save_choice(self, choice: Choice) -> None:
        self.choices[choice.token] = replace(choice, expires_at=_utc(choice.expires_at))

    async def take_choice(self, token: str, now: datetime) -> Choice | None:
        choice = self.choices.pop(token, None)
        return choice if choice is not None and choice.expires_at > _utc(now) else None

    async def erase_for(self, addresses: Sequence[Address], account: str | None) -> None:
        gone = set(addresses)
        self.links = {k: v for k, v in self.links.items() if v.address not in gone}
        self.choices = {k: v for k, v in self.choices.items() if v.address not in gone}
        if account is not None:
            self.codes = {k: v for k, v in self.codes.items() if v[0].account != account}

    # -- limits and erasure receipts --
    async def take(self, key: str, now: datetime, window: timedelta, limit: int) -> datetime | None:
        now = _utc(now)
        counted = [expiry for expiry in self.limit_events.get(key, []) if expiry > now]
        if len(counted) >= limit:
            self.limit_events[key] = counted
            return min(counted)
        self.limit_events[key] = [*counted, now + window]
        return None

    async def forget(self, keys: Sequence[str]) -> None:
        for key in keys:
            self.limit_events.pop(key, None)

    async def record_erasure(self, code: str, erased_at: datetime) -> None:
        self.erasures.setdefault(code, _utc(erased_at))

    async def erased_at(self, code: str) -> datetime | None:
        return self.erasures.get(code)

    # -- pauses --
    async def pause(self, source: str, until: datetime) -> None:
        until = _utc(until)
        self.pauses[source] = max(until, self.pauses.get(source, until))

    async def paused_until(self, source: str) -> datetime | None:
        return self.pauses.get(source)

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
            self.checks[share.recipient_id] = _Check(next_check_at=share.next_check_at)
            return
        check.version += 1
        if check.claim is None:  # a claimed check keeps its lease
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

    async def shares_of_send(self, group_send: str) -> list[Share]:
        found = [s for s in self.shares.values() if s.group_send == group_send]
        return sorted(found, key=lambda s: (s.shared_at, s.id))

    async def mark_delivered(self, share_id: str, at: datetime) -> None:
        at = _utc(at)
        share = self.shares.get(share_id)
        if share is not None and share.delivered_at is None:
            self.shares[share_id] = replace(share, delivered_at=at)

    async def cancel_share(self, share_id: str, at: datetime) -> bool:
        at = _utc(at)
        share = self.shares.get(share_id)
        if share is None or share.status is not ShareStatus.PENDING:
            return False
        self.shares[share_id] = replace(share, status=ShareStatus.CANCELLED, settled_at=at)
        return True

    # -- groups --
    async def create_group(self, group: Group) -> bool:
        key = group.name.casefold()
        taken = any(
            g.owner_id == group.owner_id and g.name.casefold() == key for g in self.groups.values()
        )
        if taken or group.id in self.groups:
            return False
        self.groups[group.id] = replace(
            group, created_at=_utc(group.created_at), members=tuple(dict.fromkeys(group.members))
        )
        return True

    async def get_group(self, group_id: str) -> Group | None:
        return self.groups.get(group_id)

    async def groups_of(self, person_id: str) -> list[Group]:
        mine = [g for g in self.groups.values() if g.includes(person_id)]
        return sorted(mine, key=lambda g: (g.name.casefold(), g.created_at, g.id))

    async def add_member(self, group_id: str, person_id: str) -> bool:
        group = self.groups.get(group_id)
        if group is None or person_id in group.members:
            return False
        self.groups[group_id] = replace(group, members=(*group.members, person_id))
        return True

    async def remove_member(self, group_id: str, person_id: str) -> bool:
        group = self.groups.get(group_id)
        if group is None or person_id not in group.members:
            return False
        kept = tuple(m for m in group.members if m != person_id)
        self.groups[group_id] = replace(group, members=kept)
        return True

    async def delete_group(self, group_id: str) -> None:
        self.groups.pop(group_id, None)

    async def claim_due_checks(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> list[RecipientCheck]:
        now, lease_until = _utc(now), _utc(lease_until)
        due = sorted(
            (item for item in self.checks.items() if item[1].next_check_at <= now),
            key=lambda item: (item[1].next_check_at, item[0]),
        )[: max(limit, 0)]
        claimed = []
        for recipient_id, check in due:
            check.next_check_at = lease_until
            check.claim = secrets.token_hex(16)
            claimed.append(RecipientCheck(recipient_id, check.claim, check.version))
        return claimed

    async def settle_check(
        self,
        check: RecipientCheck,
        shares: Sequence[Share],
        next_check_at: datetime | None,
        outgoing: Sequence[Outgoing] = (),
    ) -> bool:
        if any(s.recipient_id != check.recipient_id for s in shares):
            raise ValueError("settle_check got a share of another recipient")
        current = self.checks.get(check.recipient_id)
        if current is None or current.claim is None or current.claim != check.claim:
            return False
        # all or nothing, as one transaction: check every item before writing any
        checked = [_utc_share(share) for share in shares]
        for message in outgoing:
            _utc(message.created_at)
        due_given = None if next_check_at is None else _utc(next_check_at)
        for share in checked:  # a check decides only where a pending share stands
            stored = self.shares.get(share.id)
            if stored is not None and stored.status is ShareStatus.PENDING:
                self.shares[share.id] = replace(
                    stored,
                    status=share.status,
                    next_check_at=share.next_check_at,
                    settled_at=share.settled_at,
                    unread=share.unread,
                )
        await self.add_outgoing(outgoing)
        current.claim = None  # a claim settles once
        due = due_given
        if current.version != check.version:  # shares added since the claim
            pending = [s.next_check_at for s in await self.pending_shares(check.recipient_id)]
            due = min([d for d in (due, *pending) if d is not None], default=None)
        if due is None:
            del self.checks[check.recipient_id]
        else:
            current.next_check_at = due
        return True

    async def next_check_at(self, recipient_id: str) -> datetime | None:
        check = self.checks.get(recipient_id)
        return check.next_check_at if check else None

    async def erase_shares_of(self, person_id: str) -> list[Share]:
        gone = sorted(
            (s for s in self.shares.values() if person_id in (s.sender_id, s.recipient_id)),
            key=lambda s: (s.shared_at, s.id),
        )
        for share in gone:
            del self.shares[share.id]
        self.checks.pop(person_id, None)
        return gone

    # -- outbox --
    async def add_outgoing(self, messages: Sequence[Outgoing]) -> None:
        checked = [replace(m, created_at=_utc(m.created_at)) for m in messages]
        for message in checked:
            if message.id not in self.outbox:  # idempotent, like the inbox
                self.outbox[message.id] = (message, _Leased())

    async def claim_outgoing(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> list[Outgoing]:
        now, lease_until = _utc(now), _utc(lease_until)
        free = [
            (message, state)
            for message, state in self.outbox.values()
            if not state.held
            and (state.not_before is None or state.not_before <= now)
            and (state.lease_until is None or state.lease_until <= now)
        ]
        free.sort(key=lambda item: item[0].created_at)
        for _, state in free[: max(limit, 0)]:
            state.lease_until = lease_until
        return [message for message, _ in free[: max(limit, 0)]]

    async def finish_outgoing(self, message_id: str) -> None:
        self.outbox.pop(message_id, None)

    async def retry_outgoing(self, message_id: str, not_before: datetime) -> None:
        if message_id in self.outbox:
            state = self.outbox[message_id][1]
            state.not_before, state.lease_until = _utc(not_before), None

    async def hold_outgoing(self, message_id: str) -> None:
        if message_id in self.outbox:
            state = self.outbox[message_id][1]
            state.held, state.lease_until = True, None

    async def drop_held(self, created_before: datetime) -> list[Outgoing]:
        before = _utc(created_before)
        old = [m for m, state in self.outbox.values() if state.held and m.created_at < before]
        for message in old:
            del self.outbox[message.id]
        return sorted(old, key=lambda m: m.created_at)

    async def erase_to(self, addresses: Sequence[Address]) -> int:
        erased = set(addresses)
        gone = [
            mid
            for mid, (m, _) in self.outbox.items()
            if m.address in erased or m.on_behalf_of in erased
        ]
        for mid in gone:
            del self.outbox[mid]
        return len(gone)

    async def release_held(self, address: Address) -> int:
        released = 0
        for message, state in self.outbox.values():
            if state.held and message.address == address:
                state.held, state.lease_until, state.not_before = False, None, None
                released += 1
        return released
