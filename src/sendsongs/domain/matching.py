"""Decide which pending shares a recipient's plays settle: what counts as a listen."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from sendsongs.domain.models import Play, Share, Track

# ISRCs are sometimes reused for different songs by a label's mistake: an ISRC match
# counts only if the lengths agree this closely (or, without a length, the titles do).
ISRC_LENGTH_TOLERANCE_MS = 5_000
# Scrobblers report lengths loosely; beyond this, same-named songs are different takes.
TITLE_LENGTH_TOLERANCE_MS = 15_000

_SUFFIX = re.compile(
    r"\s*(?:[-\u2013\u2014]\s*|[(\[]\s*)"  # " - Remastered 2011" or "(Remastered 2011)"
    r"(?:\d{4}\s+)?(?:remaster(?:ed)?|re-?master(?:ed)?|single version|radio edit|"
    r"album version|mono|stereo|deluxe(?: edition)?)\b[^)\]]*[)\]]?",
    re.IGNORECASE,
)
_FEATURING = re.compile(r"(?<=\S)\s*[(\[]?\s*\b(?:feat|ft|featuring)\b\.?\s+[^)\]]*[)\]]?", re.I)
_NOT_WORD = re.compile(r"[^\w]+")


def normalize(text: str) -> str:
    """Case, accents, "feat. …" and "- Remastered" suffixes and punctuation removed:
    "Déjà Vu (feat. X) - Remastered 2011" → "deja vu"."""
    text = _SUFFIX.sub("", text)
    text = _FEATURING.sub("", text)
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(_NOT_WORD.sub(" ", plain.casefold()).split())


def is_same_track(one: Track, other: Track) -> bool:
    """Two tracks are one song: the same Spotify track, or the same ISRC (the same
    recording on another release) with lengths that agree, as for a play: a reused
    ISRC on a different song must not make it "already sent"."""
    if one.uri == other.uri:
        return True
    return (
        one.isrc is not None
        and one.isrc == other.isrc
        and abs(one.duration_ms - other.duration_ms) <= ISRC_LENGTH_TOLERANCE_MS
    )


def is_same_recording(track: Track, play: Play) -> bool:
    """The play is of the shared recording, tried in this order: the same Spotify
    track; the same ISRC with lengths that agree; the same MusicBrainz recording id
    (when the share has one); or, for listens that carry only names (a scrobble
    from Apple Music, say), the same normalized artist and title, the length
    breaking ties when both are known."""
    if play.track_uri is not None and play.track_uri == track.uri:
        return True
    if track.isrc and play.isrc == track.isrc:
        if play.duration_ms is not None:
            return abs(play.duration_ms - track.duration_ms) <= ISRC_LENGTH_TOLERANCE_MS
        return _same_names(track, play)
    if track.recording_mbid and play.recording_mbid == track.recording_mbid:
        return True
    if play.title is None or play.artist is None:
        return False
    if not _same_names(track, play):
        return False
    return (
        play.duration_ms is None
        or abs(play.duration_ms - track.duration_ms) <= TITLE_LENGTH_TOLERANCE_MS
    )


def _same_names(track: Track, play: Play) -> bool:
    if play.title is None or play.artist is None:
        return False
    if normalize(play.title) != normalize(track.name):
        return False
    played_by = normalize(play.artist)
    return any(
        (artist := normalize(name)) and (artist in played_by or played_by in artist)
        for name in track.artists
    )


def is_listen(share: Share, play: Play) -> bool:
    """A play counts only from the moment of sharing on: a song heard last month
    is not a listen."""
    return play.played_at >= share.shared_at and is_same_recording(share.track, play)


@dataclass(frozen=True)
class Listen:
    share: Share
    play: Play


def find_listens(shares: Iterable[Share], plays: Iterable[Play]) -> list[Listen]:
    """The earliest qualifying play of each share that has one."""
    ordered = sorted(plays, key=lambda p: p.played_at)
    listens = []
    for share in shares:
        play = next((p for p in ordered if is_listen(share, p)), None)
        if play is not None:
            listens.append(Listen(share, play))
    return listens
