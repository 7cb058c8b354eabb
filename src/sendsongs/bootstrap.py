"""The one composition root: builds adapters and the service for every runtime."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

from sendsongs.adapters.messenger import MessengerClient
from sendsongs.adapters.spotify import SpotifyClient
from sendsongs.adapters.store_sqlite import SqliteStore
from sendsongs.config import Settings
from sendsongs.crypto import TokenCipher
from sendsongs.errors import ConfigError
from sendsongs.ports import ChatChannel, Clock, MusicService, Ports, Store
from sendsongs.service import Service
from sendsongs.signing import Signer

# Graph and Spotify answer in well under a second; a hung call must not hold a worker.
HTTP_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class Runtime:
    """A built service and the resources to release when the runtime stops."""

    settings: Settings
    service: Service
    store: Store
    http: httpx.AsyncClient

    async def aclose(self) -> None:
        await self.http.aclose()
        await self.store.close()


def build_store(settings: Settings) -> Store:
    url = settings.database_url
    if url.startswith("sqlite:///"):
        # `migrate` may run without the key: it creates tables and encrypts nothing
        secret = settings.secret_key.get_secret_value() if settings.secret_key else ""
        return SqliteStore(
            url.removeprefix("sqlite:///"), TokenCipher(secret or secrets.token_urlsafe(32))
        )
    raise ConfigError(
        "SENDSONGS_DATABASE_URL: dynamodb:// needs the AWS extra, which this build lacks"
    )


def build_runtime(
    settings: Settings,
    *,
    store: Store | None = None,
    chat: ChatChannel | None = None,
    music: MusicService | None = None,
    clock: Clock | None = None,
    http: httpx.AsyncClient | None = None,
) -> Runtime:
    """Real adapters from settings; anything passed in is used instead."""
    settings.require_bot_secrets()
    http = http or httpx.AsyncClient(timeout=HTTP_TIMEOUT)
    clock = clock or SystemClock()
    chat = chat or MessengerClient(
        http,
        graph_url=settings.messenger_graph_url,
        page_access_token=settings.secret("MESSENGER_PAGE_ACCESS_TOKEN"),
    )
    music = music or SpotifyClient(
        http,
        accounts_url=settings.spotify_accounts_url,
        api_url=settings.spotify_api_url,
        client_id=settings.secret("SPOTIFY_CLIENT_ID"),
        client_secret=settings.secret("SPOTIFY_CLIENT_SECRET"),
        redirect_uri=settings.redirect_uri,
        clock=clock,
    )
    store = store or build_store(settings)
    service = Service(
        Ports(store=store, chat=chat, music=music, clock=clock),
        schedule=settings.schedule,
        signer=Signer(settings.secret("SENDSONGS_SECRET_KEY")),
        public_url=settings.public_url,
    )
    return Runtime(settings=settings, service=service, store=store, http=http)
