"""Checking recipients' play histories: one call settles all of a recipient's shares."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import structlog

from sendsongs.domain import replies
from sendsongs.domain.matching import find_listens
from sendsongs.domain.models import (
    Grant,
    MessageKind,
    Outgoing,
    Play,
    RecipientCheck,
    Share,
    ShareStatus,
)
from sendsongs.domain.schedule import Schedule
from sendsongs.errors import (
    AccessTokenRejected,
    GrantRevoked,
    RateLimited,
    ServiceError,
    TransientError,
)

if TYPE_CHECKING:
    from sendsongs.delivery import Delivery
    from sendsongs.ports import Ports

log = structlog.get_logger(__name__)

CHECK_LEASE = timedelta(seconds=60)  # a crashed worker's checks come due again after this
REFRESH_MARGIN = timedelta(seconds=60)  # refresh a little before Spotify would refuse
TRANSIENT_RETRY = timedelta(seconds=30)  # or the fast interval, when that is shorter
CONCURRENCY = 8


@dataclass(frozen=True)
class Sweep:
    """What one pass over due checks did."""

    checked: int
    backoff: float = 0.0  # seconds the music service asked us to pause


@dataclass(frozen=True)
class _Plays:
    plays: list[Play]
    outgoing: list[Outgoing]
    retry_at: datetime | None = None  # set when the history could not be read


class ListenChecks:
    def __init__(self, ports: Ports, delivery: Delivery, schedule: Schedule) -> None:
        self._ports, self._delivery, self._schedule = ports, delivery, schedule
        self._retry = min(TRANSIENT_RETRY, schedule.fast_interval)

    async def run_due(self, limit: int = 50) -> Sweep:
        """Claim the due recipient checks and run them, a few at a time."""
        now = self._ports.clock.now()
        claimed = await self._ports.store.claim_due_checks(now, now + CHECK_LEASE, limit)
        if not claimed:
            return Sweep(0)
        gate = asyncio.Semaphore(CONCURRENCY)

        async def bounded(check: RecipientCheck) -> float:
            async with gate:
                try:
                    return await self.check(check)
                except Exception:  # one broken check must not stop the others;
                    log.exception("check_failed", recipient=check.recipient_id)
                    return 0.0  # its lease runs out and it comes due again

        backoffs = await asyncio.gather(*(bounded(check) for check in claimed))
        await self._delivery.deliver_outbox()
        return Sweep(len(claimed), max(backoffs))

    async def check(self, check: RecipientCheck) -> float:
        """Settle every pending share of one recipient; returns the back-off the
        music service asked for (0 when none)."""
        store = self._ports.store
        shares = await store.pending_shares(check.recipient_id)
        history = await self._history(check) if shares else _Plays([], [])
        now = self._ports.clock.now()
        if history.retry_at is not None:
            retry_at = history.retry_at
            updated = [dataclasses.replace(s, next_check_at=retry_at) for s in shares]
            await store.settle_check(check, updated, check.cursor, history.outgoing)
            return max(0.0, (retry_at - now).total_seconds())
        updated, outgoing = await self._settle(shares, history.plays, now)
        cursor = max([check.cursor, *(p.played_at for p in history.plays)], key=_sort_key)
        settled = await store.settle_check(check, updated, cursor, [*history.outgoing, *outgoing])
        if not settled:
            log.warning("check_claim_lost", recipient=check.recipient_id)
        return 0.0

    async def _settle(
        self, shares: Sequence[Share], plays: Sequence[Play], now: datetime
    ) -> tuple[list[Share], list[Outgoing]]:
        heard = {listen.share.id for listen in find_listens(shares, plays)}
        updated, listened, expired = [], [], []
        for share in shares:
            if share.id in heard:
                listened.append(_settled(share, ShareStatus.LISTENED, now))
            elif self._schedule.is_expired(share, now):
                expired.append(_settled(share, ShareStatus.EXPIRED, now))
            else:
                next_at = self._schedule.next_check(share, now)
                updated.append(dataclasses.replace(share, next_check_at=next_at))
        return [*updated, *listened, *expired], await self._messages(listened, expired)

    async def _history(self, check: RecipientCheck) -> _Plays:
        """The recipient's plays since the cursor, refreshing the token only if needed."""
        store, now = self._ports.store, self._ports.clock.now()
        person = await store.get_person(check.recipient_id)
        grant = await store.get_grant(check.recipient_id)
        if person is None or grant is None or person.needs_reconnect:
            return _Plays([], [])  # shares still expire on time
        try:
            if grant.expires_at <= now + REFRESH_MARGIN:
                grant = await self._refresh(person.id, grant)
            try:
                plays = await self._ports.music.recently_played(grant.access_token, check.cursor)
            except AccessTokenRejected:
                grant = await self._refresh(person.id, grant)
                plays = await self._ports.music.recently_played(grant.access_token, check.cursor)
        except GrantRevoked:
            await store.mark_needs_reconnect(person.id)
            log.info("grant_revoked", person=person.id)
            notice = self._delivery.outgoing(
                person.id, replies.reconnect_needed(), MessageKind.UPDATE
            )
            return _Plays([], [notice])
        except RateLimited as error:
            log.warning("rate_limited", retry_after=error.retry_after)
            return _Plays([], [], now + timedelta(seconds=error.retry_after))
        except TransientError as error:  # 5xx, timeouts: soon worth another try
            log.warning("history_unavailable", recipient=person.id, error=str(error))
            return _Plays([], [], now + self._retry)
        except ServiceError as error:  # a second 401, a 403: keep to the normal schedule
            log.error("history_refused", recipient=person.id, error=str(error))
            return _Plays([], [])
        return _Plays(plays, [])

    async def _refresh(self, person_id: str, grant: Grant) -> Grant:
        fresh = await self._ports.music.refresh(grant)
        await self._ports.store.save_grant(person_id, fresh)  # keeps a rotated refresh token
        return fresh

    async def _messages(
        self, listened: Sequence[Share], expired: Sequence[Share]
    ) -> list[Outgoing]:
        """Tell senders what happened and give friends the `post` notes."""
        names = await self._names(
            {s.sender_id for s in [*listened, *expired]}
            | {s.recipient_id for s in [*listened, *expired]}
        )
        update = MessageKind.UPDATE
        outgoing = []
        for share in listened:
            friend, sender = names[share.recipient_id], names[share.sender_id]
            reply = replies.friend_listened(friend, share.track)
            outgoing.append(self._delivery.outgoing(share.sender_id, reply, update))
            if share.post:
                note = replies.post_note(sender, share.post, share.track)
                outgoing.append(self._delivery.outgoing(share.recipient_id, note, update))
        for share in expired:
            reply = replies.share_expired(
                names[share.recipient_id], share.track, self._schedule.expire_after
            )
            outgoing.append(self._delivery.outgoing(share.sender_id, reply, update))
        return outgoing

    async def _names(self, person_ids: set[str]) -> dict[str, str]:
        names = {}
        for person_id in person_ids:
            person = await self._ports.store.get_person(person_id)
            names[person_id] = person.name if person else "Your friend"
        return names


def _settled(share: Share, status: ShareStatus, now: datetime) -> Share:
    return dataclasses.replace(share, status=status, settled_at=now)


def _sort_key(value: datetime | None) -> float:
    return value.timestamp() if value else float("-inf")
