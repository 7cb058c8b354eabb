"""The PlayHistory and AccountLookup ports over a public ListenBrainz history."""

from __future__ import annotations

from datetime import datetime, timedelta

from sendsongs.domain.models import Connection, Play
from sendsongs.errors import NotFound, RateLimited
from sendsongs.ports import History, PublicAccount
from sendsongs.sources.listenbrainz.client import DEFAULT_RESET_IN, ListenBrainzClient

SOURCE = "listenbrainz"
PAGE_SIZE = 100  # ListenBrainz allows up to 1000 a call; 100 covers a long day's listening
MAX_PAGES = 5  # 500 listens back, as far as one check reads
TODAY = timedelta(hours=24)


class ListenBrainzHistory:
    source = SOURCE

    def __init__(self, client: ListenBrainzClient) -> None:
        self._client = client

    async def plays(self, connection: Connection, since: datetime) -> History:
        """Listens with `played_at >= since`, oldest first. Reads newest-first pages
        back to `since` each time (not `min_ts` onwards): ListenBrainz's Spotify
        import adds listens minutes late with their real, earlier times, and the
        window read again on the next check sees them. Stops with RateLimited
        rather than spend the last call of a rate-limit window on a further page."""
        if not connection.account:
            raise NotFound("listenbrainz connection without a user name")
        found: dict[tuple[object, ...], Play] = {}
        before: int | None = None
        for _ in range(MAX_PAGES):
            page = await self._client.listens(connection.account, PAGE_SIZE, before)
            for play in page.plays:
                found[(play.played_at, play.artist, play.title, play.track_uri)] = play
            if page.oldest_ts is None or page.returned < PAGE_SIZE:
                break
            if datetime.fromtimestamp(page.oldest_ts, since.tzinfo) < since:
                break
            if page.remaining == 0:
                raise RateLimited(page.reset_in or DEFAULT_RESET_IN, "listenbrainz window spent")
            # max_ts is exclusive: ask from the oldest second again, so listens that
            # share it with the page's last one are not skipped (duplicates drop out);
            # a page all within one second would repeat itself, so then move past it
            again = page.oldest_ts + 1
            before = again if again != before else page.oldest_ts
        plays = [play for play in found.values() if play.played_at >= since]
        return History(sorted(plays, key=lambda play: play.played_at))

    async def look_up(self, user: str, now: datetime) -> PublicAccount:
        """One call: the newest page tells whether the user exists, how ListenBrainz
        spells the name, and what arrived in the last 24 hours."""
        page = await self._client.listens(user, PAGE_SIZE)
        today = [play for play in page.plays if play.played_at >= now - TODAY]
        return PublicAccount(
            account=page.user or user,
            listens_today=len(today),
            latest=page.plays[0] if page.plays else None,
        )
