"""The AccountLink port over Spotify: authorization code with PKCE, then `/v1/me`."""

from __future__ import annotations

from datetime import timedelta

from sendsongs.errors import AccessRefused
from sendsongs.ports import LinkedAccount
from sendsongs.sources.spotify.client import SpotifyClient

SOURCE = "spotify"


class SpotifyAccountLink:
    source = SOURCE
    # Refresh tokens stop working six months after the consent, whatever refreshes
    # happened in between (Spotify for Developers, refresh-token expiry, 2026).
    grant_lifetime: timedelta | None = timedelta(days=183)

    def __init__(self, client: SpotifyClient) -> None:
        self._client = client

    def authorize_url(self, state: str, code_challenge: str) -> str:
        return self._client.authorize_url(state, code_challenge)

    async def exchange_code(self, code: str, code_verifier: str) -> LinkedAccount:
        """The grant, and the account's stable id from `/v1/me`: one real call at
        sign-up shows whether this app may read the person at all (development
        mode answers 403 for anyone not on the dashboard's user list: then the
        account comes back unreadable, to be told, not silently kept)."""
        grant = await self._client.exchange_code(code, code_verifier)
        try:
            account = await self._client.account_id(grant.access_token)
        except AccessRefused:
            return LinkedAccount(account=None, grant=grant, readable=False)
        return LinkedAccount(account=account, grant=grant)
