"""The Catalog port over Spotify: track look-ups with the app's own token."""

from __future__ import annotations

from sendsongs.domain.models import Track
from sendsongs.errors import NotATrack
from sendsongs.sources.spotify.client import SpotifyClient


class SpotifyCatalog:
    """Looks tracks up with client credentials, which Spotify's development-mode
    user list does not restrict: any share can be looked up, whoever the people."""

    source = "spotify"

    def __init__(self, client: SpotifyClient) -> None:
        self._client = client

    async def track(self, track_id: str) -> Track:
        return await self._client.track(track_id)

    async def resolve_short_link(self, host: str, code: str) -> str:
        track_id = await self._client.follow_short_link(host, code)
        if track_id is None:
            raise NotATrack(f"https://{host}/{code} does not lead to a track")
        return track_id
