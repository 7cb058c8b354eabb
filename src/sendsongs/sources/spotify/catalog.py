"""The Catalog port over Spotify: track look-ups with the app's own token."""

from __future__ import annotations

from sendsongs.domain.models import Track
from sendsongs.sources.spotify.client import SpotifyClient


class SpotifyCatalog:
    """Looks tracks up with client credentials, which Spotify's development-mode
    user list does not restrict: any share can be looked up, whoever the people."""

    def __init__(self, client: SpotifyClient) -> None:
        self._client = client

    async def track(self, track_id: str) -> Track:
        return await self._client.track(track_id)
