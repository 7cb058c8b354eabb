"""Decide which pending shares a recipient's plays settle."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sendsongs.domain.models import Play, Share


def is_listen(share: Share, play: Play) -> bool:
    """A play counts only from the moment of sharing on: a song heard last month
    is not a listen. ISRC matching lets the same recording on another album,
    single or compilation count too."""
    if play.played_at < share.shared_at:
        return False
    if play.track_uri == share.track.uri:
        return True
    return bool(share.track.isrc) and play.isrc == share.track.isrc


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
