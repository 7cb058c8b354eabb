"""The fixed catalog: Spotify-shaped ids, the seed's ids, ISRCs shared on purpose."""

from collections import Counter

from sendsongs.sandbox.catalog import TRACKS, derived_id, find_track, is_base62_id


def test_ids_are_unique_22_character_base62() -> None:
    assert len({t.id for t in TRACKS}) == len(TRACKS) >= 10
    assert all(is_base62_id(t.id) for t in TRACKS)


def test_the_seed_event_tracks_exist() -> None:
    assert find_track("46X0dXeliHXD73sxexJx7d") is not None
    happy = find_track("2I0FOWHzP5dBiNNFLFsxVt")
    assert happy is not None and happy.name == "Happy Now"


def test_one_recording_on_two_releases_and_one_isrc_on_two_songs() -> None:
    shared = {isrc for isrc, n in Counter(t.isrc for t in TRACKS).items() if n > 1}
    assert shared == {"SEBGA2400113", "USRC17000006"}
    same = [t for t in TRACKS if t.isrc == "SEBGA2400113"]
    assert {t.album_type for t in same} == {"single", "album"}
    assert len({(t.name, t.artists, t.duration_ms) for t in same}) == 1
    salt, other = (t for t in TRACKS if t.isrc == "USRC17000006")
    assert (salt.name, salt.duration_ms) == ("Salt and Sand", 1_500)
    assert (other.name, other.duration_ms) == ("Totally Different Song", 241_000)
    assert salt.artists != other.artists


def test_no_entry_is_listed_twice() -> None:
    entries = [(t.name, t.artists, t.album, t.release_date) for t in TRACKS]
    assert len(set(entries)) == len(entries)


def test_durations_are_two_to_five_minutes_and_isrcs_look_real() -> None:
    for track in TRACKS:
        if track.name != "Salt and Sand":  # 1.5 s on purpose: no play of it counts
            assert 120_000 <= track.duration_ms <= 300_000
        assert len(track.isrc) == 12 and track.isrc[:2].isalpha()


def test_derived_ids_are_stable_base62() -> None:
    assert derived_id("artist:x") == derived_id("artist:x")
    assert is_base62_id(derived_id("album:y"))
