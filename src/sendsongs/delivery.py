"""Sending to people without losing anything: direct when possible, else the outbox."""

from __future__ import annotations

import uuid
from datetime import timedelta
from enum import Enum

import structlog

from sendsongs.domain.models import MessageKind, Outgoing, Reply
from sendsongs.errors import RecipientUnreachable, ServiceError, TransientError
from sendsongs.ports import ChatChannel, Clock, Store

log = structlog.get_logger(__name__)

OUTBOX_LEASE = timedelta(seconds=60)


class Sent(Enum):
    DELIVERED = "delivered"
    QUEUED = "queued"  # retried from the outbox shortly
    HELD = "held"  # until the person writes to us again (24-hour window)
    REFUSED = "refused"


class Delivery:
    def __init__(self, store: Store, chat: ChatChannel, clock: Clock) -> None:
        self._store, self._chat, self._clock = store, chat, clock

    def outgoing(self, person_id: str, reply: Reply, kind: MessageKind) -> Outgoing:
        """A message to put in the outbox together with the change that causes it."""
        return Outgoing(uuid.uuid4().hex, person_id, reply, self._clock.now(), kind)

    async def send(self, person_id: str, reply: Reply, kind: MessageKind) -> Sent:
        """Send now; if the channel can't take it, keep it in the outbox instead."""
        try:
            await self._chat.send(person_id, reply, kind)
        except RecipientUnreachable:
            message = self.outgoing(person_id, reply, kind)
            await self._store.add_outgoing([message])
            await self._store.hold_outgoing(message.id)
            log.info("message_held", person=person_id, reason="unreachable")
            return Sent.HELD
        except TransientError as error:
            await self._store.add_outgoing([self.outgoing(person_id, reply, kind)])
            log.warning("message_queued", person=person_id, error=str(error))
            return Sent.QUEUED
        except ServiceError as error:  # refused for good: retrying would fail forever
            log.error("message_refused", person=person_id, error=str(error))
            return Sent.REFUSED
        return Sent.DELIVERED

    async def deliver_outbox(self, limit: int = 50) -> int:
        """Send what waits in the outbox; returns how many were delivered."""
        now = self._clock.now()
        delivered = 0
        for message in await self._store.claim_outgoing(now, now + OUTBOX_LEASE, limit):
            try:
                await self._chat.send(message.person_id, message.reply, message.kind)
            except RecipientUnreachable:
                # outside Messenger's 24-hour window: wait until they write again
                await self._store.hold_outgoing(message.id)
                log.info("message_held", person=message.person_id, message=message.id)
                continue
            except TransientError as error:
                log.warning("message_retry_later", message=message.id, error=str(error))
                continue  # the lease runs out and it is claimed again
            except ServiceError as error:
                log.error("message_refused", message=message.id, error=str(error))
            await self._store.finish_outgoing(message.id)
            delivered += 1
        return delivered
