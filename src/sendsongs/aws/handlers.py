"""The four Lambda entry points, named in deploy/terraform (DESIGN.md §8):

    http_handler    API Gateway HTTP API (payload 2.0) → the bot's ASGI app (Mangum)
    inbox_handler   SQS FIFO batch of stored message ids → the conversation
    sweep_handler   EventBridge, every minute → due checks onto the check queue,
                    the outbox drained, lost inbox hand-overs queued again
    check_handler   SQS batch of claimed recipient checks → settle, notify

Nothing is built at import: the first invocation of a container (its cold start) reads
the settings and secrets and builds the runtime once; later invocations reuse it, on
one event loop, so HTTP connections and the store's client stay warm. Both SQS handlers
report partial batch failures (Powertools' batch utility), so only failed records come
back, and a FIFO group stops at its first failure to keep each person's order.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

import structlog
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    SqsFifoPartialProcessor,
    process_partial_response,
)
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from mangum import Mangum

from sendsongs.aws.settings import lambda_settings
from sendsongs.bootstrap import Overrides, Runtime, build_app, build_queues, build_runtime
from sendsongs.errors import ConfigError
from sendsongs.logs import configure_logging
from sendsongs.ports import CheckQueue, InboxNotifier
from sendsongs.queues.sqs import check_from_body, message_id_from_body

log = structlog.get_logger(__name__)

T = TypeVar("T")
SWEEP_BATCH = 100  # checks claimed per round of a sweep
SWEEP_BUDGET_MS = 15_000  # stop starting new rounds with less than this left
# A queued check waits for a checker: longer than a local one, shorter than the check
# queue's visibility timeout (360 s), so a lost message comes due again before a retry.
QUEUED_CHECK_LEASE = timedelta(minutes=5)
# Stored messages not handled this long after arrival lost their way to the queue
# (or failed there): longer than the inbox queue's retries (5 x 180 s visibility).
STALE_INBOX = timedelta(minutes=20)

Event = dict[str, Any]


@dataclass
class Container:
    """What one Lambda container builds on its first invocation."""

    runtime: Runtime
    notifier: InboxNotifier
    checks: CheckQueue
    loop: asyncio.AbstractEventLoop
    http: Mangum

    def run(self, work: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(work)


_container: Container | None = None


def cold_start(overrides: Overrides | None = None) -> Container:
    """Build this container's runtime from the environment and SSM (tests pass
    `overrides`, e.g. an HTTP client onto the sandbox)."""
    global _container
    settings = lambda_settings(os.environ)
    configure_logging(settings.log_level)
    queues = build_queues(settings)
    if queues is None:
        raise ConfigError("SENDSONGS_INBOX_QUEUE_URL and SENDSONGS_CHECK_QUEUE_URL must be set")
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)  # Mangum and every handler run on this one loop
    runtime = build_runtime(settings, overrides)
    app = build_app(runtime, run_worker=False)
    _container = Container(runtime, queues[0], queues[1], loop, Mangum(app, lifespan="off"))
    log.info("cold_start", store=settings.database_url)
    return _container


def _warm() -> Container:
    return _container or cold_start()


def http_handler(event: Event, context: Any) -> dict[str, Any]:
    """API Gateway HTTP API (payload format 2.0) → the ASGI app."""
    return _warm().http(event, context)


def inbox_handler(event: Event, context: Any) -> PartialItemFailureResponse:
    """A batch from the FIFO inbox queue: each body names one stored message."""
    container = _warm()
    conversation = container.runtime.service.conversation

    def handle(record: SQSRecord) -> None:
        handled = container.run(conversation.process_message(message_id_from_body(record.body)))
        if not handled:
            log.info("inbox_skipped", message_id=message_id_from_body(record.body))

    processor = SqsFifoPartialProcessor(skip_group_on_error=True)
    return process_partial_response(event, handle, processor, context)


def check_handler(event: Event, context: Any) -> PartialItemFailureResponse:
    """A batch from the check queue: each body is one claimed recipient check."""
    container = _warm()
    checks = container.runtime.service.checks

    def handle(record: SQSRecord) -> None:
        check = check_from_body(record.body)
        if not container.run(checks.check(check)):
            log.info("check_claim_lost", recipient=check.recipient_id)

    response = process_partial_response(event, handle, BatchProcessor(EventType.SQS), context)
    container.run(container.runtime.service.delivery.deliver_outbox())  # the news at once
    return response


def sweep_handler(event: Event, context: Any) -> dict[str, int]:
    """EventBridge's scheduled event, every minute."""
    container = _warm()
    return container.run(_sweep(container, context))


async def _sweep(container: Container, context: Any) -> dict[str, int]:
    service = container.runtime.service

    def time_left() -> bool:
        remaining = getattr(context, "get_remaining_time_in_millis", None)
        return remaining is None or remaining() > SWEEP_BUDGET_MS

    queued = 0
    while time_left():
        claimed = await service.checks.claim_due(SWEEP_BATCH, QUEUED_CHECK_LEASE)
        if claimed:
            await container.checks.send_checks(claimed)
        queued += len(claimed)
        if len(claimed) < SWEEP_BATCH:
            break
    delivered = 0
    while time_left() and (sent := await service.delivery.deliver_outbox()):
        delivered += sent
    stale = await service.conversation.stale_messages(STALE_INBOX)
    if stale:
        await container.notifier.notify(stale)
    summary = {"checks_queued": queued, "delivered": delivered, "requeued": len(stale)}
    log.info("sweep", **summary)
    return summary
