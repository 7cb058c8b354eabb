"""Sending to people without losing anything: direct when possible, else the outbox.

Each message goes to an address; the address's channel name picks the adapter.
"""

from __future__ import annotations

import dataclasses
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
    PartlyDelivered,
    RateLimited,
    RecipientUnreachable,
    ServiceError,
    TransientError,
)
from sendsongs.ports import ChatChannel, Clock, Outbox, Shares

log = structlog.get_logger(__name__)

OUTBOX_LEASE = timedelta(seconds=60)
RETRY_FLOOR = timedelta(seconds=5)  # a passing failure is not retried sooner than this
RETRY_CEILING = timedelta(minutes=10)
# A channel refusing the bot itself (a revoked token) is fixed by the operator, often
# by a restart with a new token: try again soon, not on an ever longer backoff.
CHANNEL_RETRY = timedelta(seconds=30)


# An outbox message that carries a share's song has the id SHARE_MESSAGE + share id:
# when it is finally delivered, the share is marked delivered (status says so).
SHARE_MESSAGE = "deliver:"


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
    def __init__(
        self,
        outbox: Outbox,
        channels: Mapping[str, ChatChannel],
        clock: Clock,
        shares: Shares | None = None,
    ) -> None:
        self._outbox, self._channels, self._clock = outbox, channels, clock
        self._shares = shares  # to mark a share delivered when its held song goes out
        self._failing: dict[str, str] = {}  # channel -> why it refuses the bot

    @property
    def failing_channels(self) -> dict[str, str]:
        """Channels that refuse the bot itself right now, as this process saw last."""
        return dict(self._failing)

    def channel_refused(self, channel: str, why: str) -> None:
        """The channel refused the bot itself (a send, or registering its webhook):
        /healthz reports it failing until `channel_accepted`."""
        if channel not in self._failing:  # one loud line per outage, not per message
            log.error("channel_refuses_the_bot", channel=channel, error=why)
        self._failing[channel] = why

    def channel_accepted(self, channel: str) -> None:
        """The channel took a call from the bot again."""
        if self._failing.pop(channel, None) is not None:
            log.info("channel_recovered", channel=channel)

    def outgoing(
        self,
        address: Address,
        reply: Reply,
        kind: MessageKind,
        on_behalf_of: Address | None = None,
        message_id: str | None = None,
    ) -> Outgoing:
        """A message to put in the outbox together with the change that causes it."""
        now = self._clock.now()
        return Outgoing(message_id or uuid.uuid4().hex, address, reply, now, kind, on_behalf_of)

    async def send(
        self,
        address: Address,
        reply: Reply,
        kind: MessageKind,
        on_behalf_of: Address | None = None,
        share_id: str | None = None,
    ) -> Outcome:
        """Send now; if the channel can't take it, keep it in the outbox instead.
        `share_id`: the share whose song this is, marked delivered if it goes out
        from the outbox later."""
        message_id = None if share_id is None else SHARE_MESSAGE + share_id
        failure = await self._attempt(self.outgoing(address, reply, kind, on_behalf_of, message_id))
        if failure is None:
            return Outcome(Sent.DELIVERED)
        owed, error = failure
        return await self._keep(owed, error, stored=False)

    async def deliver_outbox(self, limit: int = 50) -> int:
        """Send what waits in the outbox; returns how many were delivered."""
        now = self._clock.now()
        delivered = 0
        for message in await self._outbox.claim_outgoing(now, now + OUTBOX_LEASE, limit):
            delivered += await self._deliver(message)
        return delivered

    async def _deliver(self, message: Outgoing) -> int:
        failure = await self._attempt(message)
        if failure is None:
            await self._outbox.finish_outgoing(message.id)
            await self._delivered(message)
            return 1
        owed, error = failure
        if owed.id == message.id:
            await self._keep(message, error, stored=True)
            return 0
        # the first parts arrived: keep only the rest, so nobody reads part 1 twice
        await self._keep(owed, error, stored=False)
        await self._outbox.finish_outgoing(message.id)
        return 0

    async def _attempt(self, message: Outgoing) -> tuple[Outgoing, ServiceError] | None:
        """Send; None when delivered, else what is still owed and why not."""
        try:
            await self._send(message.address, message.reply, message.kind)
        except PartlyDelivered as partial:
            rest = dataclasses.replace(message, id=uuid.uuid4().hex, reply=partial.rest)
            return rest, partial.cause
        except ServiceError as error:
            return message, error
        return None

    async def _delivered(self, message: Outgoing) -> None:
        if self._shares is not None and message.id.startswith(SHARE_MESSAGE):
            share_id = message.id.removeprefix(SHARE_MESSAGE)
            await self._shares.mark_delivered(share_id, self._clock.now())

    async def _keep(self, message: Outgoing, error: ServiceError, *, stored: bool) -> Outcome:
        """Hold, retry later or drop a message the channel did not take, as its error
        says; `stored`: the message is already an outbox row."""
        where = {"address": str(message.address), "message": message.id}
        if isinstance(error, RecipientUnreachable):
            await self._store(message, stored)
            await self._outbox.hold_outgoing(message.id)
            log.info("message_held", **where)
            return Outcome(Sent.HELD, error.explanation)
        if isinstance(error, TransientError | ChannelUnavailable):
            await self._store(message, stored)
            age = self._clock.now() - message.created_at
            await self._outbox.retry_outgoing(message.id, self._retry_at(error, _attempts(age)))
            log.warning("message_retry_later", error=str(error), **where)
            return Outcome(Sent.QUEUED, retrying(error, message.address.channel))
        # refused for good: retrying would fail forever
        log.error("message_refused", error=str(error), **where)
        if stored:
            await self._outbox.finish_outgoing(message.id)
        return Outcome(Sent.REFUSED)

    async def _store(self, message: Outgoing, stored: bool) -> None:
        if not stored:
            await self._outbox.add_outgoing([message])

    async def _send(self, address: Address, reply: Reply, kind: MessageKind) -> None:
        """One send, keeping track of whether the channel accepts the bot at all."""
        channel = address.channel
        try:
            await self._channel(address).send(address.id, reply, kind)
        except ChannelUnavailable as error:
            self.channel_refused(channel, str(error))
            raise
        self.channel_accepted(channel)

    def _channel(self, address: Address) -> ChatChannel:
        channel = self._channels.get(address.channel)
        if channel is None:  # an address of a channel this runtime was not given
            raise TransientError(f"channel {address.channel} is not configured")
        return channel

    def _retry_at(self, error: ServiceError, attempt: int) -> datetime:
        """As the error says (a stated wait), else exponential backoff with jitter."""
        if isinstance(error, ChannelUnavailable):
            return self._clock.now() + CHANNEL_RETRY
        if isinstance(error, RateLimited):
            wait = max(RETRY_FLOOR, timedelta(seconds=error.retry_after))
        else:
            backoff = RETRY_FLOOR * 2 ** min(attempt, 8)
            wait = min(RETRY_CEILING, backoff) * random.uniform(0.5, 1.0)  # noqa: S311
            wait = max(RETRY_FLOOR, wait)
        return self._clock.now() + wait


def retrying(error: ServiceError, channel: str) -> str:
    """Why a message waits for a passing failure, true to the error: a rate limit
    is the app asking us to slow down, anything else an outage or a refusal."""
    app = channel.capitalize()
    if isinstance(error, RateLimited):
        return f"{app} asked me to slow down for a moment, so it goes out shortly"
    if isinstance(error, ChannelUnavailable):
        return f"{app} isn't accepting messages from me right now; it goes out once that's fixed"
    return f"{app} isn't answering right now; I keep trying and it goes out once it's back"


def _attempts(age: timedelta) -> int:
    """A rough attempt count from a message's age: backoff doubles as it ages."""
    return max(1, int(age / RETRY_FLOOR).bit_length())
