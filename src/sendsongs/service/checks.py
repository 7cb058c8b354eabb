"""Checking recipients' play histories: one history request settles every pending
share of that recipient, whichever source their connection is."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from sendsongs.domain import group_replies, replies
from sendsongs.domain.matching import find_listens
from sendsongs.domain.models import (
    Address,
    Connection,
    ConnectionStatus,
    MessageKind,
    Outgoing,
    Play,
    RecipientCheck,
    Reply,
    Share,
    ShareStatus,
)
from sendsongs.domain.schedule import Schedule
from sendsongs.errors import AccessRefused, GrantRevoked, NotFound, RateLimited, ServiceError
from sendsongs.ports import Ports
from sendsongs.service import namesakes
from sendsongs.service.delivery import Delivery
from sendsongs.service.pauses import RATE_LIMIT_FLOOR, pause_source, paused_until

log = structlog.get_logger(__name__)

CHECK_LEASE = timedelta(seconds=60)  # a crashed worker's checks come due again after this
CONCURRENCY = 8

ReconnectLink = Callable[[Address, str], str]  # (address, name) -> personal link


@dataclass(frozen=True)
class Sweep:
    """What one pass over due checks did."""

    checked: int


@dataclass(frozen=True)
class _Reading:
    """The recipient's plays, or None when the history could not be read now."""

    plays: list[Play] | None
    notices: list[tuple[str, Reply]]  # (person id, message)
    not_before: datetime | None = None  # the source asked for a pause


