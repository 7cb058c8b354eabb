"""Per-person limits: sign-up attempts and shares per hour, counted in the store so
every worker agrees, so one person cannot make the bot flood a friend or spend the
app's Spotify quota."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sendsongs.domain import replies
from sendsongs.domain.models import Address, Reply
from sendsongs.ports import Ports

WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class Quotas:
    """How many of each a person may do per WINDOW."""

    signups: int = 5
    shares: int = 30


def signup_key(address: Address) -> str:
    # by address: a sign-up comes before there is a person to count against
    return f"signup:{address}"


def share_key(person_id: str) -> str:
    return f"share:{person_id}"


async def over_limit(ports: Ports, key: str, limit: int, what: str) -> Reply | None:
    """Count one attempt; None if allowed, else the reply saying when to try again."""
    now = ports.clock.now()
    free_at = await ports.stores.limits.take(key, now, WINDOW, limit)
    if free_at is None:
        return None
    return replies.too_many(what, WINDOW, free_at - now)
