"""The AccountLink port over Spotify: authorization code with PKCE, then `/v1/me`."""

from __future__ import annotations

from sendsongs.ports import LinkedAccount
from sendsongs.sources.spotify.client import SpotifyClient

SOURCE = "spotify"


class SpotifyAccountLink:
    source = SOURCE

    def __init__(self, client: SpotifyClient) -> None:
        self._client = client

    def authorize_url(self, state: str, code_challenge: str) -> str:
        return self._client.authorize_url(state, code_challenge)

    async def exchange_code(self, code: str, code_verifier: str) -> LinkedAccount:
        """The grant, and the account's stable id from `/v1/me`: one real call at
        sign-up shows whether this app may read the person at all (development
        mode answers 403 for anyone not on the dashboard's user list)."""
        grant = await self._client.exchange_code(code, code_verifier)
        return LinkedAccount(account=await self._client.account_id(grant.access_token), grant=grant)
