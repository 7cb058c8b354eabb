"""What counts as a listen: the same recording, played at or after the share."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from sendsongs.domain.matching import find_listens, is_listen, normalize
from sendsongs.domain.models import Play, Share, Track

T0 = datetime(2026, 1, 1, tzinfo=UTC)
TRACK = Track("spotify:track:a", "Song", ("Artist",), 200_000, "u", isrc="USX1")
SHARE = Share("s", "alice", "bob", TRACK, T0, T0)


def test_play_at_or_after_the_share_counts() -> None:
    assert is_listen(SHARE, Play(T0, "spotify:track:a"))
    assert is_listen(SHARE, Play(T0 + timedelta(hours=1), "spotify:track:a"))


def test_play_before_the_share_does_not() -> None:
    assert not is_listen(SHARE, Play(T0 - timedelta(milliseconds=1), "spotify:track:a"))


def test_same_recording_elsewhere_counts_by_isrc_when_the_lengths_agree() -> None:
    assert is_listen(SHARE, Play(T0, "spotify:track:other", "USX1", 202_000))
    assert not is_listen(SHARE, Play(T0, "spotify:track:other", "USX2", 200_000))
    assert not is_listen(SHARE, Play(T0, "spotify:track:other", None, 200_000))


def test_one_isrc_on_two_different_songs_is_not_a_listen() -> None:
    """Labels have reused ISRCs: "Salt and Sand" (1.5 s) and "Totally Different
    Song" (241 s, another artist) carried the same one."""
    salt = Track("spotify:track:salt", "Salt and Sand", ("Marina",), 1_500, "u", "USRC17000006")
    share = Share("s", "alice", "bob", salt, T0, T0)
    other = Play(T0, "spotify:track:other", "USRC17000006", 241_000, title="Totally Different Song")
    assert not is_listen(share, other)


def test_an_isrc_without_a_length_needs_the_same_names() -> None:
    named = Play(T0, None, "USX1", None, artist="Artist", title="Song")
    assert is_listen(SHARE, named)
    assert not is_listen(SHARE, Play(T0, None, "USX1", None, artist="Other", title="Else"))


def test_no_isrc_on_the_share_means_uri_only() -> None:
    share = Share("s", "a", "b", Track("spotify:track:a", "S", (), 1, "u"), T0, T0)
    assert not is_listen(share, Play(T0, "spotify:track:b"))


def test_a_scrobble_with_only_names_counts_despite_spelling() -> None:
    track = Track("spotify:track:h", "Here Comes the Sun", ("The Beatles",), 185_000, "u")
    share = Share("s", "a", "b", track, T0, T0)
    scrobble = Play(T0, artist="The Beatles", title="Here Comes The Sun - Remastered 2009")
    assert is_listen(share, scrobble)
    assert not is_listen(share, Play(T0, artist="The Beatles", title="Something"))
    assert not is_listen(share, Play(T0, artist="Nina Simone", title="Here Comes the Sun"))


def test_a_name_match_with_a_far_off_length_is_another_take() -> None:
    longer = Play(T0, artist="Artist", title="Song", duration_ms=400_000)
    assert not is_listen(SHARE, longer)


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("Déjà Vu (feat. X) - Remastered 2011", "deja vu"),
        ("Song (Remastered 2011)", "song"),
        ("Hey Jude - 2015 Remaster", "hey jude"),
        ("With or Without You", "with or without you"),
        ("Happy Now ft. Elley Duhé", "happy now"),
        ("Left (Live)", "left live"),
    ],
)
def test_normalize(given: str, expected: str) -> None:
    assert normalize(given) == expected


def test_find_listens_takes_the_earliest_qualifying_play() -> None:
    plays = [
        Play(T0 + timedelta(minutes=9), "spotify:track:a"),
        Play(T0 + timedelta(minutes=3), "spotify:track:a"),
        Play(T0 - timedelta(minutes=3), "spotify:track:a"),
    ]
    [listen] = find_listens([SHARE], plays)
    assert listen.play.played_at == T0 + timedelta(minutes=3)


