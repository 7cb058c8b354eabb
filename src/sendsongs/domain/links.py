"""Recognise Spotify track links in what people type or share."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, unquote, urlparse

_ID = r"[0-9A-Za-z]{22}"
_WEB = re.compile(
    rf"https?://open\.spotify\.com/(?:intl-[a-z]{{2}}(?:-[a-z]{{2}})?/)?(?:embed/)?track/({_ID})"
    r"(?![0-9A-Za-z])",
    re.IGNORECASE,
)
_URI = re.compile(rf"\bspotify:track:({_ID})\b")
# Messenger sometimes wraps shared links in its redirector: l.facebook.com/l.php?u=<link>
_REDIRECT = re.compile(r"https?://l\.facebook\.com/l\.php\?\S+", re.IGNORECASE)
_SPOTIFY_ANY = re.compile(r"https?://(?:open\.)?spotify\.com/\S*|spotify:\S+", re.IGNORECASE)
# What Spotify's share sheet produces on some platforms: a redirect to open.spotify.com.
SHORT_LINK_HOSTS = ("spotify.link", "link.tospotify.com")
_SHORT = re.compile(r"https?://(spotify\.link|link\.tospotify\.com)/([0-9A-Za-z_-]{4,64})\b", re.I)


def find_track_id(text: str) -> str | None:
    """The id of the first Spotify track link or URI in `text`, if any."""
    for candidate in (text, *_unwrapped_redirects(text)):
        match = _WEB.search(candidate) or _URI.search(candidate)
        if match:
            # ids are case-sensitive base62; the case-insensitive regex only
            # relaxes the host and the intl segment, the group is taken verbatim
            return match.group(1)
    return None


def find_short_link(text: str) -> tuple[str, str] | None:
    """(host, code) of the first Spotify short link in `text`, if any; its target is
    only known by following the redirect."""
    for candidate in (text, *_unwrapped_redirects(text)):
        match = _SHORT.search(candidate)
        if match:
            return match.group(1).lower(), match.group(2)
    return None


def song_links(text: str) -> set[str]:
    """The different Spotify track ids and short links in `text` (redirectors
    unwrapped): more than one means several songs were pasted."""
    found = set()
    for candidate in (text, *_unwrapped_redirects(text)):
        found |= {m.group(1) for m in _WEB.finditer(candidate)}
        found |= {m.group(1) for m in _URI.finditer(candidate)}
        found |= {f"{m.group(1).lower()}/{m.group(2)}" for m in _SHORT.finditer(candidate)}
    return found


def mentions_spotify(text: str) -> bool:
    """True when the text holds a Spotify link of some kind (album, playlist, a
    mangled track link): worth a specific reply rather than "no link"."""
    return bool(_SPOTIFY_ANY.search(text))


def track_url(track_id: str) -> str:
    return f"https://open.spotify.com/track/{track_id}"


def _unwrapped_redirects(text: str) -> list[str]:
    links = []
    for match in _REDIRECT.finditer(text):
        for target in parse_qs(urlparse(match.group(0)).query).get("u", []):
            links.append(unquote(target))
    return links
