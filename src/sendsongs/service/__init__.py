"""The use cases of Send Songs over the ports, one module each:

    conversation   store incoming messages, read them, answer (every command)
    registration   connect a play history (chat link, page and code)
    name_registration  connect a public history by user name (ListenBrainz, Last.fm)
    renewals       remind people before a grant lapses for good
    sharing        send_song: look up, find the friend or group, store, deliver
    groups         create, add to, remove from, leave, delete and list groups
    overview       status and cancel: where a person's shares stand
    choices        buttons that finish a command, kept server-side by token
    checks         per-recipient history checks: listened / expired, notices
    delivery       send now or keep in the outbox; route by address
    forgetting     `forget me` and erasure requests: erase a person
    limits         per-person sign-up and share limits

`Service` builds them once over a Ports; every runtime (serve, demo, Lambda,
benchmarks) drives the bot through it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog

from sendsongs.domain import replies
from sendsongs.domain.models import MessageKind
from sendsongs.domain.schedule import Schedule
from sendsongs.ports import Ports
from sendsongs.service.checks import ListenChecks
from sendsongs.service.conversation import Conversation
from sendsongs.service.delivery import Delivery
from sendsongs.service.forgetting import Forgetting
from sendsongs.service.groups import Groups
from sendsongs.service.limits import Quotas
from sendsongs.service.name_registration import NameRegistration
from sendsongs.service.overview import Overview
from sendsongs.service.registration import Registration
from sendsongs.service.renewals import Renewals
from sendsongs.service.sharing import Sharing
from sendsongs.signing import Signer

log = structlog.get_logger(__name__)

INBOX_MEMORY = timedelta(days=7)  # handled message ids are kept this long to drop redeliveries
HOLD_FOR = timedelta(days=7)  # a message for someone who can't be reached waits this long


class Service:
    """Every runtime drives the bot through this one object."""

    def __init__(
        self,
        ports: Ports,
        *,
        schedule: Schedule,
        signer: Signer,
        public_url: str,
        oauth_source: str = "spotify",
        quotas: Quotas | None = None,
    ) -> None:
        self.ports = ports
        self.schedule = schedule
        self.public_url = public_url
        quotas = quotas or Quotas()
        self.delivery = Delivery(
            ports.stores.outbox, ports.channels, ports.clock, ports.stores.shares
        )
        self.registration = Registration(
            ports, self.delivery, signer, public_url, oauth_source, quotas
        )
        self.groups = Groups(ports, self.delivery)
        self.name_registration = NameRegistration(ports, self.registration)
        self.sharing = Sharing(ports, self.delivery, schedule, self.groups, quotas)
        self.overview = Overview(ports)
        self.forgetting = Forgetting(ports, self.delivery)
        self.conversation = Conversation(
            ports,
            self.delivery,
            self.registration,
            self.name_registration,
            self.sharing,
            self.groups,
            self.overview,
            self.forgetting,
        )
        renewal_link = self.registration.renewal_link
        self.checks = ListenChecks(ports, self.delivery, schedule, renewal_link)
        self.renewals = Renewals(ports, self.delivery, renewal_link)

    async def housekeeping(self) -> None:
        """Forget long-handled messages and dead single-use secrets; remind people
        whose grant is about to lapse."""
        now = self.ports.clock.now()
        await self.ports.stores.admin.purge(now - INBOX_MEMORY, now)
        await self._drop_lapsed(now - HOLD_FOR)
        await self.renewals.remind_due()

    async def _drop_lapsed(self, created_before: datetime) -> None:
        """Held messages wait HOLD_FOR; then whoever sent them is told."""
        people = self.ports.stores.people
        for message in await self.ports.stores.outbox.drop_held(created_before):
            if message.on_behalf_of is None:
                continue
            friend = await people.person_at(message.address)
            reply = replies.held_lapsed(friend.name if friend else "your friend", HOLD_FOR)
            await self.delivery.send(message.on_behalf_of, reply, MessageKind.UPDATE)
