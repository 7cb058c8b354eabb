"""Spotify track links in every form people paste them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sendsongs.domain.links import find_track_id, mentions_spotify

ID = "46X0dXeliHXD73sxexJx7d"


@pytest.mark.parametrize(
    "text",
    [
        f"https://open.spotify.com/track/{ID}",
        f"https://open.spotify.com/track/{ID}?si=rLATOJAeSnqx9yZ11XYP5g",
        f"https://open.spotify.com/intl-de/track/{ID}?si=abc",
        f"https://open.spotify.com/intl-pt-br/track/{ID}",
        f"http://open.spotify.com/track/{ID}/",
        f"spotify:track:{ID}",
        f"listen to this: https://open.spotify.com/track/{ID}, now!",
        "https://l.facebook.com/l.php?u=https%3A%2F%2Fopen.spotify.com%2Ftrack%2F"
        f"{ID}%3Fsi%3Dx&h=AT",
    ],
)
def test_track_links_are_recognised(text: str) -> None:
    assert find_track_id(text) == ID


@pytest.mark.parametrize(
    "text",
    [
        f"https://open.spotify.com/album/{ID}",
        f"https://open.spotify.com/playlist/{ID}",
        "https://open.spotify.com/track/short",
        f"https://evil.example/open.spotify.com/track/{ID}x",
        f"spotify:album:{ID}",
        "no link at all",
    ],
)
def test_other_links_are_not_tracks(text: str) -> None:
    assert find_track_id(text) is None


def test_albums_still_count_as_spotify_links() -> None:
    assert mentions_spotify(f"https://open.spotify.com/album/{ID}")
    assert not mentions_spotify("https://example.com")


@given(
    st.text(
        alphabet="0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
        min_size=22,
        max_size=22,
    )
)
def test_any_base62_id_round_trips(track_id: str) -> None:
    assert find_track_id(f"https://open.spotify.com/track/{track_id}?si=1") == track_id
    assert find_track_id(f"spotify:track:{track_id}") == track_id


@given(st.text())
def test_never_raises(text: str) -> None:
    find_track_id(text)
    mentions_spotify(text)
