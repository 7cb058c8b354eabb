"""Time for the sandbox: an injectable clock and the ISO-8601 form both vendors use."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], float]  # unix seconds; tests pass their own to move time


def system_clock() -> float:
    return time.time()


def iso(seconds: float) -> str:
    """Unix seconds as `2026-11-28T10:00:00.123Z`: UTC, milliseconds, a Z."""
    moment = datetime.fromtimestamp(seconds, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_iso(text: str) -> float:
    """Unix seconds from an ISO-8601 timestamp; a missing zone means UTC."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()
