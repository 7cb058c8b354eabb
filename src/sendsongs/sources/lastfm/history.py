"""The PlayHistory and AccountLookup ports over a public Last.fm profile."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sendsongs.domain.models import Connection, Play
from sendsongs.errors import NotFound
from sendsongs.ports import History, PublicAccount
from sendsongs.sources.lastfm.client import LastfmClient

SOURCE = "lastfm"
PAGE_SIZE = 200  # user.getRecentTracks' documented maximum
MAX_PAGES = 3  # 600 scrobbles back, as far as one check reads
TODAY = timedelta(hours=24)


class LastfmHistory:
    source = SOURCE

    def __init__(self, client: LastfmClient) -> None:
        self._client = client

    async def plays(self, connection: Connection, since: datetime) -> History:
        """Scrobbles with `played_at >= since`, oldest first: every page of the
        range from `since` on, newest first (a scrobbler that was offline submits
        late with the real, earlier times; the next check reads them). The
        now-playing entry is not a listen and is left out."""
        if not connection.account:
            raise NotFound("lastfm connection without a user name")
        after = math.floor(since.timestamp()) - 1  # `from` is exclusive
        plays: list[Play] = []
        for number in range(1, MAX_PAGES + 1):
            page = await self._client.recent_tracks(connection.account, PAGE_SIZE, number, after)
            plays.extend(page.plays)
            if number >= page.total_pages:
                break
        found = {(p.played_at, p.artist, p.title): p for p in plays if p.played_at >= since}
        return History(sorted(found.values(), key=lambda play: play.played_at))

    async def look_up(self, user: str, now: datetime) -> PublicAccount:
        """`user.getInfo` (does the user exist, how is the name spelt), then one
        scrobble of the last 24 hours with their count (error 17 if private), and,
        when there is none, the newest scrobble of all."""
        info = await self._client.user_info(user)
        today = await self._client.recent_tracks(
            info.name, 1, after=math.floor((now - TODAY).timestamp())
        )
        latest = today.plays[0] if today.plays else None
        if latest is None and info.playcount:
            older = await self._client.recent_tracks(info.name, 1)
            latest = older.plays[0] if older.plays else None
        return PublicAccount(account=info.name, listens_today=today.total, latest=latest)
