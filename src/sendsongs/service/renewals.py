"""Reminding people before their grant lapses for good.

Spotify refresh tokens stop working a fixed time after the person's consent, however
often they are refreshed; the only way on is the person signing in again. A week
ahead, they get their one-tap link.
"""

from __future__ import annotations

from datetime import timedelta

import structlog

from sendsongs.domain import replies
from sendsongs.domain.models import MessageKind
from sendsongs.ports import Ports
from sendsongs.service.checks import ReconnectLink
from sendsongs.service.delivery import Delivery

log = structlog.get_logger(__name__)

REMIND_BEFORE = timedelta(days=7)
BATCH = 100


class Renewals:
    def __init__(self, ports: Ports, delivery: Delivery, link: ReconnectLink) -> None:
        self._ports, self._delivery, self._link = ports, delivery, link

    async def remind_due(self) -> int:
        """Send each due reminder once; returns how many were sent."""
        sent = 0
        for source, account_link in self._ports.account_links.items():
            if account_link.grant_lifetime is not None:
                sent += await self._remind(source, account_link.grant_lifetime)
        return sent

    async def _remind(self, source: str, lifetime: timedelta) -> int:
        people, now = self._ports.stores.people, self._ports.clock.now()
        due = await people.grants_to_renew(source, now - lifetime + REMIND_BEFORE, BATCH)
        for connection in due:
            person = await people.get_person(connection.person_id)
            address = await people.address_of(connection.person_id)
            grant = connection.grant
            if person is None or address is None or grant is None or not grant.consented_at:
                continue
            lapses_at = grant.consented_at + lifetime
            reply = replies.renew_soon(lapses_at, self._link(address, person.name))
            await self._delivery.send(address, reply, MessageKind.UPDATE)
            await people.mark_reminded(connection.person_id, now)
            log.info("renewal_reminded", person=connection.person_id, source=source)
        return len(due)
