"""ListenBrainz's public listens over HTTP, with its rate-limit headers read.

API reference: https://listenbrainz.readthedocs.io/en/latest/users/api/core.html
(`GET /1/user/{user}/listens`), rate limiting:
https://listenbrainz.readthedocs.io/en/latest/users/api/index.html#rate-limiting
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from sendsongs.domain.links import find_track_id
from sendsongs.domain.models import Play
from sendsongs.errors import NotFound, RateLimited, ServiceError, TransientError
from sendsongs.sources.wire import get, json_object, text, within_second

SERVICE = "listenbrainz"
# ListenBrainz sends no Retry-After; its windows are 10 s long. Used when a 429
# comes without X-RateLimit-Reset-In.
DEFAULT_RESET_IN = 10.0


@dataclass(frozen=True)
class ListensPage:
    """One answer of `/listens`: newest first, as ListenBrainz orders them."""

    user: str | None  # the user name as ListenBrainz spells it, when a listen shows it
    plays: list[Play]
    returned: int  # listens on the page, before any was skipped
    oldest_ts: int | None  # unix seconds of the oldest listen on the page
    remaining: int | None  # X-RateLimit-Remaining: calls left in this window
    reset_in: float | None  # X-RateLimit-Reset-In: seconds until the window resets


class ListenBrainzClient:
    def __init__(self, http: httpx.AsyncClient, *, api_url: str, user_agent: str) -> None:
        self._http = http
        self._api_url = api_url.rstrip("/")
        self._headers = {"User-Agent": user_agent}

    async def listens(self, user: str, count: int, max_ts: int | None = None) -> ListensPage:
        """The newest `count` listens of `user` strictly before `max_ts` (unix
        seconds; None: the newest of all). NotFound for an unknown user;
        RateLimited on 429 (X-RateLimit-Reset-In seconds); TransientError on 5xx."""
        params: dict[str, int] = {"count": count}
        if max_ts is not None:
            params["max_ts"] = max_ts
        url = f"{self._api_url}/1/user/{quote(user, safe='')}/listens"
        response = await get(self._http, SERVICE, url, params=params, headers=self._headers)
        remaining, reset_in = _rate_headers(response)
        _raise_for_status(response, user, reset_in)
        payload = json_object(response).get("payload")
        if not isinstance(payload, dict) or not isinstance(payload.get("listens"), list):
            raise TransientError("listenbrainz listens response has no payload.listens")
        items = payload["listens"]
        stamps = [item["listened_at"] for item in items if _timestamp(item) is not None]
        return ListensPage(
            user=_spelling(items),
            plays=[play for item in items if (play := _play(item)) is not None],
            returned=len(items),
            oldest_ts=min(stamps, default=None),
            remaining=remaining,
            reset_in=reset_in,
        )


def _spelling(items: list[Any]) -> str | None:
    """The user name as stored, from a listen's `user_name` (`payload.user_id`
    echoes the name as asked, whatever its letter case)."""
    first = items[0] if items else None
    return text(first.get("user_name")) if isinstance(first, dict) else None


def _raise_for_status(response: httpx.Response, user: str, reset_in: float | None) -> None:
    status = response.status_code
    if status < 300:
        return
    detail = text(json_object(response).get("error")) or f"HTTP {status}"
    if status == 404:
        raise NotFound(f"listenbrainz has no user {user!r}")
    if status == 429:
        raise RateLimited(DEFAULT_RESET_IN if reset_in is None else reset_in, "listenbrainz")
    if status >= 500:
        raise TransientError(f"listenbrainz: HTTP {status} {detail[:200]}")
    raise ServiceError(f"listenbrainz: HTTP {status} {detail[:200]}")


def _rate_headers(response: httpx.Response) -> tuple[int | None, float | None]:
    def number(name: str) -> float | None:
        try:
            value = float(response.headers.get(name, ""))
        except ValueError:
            return None
        return value if value >= 0 else None

    remaining = number("x-ratelimit-remaining")
    return (None if remaining is None else int(remaining)), number("x-ratelimit-reset-in")


def _timestamp(item: object) -> int | None:
    if not isinstance(item, dict) or item.get("playing_now"):
        return None  # now playing is not a finished listen
    stamp = item.get("listened_at")
    return stamp if isinstance(stamp, int) and not isinstance(stamp, bool) else None


def _play(item: object) -> Play | None:
    """One listen with every id it carries; None for a now-playing entry."""
    stamp = _timestamp(item)
    if stamp is None or not isinstance(item, dict):
        return None
    meta = item.get("track_metadata")
    meta = meta if isinstance(meta, dict) else {}
    info = meta.get("additional_info")
    info = info if isinstance(info, dict) else {}
    mapping = meta.get("mbid_mapping")
    mapping = mapping if isinstance(mapping, dict) else {}
    # spotify_id is documented as the track's URL, e.g. https://open.spotify.com/track/…
    spotify = text(info.get("spotify_id"))
    track_id = find_track_id(spotify) if spotify else None
    isrc = text(info.get("isrc"))
    return Play(
        played_at=within_second(stamp),
        track_uri=f"spotify:track:{track_id}" if track_id else None,
        isrc=isrc.upper() if isrc else None,
        duration_ms=_duration_ms(info),
        recording_mbid=text(mapping.get("recording_mbid")) or text(info.get("recording_mbid")),
        artist=text(meta.get("artist_name")),
        title=text(meta.get("track_name")),
    )


def _duration_ms(info: dict[str, Any]) -> int | None:
    """`duration_ms`, or `duration` in seconds: submitters send either."""
    for key, scale in (("duration_ms", 1), ("duration", 1000)):
        value = info.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value * scale
    return None
