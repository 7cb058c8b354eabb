"""Last.fm's public scrobbles over HTTP (`user.getRecentTracks`, `user.getInfo`),
with its error codes translated and its call rate kept polite.

Method pages: https://www.last.fm/api/show/user.getRecentTracks,
https://www.last.fm/api/show/user.getInfo; codes: https://www.last.fm/api/errorcodes;
HTTP statuses and JSON quirks as recorded by https://lastfm-docs.github.io/api-docs/.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import httpx

from sendsongs.domain.models import Play
from sendsongs.errors import AccessRefused, NotFound, RateLimited, ServiceError, TransientError
from sendsongs.sources.wire import get, json_object, text, within_second

SERVICE = "lastfm"
# Last.fm may suspend an app "continuously making several calls per second"
# (https://www.last.fm/api/intro): keep this process under four a second.
MIN_GAP = 0.25
# Error 29 says nothing of how long to wait; a minute is well past a burst.
RATE_LIMIT_PAUSE = 60.0
PRIVATE = 17  # "Login: User required to be logged in": recent tracks hidden
RATE_LIMIT_EXCEEDED = 29
TEMPORARY = {8, 11, 16}  # operation failed, service offline, temporarily unavailable
BAD_KEY = {10, 26}  # invalid or suspended API key: the operator's to fix


@dataclass(frozen=True)
class RecentPage:
    """One page of `user.getRecentTracks`, newest first, now-playing left out."""

    plays: list[Play]
    page: int
    total_pages: int
    total: int  # finished scrobbles in the range asked for


@dataclass(frozen=True)
class UserInfo:
    name: str  # as Last.fm spells it
    playcount: int


class LastfmClient:
    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        api_url: str,
        api_key: str,
        user_agent: str,
        min_gap: float = MIN_GAP,
    ) -> None:
        self._http, self._api_url, self._api_key = http, api_url, api_key
        self._min_gap = min_gap
        self._headers = {"User-Agent": user_agent}
        self._gate = asyncio.Lock()
        self._last_call = 0.0

    async def recent_tracks(
        self, user: str, limit: int, page: int = 1, after: int | None = None
    ) -> RecentPage:
        """Scrobbles strictly after `after` (unix seconds), newest first.
        AccessRefused for a private profile (error 17); NotFound for an unknown
        user; RateLimited (error 29); TransientError (8, 11, 16, 5xx)."""
        params: dict[str, str | int] = {"user": user, "limit": limit, "page": page}
        if after is not None:
            params["from"] = after
        body = await self._call("user.getRecentTracks", user, params)
        recent = body.get("recenttracks")
        if not isinstance(recent, dict):
            raise TransientError("lastfm recent tracks response has no recenttracks")
        tracks = recent.get("track", [])
        if isinstance(tracks, dict):  # a page of one has been seen to come as an object
            tracks = [tracks]
        if not isinstance(tracks, list):
            raise TransientError("lastfm recent tracks response has no track list")
        attr = recent.get("@attr")
        attr = attr if isinstance(attr, dict) else {}
        return RecentPage(
            plays=[play for item in tracks if (play := _play(item)) is not None],
            page=_number(attr.get("page"), page),
            total_pages=_number(attr.get("totalPages"), 1),
            total=_number(attr.get("total"), 0),
        )

    async def user_info(self, user: str) -> UserInfo:
        """NotFound for an unknown user. A private profile answers this too."""
        body = await self._call("user.getInfo", user, {"user": user})
        info = body.get("user")
        if not isinstance(info, dict):
            raise TransientError("lastfm user.getInfo response has no user")
        return UserInfo(
            name=text(info.get("name")) or user, playcount=_number(info.get("playcount"), 0)
        )

    async def _call(self, method: str, user: str, params: dict[str, str | int]) -> dict[str, Any]:
        await self._wait_turn()
        query = {"method": method, "api_key": self._api_key, "format": "json", **params}
        response = await get(
            self._http, SERVICE, self._api_url, params=query, headers=self._headers
        )
        body = json_object(response)
        code = body.get("error")
        if isinstance(code, int) and not isinstance(code, bool):
            _raise_for_error(code, text(body.get("message")) or "", user)
        if response.status_code == 429:
            raise RateLimited(RATE_LIMIT_PAUSE, "lastfm HTTP 429")
        if response.status_code >= 500 or not body:
            raise TransientError(f"lastfm {method}: HTTP {response.status_code}")
        if response.status_code >= 300:
            raise ServiceError(f"lastfm {method}: HTTP {response.status_code}")
        return body

    async def _wait_turn(self) -> None:
        """Space this process's calls `min_gap` seconds apart."""
        async with self._gate:
            wait = self._last_call + self._min_gap - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            self._last_call = time.monotonic()


def _raise_for_error(code: int, message: str, user: str) -> None:
    if code == PRIVATE:
        raise AccessRefused(f"lastfm: {user!r} hides their recent listening (error 17)")
    if code == RATE_LIMIT_EXCEEDED:
        raise RateLimited(RATE_LIMIT_PAUSE, "lastfm error 29")
    if code == 6 and "not found" in message.lower():
        raise NotFound(f"lastfm has no user {user!r}")
    if code in TEMPORARY:
        raise TransientError(f"lastfm error {code}: {message[:200]}")
    if code in BAD_KEY:
        raise ServiceError(f"lastfm refused the API key (error {code}): check LASTFM_API_KEY")
    raise ServiceError(f"lastfm error {code}: {message[:200]}")


def _number(value: object, default: int) -> int:
    """Last.fm writes numbers as strings ("12"), sometimes as numbers."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return default


def _play(item: object) -> Play | None:
    """One finished scrobble; None for the now-playing entry (no date)."""
    if not isinstance(item, dict):
        return None
    attr = item.get("@attr")
    if isinstance(attr, dict) and attr.get("nowplaying") == "true":
        return None
    date = item.get("date")
    stamp = _number(date.get("uts"), -1) if isinstance(date, dict) else -1
    if stamp < 0:
        return None
    return Play(
        played_at=within_second(stamp),
        recording_mbid=text(item.get("mbid")),
        artist=_artist(item.get("artist")),
        title=text(item.get("name")),
    )


def _artist(artist: object) -> str | None:
    """Plain: {"#text": name, "mbid"}; with extended=1: {"name", "mbid", "url", …}."""
    if isinstance(artist, dict):
        return text(artist.get("#text")) or text(artist.get("name"))
    return text(artist)
