"""Sending to people without losing anything: direct when possible, else the outbox.

Each message goes to an address; the address's channel name picks the adapter.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

import structlog

from sendsongs.domain.models import Address, MessageKind, Outgoing, Reply
from sendsongs.errors import (
    ChannelUnavailable,
    RateLimited,
    RecipientUnreachable,
    ServiceError,
    TransientError,
)
from sendsongs.ports import ChatChannel, Clock, Outbox

log = structlog.get_logger(__name__)

OUTBOX_LEASE = timedelta(seconds=60)
RETRY_FLOOR = timedelta(seconds=5)  # a passing failure is not retried sooner than this
RETRY_CEILING = timedelta(minutes=10)


class Sent(Enum):
    DELIVERED = "delivered"
    QUEUED = "queued"  # kept in the outbox and retried
    HELD = "held"  # until the person writes to us again
    REFUSED = "refused"


@dataclass(frozen=True)
class Outcome:
    """What became of one message, and why in words a sender can read (for HELD)."""

    sent: Sent
    explanation: str = ""


class Delivery:
    def __init__(self, outbox: Outbox, channels: Mapping[str, ChatChannel], clock: Clock) -> None:
        self._outbox, self._channels, self._clock = outbox, channels, clock

    def outgoing(self, address: Address, reply: Reply, kind: MessageKind) -> Outgoing:
        """A message to put in the outbox together with the change that causes it."""
        return Outgoing(uuid.uuid4().hex, address, reply, self._clock.now(), kind)

    async def send(self, address: Address, reply: Reply, kind: MessageKind) -> Outcome:
        """Send now; if the channel can't take it, keep it in the outbox instead."""
        message = self.outgoing(address, reply, kind)
        try:
            await self._channel(address).send(address.id, reply, kind)
        except RecipientUnreachable as error:
            await self._outbox.add_outgoing([message])
            await self._outbox.hold_outgoing(message.id)
            log.info("message_held", address=str(address))
            return Outcome(Sent.HELD, error.explanation)
        except (TransientError, ChannelUnavailable) as error:
            await self._outbox.add_outgoing([message])
            await self._outbox.retry_outgoing(message.id, self._retry_at(error, 1))
            log.warning("message_queued", address=str(address), error=str(error))
            return Outcome(Sent.QUEUED)
        except ServiceError as error:  # refused for good: retrying would fail forever
            log.error("message_refused", address=str(address), error=str(error))
            return Outcome(Sent.REFUSED)
        return Outcome(Sent.DELIVERED)

    async def deliver_outbox(self, limit: int = 50) -> int:
        """Send what waits in the outbox; returns how many were delivered."""
        now = self._clock.now()
        delivered = 0
        for message in await self._outbox.claim_outgoing(now, now + OUTBOX_LEASE, limit):
            delivered += await self._deliver(message)
        return delivered

    async def _deliver(self, message: Outgoing) -> int:
        try:
            await self._channel(message.address).send(
                message.address.id, message.reply, message.kind
            )
        except RecipientUnreachable:
            await self._outbox.hold_outgoing(message.id)
            log.info("message_held", address=str(message.address), message=message.id)
            return 0
        except (TransientError, ChannelUnavailable) as error:
            age = self._clock.now() - message.created_at
            await self._outbox.retry_outgoing(message.id, self._retry_at(error, _attempts(age)))
            log.warning("message_retry_later", message=message.id, error=str(error))
            return 0
        except ServiceError as error:
            log.error("message_refused", message=message.id, error=str(error))
        await self._outbox.finish_outgoing(message.id)
        return 1

    def _channel(self, address: Address) -> ChatChannel:
        channel = self._channels.get(address.channel)
        if channel is None:  # an address of a channel this runtime was not given
            raise TransientError(f"channel {address.channel} is not configured")
        return channel

    def _retry_at(self, error: ServiceError, attempt: int) -> datetime:
        """As the error says (a stated wait), else exponential backoff with jitter."""
        if isinstance(error, RateLimited):
            wait = max(RETRY_FLOOR, timedelta(seconds=error.retry_after))
        else:
            backoff = RETRY_FLOOR * 2 ** min(attempt, 8)
            wait = min(RETRY_CEILING, backoff) * random.uniform(0.5, 1.0)  # noqa: S311
            wait = max(RETRY_FLOOR, wait)
        return self._clock.now() + wait


def _attempts(age: timedelta) -> int:
    """A rough attempt count from a message's age: backoff doubles as it ages."""
    return max(1, int(age / RETRY_FLOOR).bit_length())
