"""The local background loop of `serve`: inbox, due listen checks and the outbox."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import structlog

from sendsongs.service import Service

log = structlog.get_logger(__name__)

Step = Callable[[], Awaitable[float | None]]  # returns seconds to pause, None: poll
# waits until no webhook awaits its acknowledgement, at most the seconds given
Quiet = Callable[[float], Awaitable[None]]
CHECK_POLL = 0.5  # seconds: a due check runs within about this long of its time
OUTBOX_POLL = 5.0  # retrying messages that failed for a passing reason
HOUSEKEEPING_EVERY = 3600.0
# Messages handled at a time. Each answer is an outgoing HTTPS call, which costs
# the event loop more than storing a webhook; few at a time leaves the loop to
# the webhooks under load (a burst is stored first and answered right after,
# docs/benchmarks.md), and one slow look-up still holds up only its own lane.
INBOX_BATCH = 4
# Answers step aside while webhooks wait for their acknowledgement (web/in_flight.py),
# for at most this many seconds after new messages arrive: then they are answered side
# by side with the flood, so a flood that never pauses still gets its answers.
ANSWERS_WAIT_AT_MOST = 2.0


async def _never_busy(at_most: float) -> None:
    """No web front to yield to (the worker alone, tests)."""


class Worker:
    """Runs until `stop()`; the work in hand finishes, anything else stays claimable."""

    def __init__(
        self, service: Service, *, check_poll: float = CHECK_POLL, quiet: Quiet = _never_busy
    ) -> None:
        self._service = service
        self._check_poll = check_poll
        self._quiet = quiet
        self._inbox = asyncio.Event()
        self._stopping = asyncio.Event()

    def wake(self) -> None:
        """New messages arrived: handle them now instead of at the next poll."""
        self._inbox.set()

    def stop(self) -> None:
        self._stopping.set()
        self._inbox.set()

    async def run(self) -> None:
        log.info("worker_started")
        async with asyncio.TaskGroup() as group:
            group.create_task(self._loop(self._inbox_once, self._check_poll, self._inbox))
            group.create_task(self._loop(self._checks_once, self._check_poll))
            group.create_task(self._loop(self._outbox_once, OUTBOX_POLL))
            group.create_task(self._loop(self._housekeeping_once, HOUSEKEEPING_EVERY))
        log.info("worker_stopped")

    async def _loop(
        self,
        step: Callable[[], Awaitable[float | None]],
        poll: float,
        event: asyncio.Event | None = None,
    ) -> None:
        while not self._stopping.is_set():
            try:
                pause = await step()
            except Exception:
                log.exception("worker_step_failed", step=step.__name__)
                pause = poll
            await self._sleep(pause if pause is not None else poll, event)

    async def _inbox_once(self) -> float | None:
        self._inbox.clear()
        loop = asyncio.get_running_loop()
        yield_until = loop.time() + ANSWERS_WAIT_AT_MOST
        while not self._stopping.is_set():
            if (left := yield_until - loop.time()) > 0:
                await self._quiet(left)
            if not await self._service.conversation.process_inbox(limit=INBOX_BATCH):
                break
        return None

    async def _checks_once(self) -> float | None:
        # A source's rate-limit pause is kept in the store and honoured per check,
        # so every worker (and Lambda) sees it; here only the polling rhythm.
        sweep = await self._service.checks.run_due()
        return 0.0 if sweep.checked else None  # more may be due right away

    async def _outbox_once(self) -> float | None:
        await self._service.delivery.deliver_outbox()
        return None

    async def _housekeeping_once(self) -> float | None:
        await self._service.housekeeping()
        return None

    async def _sleep(self, seconds: float, event: asyncio.Event | None) -> None:
        waiter = event or self._stopping
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(waiter.wait(), timeout=seconds)