# -- listens from ListenBrainz and Last.fm: the examples of the issue --

PAPER = Track(
    "spotify:track:46X0dXeliHXD73sxexJx7d", "Paper Lanterns", ("The Velvet Orchards",),
    221_480, "u", isrc="USXR11700231",
)  # fmt: skip
PAPER_SHARE = Share("s", "alice", "carol", PAPER, T0, T0)


def test_a_listen_carrying_the_spotify_id_counts() -> None:
    """ListenBrainz's Spotify import: additional_info.spotify_id, read as a URI."""
    assert is_listen(PAPER_SHARE, Play(T0, "spotify:track:46X0dXeliHXD73sxexJx7d"))


def test_a_listen_carrying_the_isrc_counts_on_another_release() -> None:
    assert is_listen(PAPER_SHARE, Play(T0, "spotify:track:single", "USXR11700231", 222_000))


def test_the_recording_mbid_counts_when_the_share_has_one() -> None:
    mbid = "8f3471b5-7e6a-48da-86a9-c1c07a0f47ae"
    with_mbid = Share("s", "a", "c", replace(PAPER, recording_mbid=mbid), T0, T0)
    assert is_listen(with_mbid, Play(T0, recording_mbid=mbid))
    assert not is_listen(with_mbid, Play(T0, recording_mbid="another"))
    assert not is_listen(PAPER_SHARE, Play(T0, recording_mbid=mbid))  # the catalog had none


@pytest.mark.parametrize(
    ("artist", "title"),
    [
        ("The Velvet Orchards", "Paper Lanterns (Remastered 2011)"),
        ("the velvet orchards", "PAPER LANTERNS - Remastered 2011"),
        ("The Velvet Orchards feat. Juno Ashby", "Paper Lanterns"),
        ("The Velvet Orchards", "Paper Lanterns (feat. Juno Ashby)"),
        ("The Vélvet Orchards", "Paper Lanterns!"),
    ],
)
def test_a_listen_with_only_artist_and_title_counts_whatever_the_spelling(
    artist: str, title: str
) -> None:
    """A play in Apple Music, scrobbled: no Spotify id, no ISRC, a title spelt its way."""
    assert is_listen(PAPER_SHARE, Play(T0, artist=artist, title=title))


def test_a_different_song_by_the_same_artist_is_not_a_listen() -> None:
    assert not is_listen(PAPER_SHARE, Play(T0, artist="The Velvet Orchards", title="Low Tide"))


def test_the_length_breaks_a_tie_between_same_named_takes() -> None:
    near = Play(T0, artist="The Velvet Orchards", title="Paper Lanterns", duration_ms=225_000)
    live = Play(T0, artist="The Velvet Orchards", title="Paper Lanterns", duration_ms=480_000)
    assert is_listen(PAPER_SHARE, near)
    assert not is_listen(PAPER_SHARE, live)


def test_a_scrobble_before_the_share_does_not_count() -> None:
    early = Play(T0 - timedelta(seconds=1), artist="The Velvet Orchards", title="Paper Lanterns")
    assert not is_listen(PAPER_SHARE, early)


def test_a_whole_second_scrobble_in_the_shares_own_second_counts() -> None:
    from sendsongs.sources.wire import within_second

    shared = Share("s", "a", "b", TRACK, T0 + timedelta(milliseconds=700), T0)
    stamp = int(T0.timestamp())
    assert is_listen(shared, Play(within_second(stamp), "spotify:track:a"))
    assert not is_listen(shared, Play(within_second(stamp - 1), "spotify:track:a"))
    # a millisecond-precise play just before the share never counts
    assert not is_listen(shared, Play(T0 + timedelta(milliseconds=699), "spotify:track:a"))
