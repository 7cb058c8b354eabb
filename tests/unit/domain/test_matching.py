"""What counts as a listen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sendsongs.domain.matching import find_listens, is_listen
from sendsongs.domain.models import Play, Share, Track

T0 = datetime(2026, 1, 1, tzinfo=UTC)
TRACK = Track("spotify:track:a", "Song", ("Artist",), 200_000, "u", isrc="USX1")
SHARE = Share("s", "alice", "bob", TRACK, T0, T0)


def test_play_at_or_after_the_share_counts() -> None:
    assert is_listen(SHARE, Play("spotify:track:a", T0))
    assert is_listen(SHARE, Play("spotify:track:a", T0 + timedelta(hours=1)))


def test_play_before_the_share_does_not() -> None:
    assert not is_listen(SHARE, Play("spotify:track:a", T0 - timedelta(milliseconds=1)))


def test_same_recording_elsewhere_counts_by_isrc() -> None:
    assert is_listen(SHARE, Play("spotify:track:other", T0, isrc="USX1"))
    assert not is_listen(SHARE, Play("spotify:track:other", T0, isrc="USX2"))
    assert not is_listen(SHARE, Play("spotify:track:other", T0, isrc=None))


def test_no_isrc_on_the_share_means_uri_only() -> None:
    share = Share("s", "a", "b", Track("spotify:track:a", "S", (), 1, "u"), T0, T0)
    assert not is_listen(share, Play("spotify:track:b", T0, isrc=None))


def test_find_listens_takes_the_earliest_qualifying_play() -> None:
    plays = [
        Play("spotify:track:a", T0 + timedelta(minutes=9)),
        Play("spotify:track:a", T0 + timedelta(minutes=3)),
        Play("spotify:track:a", T0 - timedelta(minutes=3)),
    ]
    [listen] = find_listens([SHARE], plays)
    assert listen.play.played_at == T0 + timedelta(minutes=3)
