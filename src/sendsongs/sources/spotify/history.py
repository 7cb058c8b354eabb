"""The PlayHistory port over Spotify's recently-played, with the grant kept fresh."""

from __future__ import annotations

from datetime import datetime, timedelta

from sendsongs.domain.models import Connection, Grant
from sendsongs.errors import AccessTokenRejected, GrantRevoked
from sendsongs.ports import Clock, History, People
from sendsongs.sources.spotify.client import SpotifyClient

SOURCE = "spotify"
# Refresh a little before Spotify would refuse the access token, never on every check.
REFRESH_MARGIN = timedelta(seconds=60)


class SpotifyHistory:
    source = SOURCE

    def __init__(self, client: SpotifyClient, clock: Clock, people: People) -> None:
        self._client, self._clock, self._people = client, clock, people

    async def plays(self, connection: Connection, since: datetime) -> History:
        """Refreshes only when the access token is (about to be) expired, or once
        after a 401, and stores the new grant at once: Spotify may have rotated the
        refresh token, and the old one may no longer work."""
        grant = connection.grant
        if grant is None:
            raise GrantRevoked("spotify connection without a grant")
        if grant.expires_at <= self._clock.now() + REFRESH_MARGIN:
            grant = await self._refresh(connection.person_id, grant)
        try:
            plays = await self._client.recently_played(grant.access_token, since)
        except AccessTokenRejected:
            grant = await self._refresh(connection.person_id, grant)
            plays = await self._client.recently_played(grant.access_token, since)
        return History(plays)

    async def _refresh(self, person_id: str, grant: Grant) -> Grant:
        fresh = await self._client.refresh(grant)
        await self._people.save_grant(person_id, fresh)
        return fresh
