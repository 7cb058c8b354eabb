"""When checks happen and when shares expire."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from sendsongs.domain.models import Share, Track
from sendsongs.domain.schedule import Schedule

T0 = datetime(2026, 1, 1, tzinfo=UTC)
TRACK = Track("spotify:track:x", "Song", ("Artist",), 200_000, "https://open.spotify.com/track/x")
SCHEDULE = Schedule()


def share(at: datetime = T0) -> Share:
    return Share("s", "a", "b", TRACK, at, at)


def test_first_check_waits_for_the_song_to_play_once() -> None:
    assert SCHEDULE.first_check(T0, 200_000) == T0 + timedelta(seconds=200)


def test_fixed_first_check_overrides_the_duration() -> None:
    schedule = Schedule(first_check_after=timedelta(seconds=2))
    assert schedule.first_check(T0, 200_000) == T0 + timedelta(seconds=2)


def test_fast_then_slow() -> None:
    assert SCHEDULE.next_check(share(), T0 + timedelta(minutes=10)) == T0 + timedelta(minutes=15)
    assert SCHEDULE.next_check(share(), T0 + timedelta(minutes=61)) == T0 + timedelta(minutes=121)


def test_never_past_expiry() -> None:
    late = T0 + timedelta(days=7) - timedelta(minutes=1)
    assert SCHEDULE.next_check(share(), late) == T0 + timedelta(days=7)
    assert SCHEDULE.is_expired(share(), T0 + timedelta(days=7))
    assert not SCHEDULE.is_expired(share(), late)


@given(st.integers(min_value=0, max_value=8 * 86400))
def test_next_check_is_in_the_future_or_at_expiry(offset: int) -> None:
    now = T0 + timedelta(seconds=offset)
    nxt = SCHEDULE.next_check(share(), now)
    assert nxt <= SCHEDULE.expires_at(T0) or nxt == SCHEDULE.first_check(T0, 200_000)
    assert nxt > now or nxt == SCHEDULE.expires_at(T0)