class ListenChecks:
    def __init__(
        self,
        ports: Ports,
        delivery: Delivery,
        schedule: Schedule,
        reconnect_link: ReconnectLink,
    ) -> None:
        self._ports, self._delivery, self._schedule = ports, delivery, schedule
        self._reconnect_link = reconnect_link
        # never shorter than the floor, nor than one fast interval when that is shorter
        self.floor = min(RATE_LIMIT_FLOOR, schedule.fast_interval)

    async def claim_due(self, limit: int, lease: timedelta) -> list[RecipientCheck]:
        """Claim due recipient checks for checkers elsewhere (a queue); a claim not
        settled within `lease` comes due again by itself."""
        now = self._ports.clock.now()
        return await self._ports.stores.shares.claim_due_checks(now, now + lease, limit)

    async def run_due(self, limit: int = 50) -> Sweep:
        """Claim the due recipient checks and run them, a few at a time."""
        now = self._ports.clock.now()
        claimed = await self._ports.stores.shares.claim_due_checks(now, now + CHECK_LEASE, limit)
        if not claimed:
            return Sweep(0)
        gate = asyncio.Semaphore(CONCURRENCY)

        async def bounded(check: RecipientCheck) -> None:
            async with gate:
                try:
                    await self.check(check)
                except Exception:  # one broken check must not stop the others;
                    log.exception("check_failed", recipient=check.recipient_id)
                    # its lease runs out and it comes due again

        await asyncio.gather(*(bounded(check) for check in claimed))
        await self._delivery.deliver_outbox()
        return Sweep(len(claimed))

    async def check(self, check: RecipientCheck) -> bool:
        """Settle every pending share of one recipient; False if the claim was lost."""
        stores = self._ports.stores
        shares = await stores.shares.pending_shares(check.recipient_id)
        if not shares:
            return await stores.shares.settle_check(check, [], None)
        connection = await stores.people.get_connection(check.recipient_id)
        since = min(share.shared_at for share in shares)
        reading = await self._read(connection, since)
        now = self._ports.clock.now()
        updated, listened, expired = self._decide(shares, reading, now)
        outgoing = [
            *await self._notices(reading.notices),
            *await self._messages(listened, expired, could_read=reading.plays is not None),
        ]
        pending = [share for share in updated if share.status is ShareStatus.PENDING]
        next_at = min((share.next_check_at for share in pending), default=None)
        settled = await stores.shares.settle_check(check, updated, next_at, outgoing)
        if not settled:
            log.warning("check_claim_lost", recipient=check.recipient_id)
            return False
        await self._summaries({s.group_send for s in [*listened, *expired] if s.group_send})
        return True

    async def _summaries(self, group_sends: set[str]) -> None:
        """Once every share of a group send is settled, one line to the sender. Read
        after the settle, so whichever member's check settles last sees them all;
        two that settle together both write the summary under one outbox id, and
        the outbox keeps one."""
        for group_send in group_sends:
            shares = await self._ports.stores.shares.shares_of_send(group_send)
            if any(s.status in (ShareStatus.PENDING, ShareStatus.CANCELLED) for s in shares):
                continue
            names = await self._names({s.recipient_id for s in shares})
            found = [await self._ports.stores.people.get_person(pid) for pid in names]
            names |= await namesakes.labels(
                self._ports, shares[0].sender_id, [p for p in found if p is not None]
            )  # two members of one name are told apart
            reply = group_replies.group_summary(
                shares[0].group_name or "the group",
                shares[0].track,
                [names[s.recipient_id] for s in shares if s.status is ShareStatus.LISTENED],
                [names[s.recipient_id] for s in shares if s.status is not ShareStatus.LISTENED],
            )
            address = await self._ports.stores.people.address_of(shares[0].sender_id)
            if address is None:
                continue
            summary = Outgoing(
                f"summary:{group_send}", address, reply, self._ports.clock.now(), MessageKind.UPDATE
            )
            await self._ports.stores.outbox.add_outgoing([summary])

    def _decide(
        self, shares: Sequence[Share], reading: _Reading, now: datetime
    ) -> tuple[list[Share], list[Share], list[Share]]:
        heard = {listen.share.id for listen in find_listens(shares, reading.plays or [])}
        updated, listened, expired = [], [], []
        for share in shares:
            if share.id in heard:
                listened.append(_settled(share, ShareStatus.LISTENED, now))
            elif self._schedule.is_expired(share, now):
                ended = _settled(share, ShareStatus.EXPIRED, now)
                # remembered, so status says "couldn't read" as the notice does
                expired.append(dataclasses.replace(ended, unread=reading.plays is None))
            else:
                next_at = self._schedule.next_check(share, now)
                if reading.not_before is not None:
                    # never more often than the schedule, never past the expiry
                    expiry = self._schedule.expires_at(share.shared_at)
                    next_at = min(max(next_at, reading.not_before), expiry)
                updated.append(dataclasses.replace(share, next_check_at=next_at))
        return [*updated, *listened, *expired], listened, expired

    async def _read(self, connection: Connection | None, since: datetime) -> _Reading:
        """The plays since `since`, or why not: every failure is told or logged,
        and the shares keep to their schedule (and expire on time)."""
        if connection is None or not connection.readable:
            return _Reading(None, [])
        source = connection.source
        history = self._ports.histories.get(source)
        if history is None:
            log.error("source_not_configured", source=source)
            return _Reading(None, [])
        now = self._ports.clock.now()
        paused = await paused_until(self._ports.stores.pauses, source, now)
        if paused is not None:
            return _Reading(None, [], paused)
        try:
            return _Reading((await history.plays(connection, since)).plays, [])
        except GrantRevoked:
            return await self._lost(connection, ConnectionStatus.REVOKED)
        except (AccessRefused, NotFound):  # NotFound: a public history renamed or deleted
            return await self._lost(connection, ConnectionStatus.REFUSED)
        except RateLimited as error:
            pauses = self._ports.stores.pauses
            return _Reading(None, [], await pause_source(pauses, source, error, now, self.floor))
        except ServiceError as error:  # 5xx, timeouts, a second 401: keep the schedule
            log.warning("history_unavailable", source=source, error=str(error))
            return _Reading(None, [])

    async def _lost(self, connection: Connection, status: ConnectionStatus) -> _Reading:
        people = self._ports.stores.people
        await people.set_connection_status(connection.person_id, status)
        log.info("connection_lost", person=connection.person_id, status=status.value)
        person = await people.get_person(connection.person_id)
        address = await people.address_of(connection.person_id)
        if person is None or address is None:
            return _Reading(None, [])
        if status is ConnectionStatus.REVOKED:
            notice = replies.reconnect_needed(self._reconnect_link(address, person.name))
        elif connection.grant is not None:  # an OAuth source: Spotify's allow-list
            notice = replies.access_refused()
        else:  # a public history made private, renamed or deleted
            notice = replies.history_refused(connection.source, connection.account)
        return _Reading(None, [(person.id, notice)])

    async def _notices(self, notices: Sequence[tuple[str, Reply]]) -> list[Outgoing]:
        return [
            message
            for person_id, reply in notices
            if (message := await self._to(person_id, reply)) is not None
        ]

    async def _messages(
        self, listened: Sequence[Share], expired: Sequence[Share], *, could_read: bool
    ) -> list[Outgoing]:
        """Tell senders what happened and give friends the `post` notes."""
        names = await self._names(
            {s.sender_id for s in [*listened, *expired]}
            | {s.recipient_id for s in [*listened, *expired]}
        )
        drafts: list[tuple[str, Reply]] = []
        for share in listened:
            friend, sender = names[share.recipient_id], names[share.sender_id]
            drafts.append((share.sender_id, replies.friend_listened(friend, share.track)))
            if share.post:
                note = replies.post_note(sender, share.post, share.track)
                drafts.append((share.recipient_id, note))
        for share in expired:
            if share.group_send is not None:
                continue  # the group's summary tells who didn't listen
            friend = names[share.recipient_id]
            after = self._schedule.expire_after
            reply = (
                replies.share_expired(friend, share.track, after)
                if could_read
                else replies.share_expired_unread(friend, share.track, after)
            )
            drafts.append((share.sender_id, reply))
        return await self._notices(drafts)

    async def _to(self, person_id: str, reply: Reply) -> Outgoing | None:
        address = await self._ports.stores.people.address_of(person_id)
        if address is None:
            return None
        return self._delivery.outgoing(address, reply, MessageKind.UPDATE)

    async def _names(self, person_ids: set[str]) -> dict[str, str]:
        names = {}
        for person_id in person_ids:
            person = await self._ports.stores.people.get_person(person_id)
            names[person_id] = person.name if person else "Your friend"
        return names


def _settled(share: Share, status: ShareStatus, now: datetime) -> Share:
    return dataclasses.replace(share, status=status, settled_at=now)
