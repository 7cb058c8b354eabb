"""When to look at a recipient's play history again, and when a share expires."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sendsongs.domain.models import Share


@dataclass(frozen=True)
class Schedule:
    """Check often right after a share (most listens happen then), rarely later."""

    fast_interval: timedelta = timedelta(minutes=5)
    fast_window: timedelta = timedelta(hours=1)
    slow_interval: timedelta = timedelta(hours=1)
    expire_after: timedelta = timedelta(days=7)
    first_check_after: timedelta | None = None  # None: the track's own length

    def first_check(self, shared_at: datetime, duration_ms: int) -> datetime:
        """Nobody can finish a song before it has played once through."""
        wait = self.first_check_after
        if wait is None:
            wait = timedelta(milliseconds=duration_ms)
        return min(shared_at + wait, self.expires_at(shared_at))

    def expires_at(self, shared_at: datetime) -> datetime:
        return shared_at + self.expire_after

    def is_expired(self, share: Share, now: datetime) -> bool:
        return now >= self.expires_at(share.shared_at)

    def next_check(self, share: Share, now: datetime) -> datetime:
        """The share's next check after one ran at `now`; never later than expiry,
        never earlier than its first check."""
        first = self.first_check(share.shared_at, share.track.duration_ms)
        if now < first:
            return first
        in_fast_window = now < share.shared_at + self.fast_window
        interval = self.fast_interval if in_fast_window else self.slow_interval
        return min(now + interval, self.expires_at(share.shared_at))
