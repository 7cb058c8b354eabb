"""The fixed catalog: Spotify-shaped ids, the seed's ids, one ISRC on two releases."""

from collections import Counter

from sendsongs.sandbox.catalog import TRACKS, derived_id, find_track, is_base62_id


def test_ids_are_unique_22_character_base62() -> None:
    assert len({t.id for t in TRACKS}) == len(TRACKS) >= 10
    assert all(is_base62_id(t.id) for t in TRACKS)


def test_the_seed_event_tracks_exist() -> None:
    assert find_track("46X0dXeliHXD73sxexJx7d") is not None
    happy = find_track("2I0FOWHzP5dBiNNFLFsxVt")
    assert happy is not None and happy.name == "Happy Now"


def test_exactly_one_recording_is_on_two_releases() -> None:
    shared = [isrc for isrc, n in Counter(t.isrc for t in TRACKS).items() if n > 1]
    assert len(shared) == 1
    versions = [t for t in TRACKS if t.isrc == shared[0]]
    assert {t.album_type for t in versions} == {"single", "album"}


def test_durations_are_two_to_five_minutes_and_isrcs_look_real() -> None:
    for track in TRACKS:
        assert 120_000 <= track.duration_ms <= 300_000
        assert len(track.isrc) == 12 and track.isrc[:2].isalpha()


def test_derived_ids_are_stable_base62() -> None:
    assert derived_id("artist:x") == derived_id("artist:x")
    assert is_base62_id(derived_id("album:y"))
