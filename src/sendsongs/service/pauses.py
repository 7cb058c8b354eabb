"""App-wide pauses a source asks for (HTTP 429), shared by every worker via the store."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import structlog

from sendsongs.errors import RateLimited
from sendsongs.ports import Pauses

log = structlog.get_logger(__name__)

# A Retry-After of 0 (or none) is not "now": pause at least the floor, plus up to half
# as much again of jitter, so workers do not all come back at the same instant.
RATE_LIMIT_FLOOR = timedelta(seconds=30)
# Beyond this, the source is out of quota, not briefly busy: say so loudly, once.
QUOTA_PAUSE = timedelta(hours=1)


async def pause_source(
    pauses: Pauses, source: str, error: RateLimited, now: datetime, floor: timedelta
) -> datetime:
    """Record a pause of `source` for every worker; returns when it ends."""
    stated = timedelta(seconds=error.retry_after)
    jitter = floor * random.uniform(0.0, 0.5)  # noqa: S311 - spreads retries, not a secret
    until = now + max(stated, floor) + jitter
    await pauses.pause(source, until)
    seconds = round((until - now).total_seconds())
    if stated >= QUOTA_PAUSE:
        log.error("source_quota_exhausted", source=source, seconds=seconds, detail=str(error))
    else:
        log.warning("source_paused", source=source, seconds=seconds)
    return until


async def paused_until(pauses: Pauses, source: str, now: datetime) -> datetime | None:
    """When the source's pause ends, if it is paused at `now`."""
    until = await pauses.paused_until(source)
    return until if until is not None and until > now else None
