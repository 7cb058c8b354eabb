"""The one composition root: settings → adapters → service → runtime → ASGI app.

`serve`, `demo`, the benchmarks and (on AWS) the Lambda handlers all build
through here; nothing else constructs an adapter.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import httpx
import structlog
from starlette.applications import Starlette
from starlette.routing import BaseRoute

from sendsongs.channels.messenger.client import MessengerClient
from sendsongs.channels.telegram.client import TelegramClient
from sendsongs.channels.telegram.reader import TelegramReader, no_answer
from sendsongs.channels.telegram.updates import HANDLED_UPDATES
from sendsongs.config import Settings
from sendsongs.crypto import TokenCipher
from sendsongs.domain.models import IncomingMessage
from sendsongs.errors import ChannelUnavailable, ConfigError, ServiceError
from sendsongs.ports import (
    AccountLink,
    AccountLookup,
    Catalog,
    ChatChannel,
    CheckQueue,
    Clock,
    InboxNotifier,
    PlayHistory,
    Ports,
    Stores,
    UpdateReader,
)
from sendsongs.service import Service
from sendsongs.service.limits import Quotas
from sendsongs.signing import Signer
from sendsongs.sources.lastfm.client import LastfmClient
from sendsongs.sources.lastfm.history import LastfmHistory
from sendsongs.sources.listenbrainz.client import ListenBrainzClient
from sendsongs.sources.listenbrainz.history import ListenBrainzHistory
from sendsongs.sources.spotify.account_link import SpotifyAccountLink
from sendsongs.sources.spotify.catalog import SpotifyCatalog
from sendsongs.sources.spotify.client import SpotifyClient
from sendsongs.sources.spotify.history import SpotifyHistory
from sendsongs.sources.wire import user_agent
from sendsongs.stores.sqlite import open_sqlite
from sendsongs.web.app import create_app
from sendsongs.web.context import BotContext, MessengerWebhook, TelegramWebhook
from sendsongs.web.in_flight import WebhooksInFlight
from sendsongs.worker import Worker

log = structlog.get_logger(__name__)

# Graph and Spotify answer in well under a second; a hung call must not hold a worker.
HTTP_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
SHUTDOWN_GRACE = 10.0
# seconds before registering the Telegram webhook again after a failure, doubling
WEBHOOK_RETRY = 30.0
WEBHOOK_RETRY_MAX = 900.0  # seconds for in-flight work after SIGTERM; the rest stays claimable


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class Runtime:
    """A built service and the resources to release when the runtime stops."""

    settings: Settings
    service: Service
    stores: Stores
    http: httpx.AsyncClient

    async def aclose(self) -> None:
        await self.http.aclose()
        await self.stores.admin.close()


@dataclass
class Overrides:
    """Adapters to use instead of the real ones (tests, the demo, benchmarks)."""

    stores: Stores | None = None
    channels: Mapping[str, ChatChannel] | None = None
    catalog: Catalog | None = None
    histories: Mapping[str, PlayHistory] | None = None
    account_lookups: Mapping[str, AccountLookup] | None = None
    account_links: Mapping[str, AccountLink] | None = None
    clock: Clock | None = None
    http: httpx.AsyncClient | None = None


def build_stores(settings: Settings) -> Stores:
    url = settings.database_url
    # `migrate` may run without the key: it creates tables and encrypts nothing
    secret = settings.secret_key.get_secret_value() if settings.secret_key else ""
    cipher = TokenCipher(secret or secrets.token_urlsafe(32), settings.previous_keys)
    if url.startswith("sqlite:///"):
        return open_sqlite(url.removeprefix("sqlite:///"), cipher)
    try:  # boto3 comes with the [aws] extra only
        from sendsongs.stores.dynamodb import open_dynamodb
    except ImportError:
        raise ConfigError(
            "SENDSONGS_DATABASE_URL: dynamodb:// needs the AWS extra: pip install 'sendsongs[aws]'"
        ) from None
    return open_dynamodb(url.removeprefix("dynamodb://"), cipher)


def build_queues(settings: Settings) -> tuple[InboxNotifier, CheckQueue] | None:
    """The SQS queues between the AWS functions, if their URLs are set."""
    if not (settings.inbox_queue_url or settings.check_queue_url):
        return None
    from sendsongs.queues.sqs import SqsQueues  # boto3: the [aws] extra

    queues = SqsQueues(settings.inbox_queue_url, settings.check_queue_url)
    return queues, queues


def build_channels(settings: Settings, http: httpx.AsyncClient) -> dict[str, ChatChannel]:
    channels: dict[str, ChatChannel] = {}
    if "messenger" in settings.channels:
        channels["messenger"] = MessengerClient(
            http,
            graph_url=settings.messenger_graph_url,
            page_access_token=settings.secret("MESSENGER_PAGE_ACCESS_TOKEN"),
            app_secret=settings.secret("MESSENGER_APP_SECRET"),
        )
    if "telegram" in settings.channels:
        channels["telegram"] = TelegramClient(
            http,
            api_url=settings.telegram_api_url,
            bot_token=settings.secret("TELEGRAM_BOT_TOKEN"),
        )
    return channels


def build_readers(
    settings: Settings, channels: Mapping[str, ChatChannel]
) -> dict[str, UpdateReader]:
    """Readers of the updates the webhooks store unread: Telegram's, when it is
    configured. A pressed button is answered through the channel's client; a
    stand-in channel (tests, the demo) has no spinner to stop."""
    readers: dict[str, UpdateReader] = {}
    if "telegram" in settings.channels:
        channel = channels.get("telegram")
        answer = channel.answer_callback_query if isinstance(channel, TelegramClient) else no_answer
        readers["telegram"] = TelegramReader(answer)
    return readers


class PublicHistory(PlayHistory, AccountLookup, Protocol):
    """A source read by user name is both a history and its account look-up."""


def build_public_histories(settings: Settings, http: httpx.AsyncClient) -> list[PublicHistory]:
    """ListenBrainz always (public, no key); Last.fm only with LASTFM_API_KEY."""
    agent = user_agent(settings.public_url)
    sources: list[PublicHistory] = [
        ListenBrainzHistory(
            ListenBrainzClient(http, api_url=settings.listenbrainz_api_url, user_agent=agent)
        )
    ]
    if settings.lastfm_enabled:
        client = LastfmClient(
            http,
            api_url=settings.lastfm_api_url,
            api_key=settings.secret("LASTFM_API_KEY"),
            user_agent=agent,
        )
        sources.append(LastfmHistory(client))
    return sources


def build_runtime(settings: Settings, overrides: Overrides | None = None) -> Runtime:
    """Real adapters from settings; anything in `overrides` is used instead."""
    settings.require_bot_secrets()
    given = overrides or Overrides()
    http = given.http or httpx.AsyncClient(timeout=HTTP_TIMEOUT)
    clock = given.clock or SystemClock()
    stores = given.stores or build_stores(settings)
    spotify = SpotifyClient(
        http,
        accounts_url=settings.spotify_accounts_url,
        api_url=settings.spotify_api_url,
        client_id=settings.secret("SPOTIFY_CLIENT_ID"),
        client_secret=settings.secret("SPOTIFY_CLIENT_SECRET"),
        redirect_uri=settings.redirect_uri,
        clock=clock,
        short_link_url=settings.spotify_short_link_url,
    )
    public = {source.source: source for source in build_public_histories(settings, http)}
    channels = given.channels or build_channels(settings, http)
    ports = Ports(
        stores=stores,
        channels=channels,
        catalog=given.catalog or SpotifyCatalog(spotify),
        histories=given.histories
        or {"spotify": SpotifyHistory(spotify, clock, stores.people), **public},
        account_links=given.account_links or {"spotify": SpotifyAccountLink(spotify)},
        clock=clock,
        # offered only where their histories are read: never with other histories given
        account_lookups=given.account_lookups
        if given.account_lookups is not None
        else ({} if given.histories else public),
        readers=build_readers(settings, channels),
    )
    service = Service(
        ports,
        schedule=settings.schedule,
        signer=Signer(settings.secret("SENDSONGS_SECRET_KEY"), clock, settings.previous_keys),
        public_url=settings.public_url,
        quotas=Quotas(signups=settings.signups_per_hour, shares=settings.shares_per_hour),
    )
    return Runtime(settings=settings, service=service, stores=stores, http=http)


class _WakeWorker:
    """The local runtime's notifier: the worker handles new messages at once."""

    def __init__(self, wake: Callable[[], None]) -> None:
        self._wake = wake

    async def notify(self, messages: Sequence[IncomingMessage]) -> None:
        self._wake()


def build_context(runtime: Runtime, notifier: InboxNotifier) -> BotContext:
    settings = runtime.settings
    messenger = None
    if "messenger" in settings.channels:
        messenger = MessengerWebhook(
            verify_token=settings.secret("MESSENGER_VERIFY_TOKEN"),
            app_secret=settings.secret("MESSENGER_APP_SECRET"),
        )
    telegram = None
    if "telegram" in settings.channels:
        telegram = TelegramWebhook(secret=settings.secret("TELEGRAM_WEBHOOK_SECRET"))
    return BotContext(
        service=runtime.service, messenger=messenger, notifier=notifier, telegram=telegram
    )


async def register_webhooks(
    runtime: Runtime, first_retry: float = WEBHOOK_RETRY, max_retry: float = WEBHOOK_RETRY_MAX
) -> None:
    """Tell Telegram where to post updates (its webhook lives in the Bot API, not
    in a dashboard), and keep trying until it accepts: seconds `first_retry`,
    doubling up to `max_retry`, so a Bot API that was down at start heals. A token
    Telegram refuses (setWebhook 401/404) shows in /healthz as a failing channel
    until a call succeeds, as a refused send does. One log line per attempt; the
    bot keeps running meanwhile (Messenger works, Telegram keeps any webhook it had)."""
    channel = runtime.service.ports.channels.get("telegram")
    if not isinstance(channel, TelegramClient):
        return
    delivery = runtime.service.delivery
    url = f"{runtime.settings.public_url}/telegram/webhook"
    secret = runtime.settings.secret("TELEGRAM_WEBHOOK_SECRET")
    wait = first_retry
    while True:
        try:
            await channel.set_webhook(url, secret, HANDLED_UPDATES)
        except ChannelUnavailable as error:
            delivery.channel_refused(channel.name, str(error))
            log.error("telegram_webhook_not_registered", url=url, error=str(error), retry_in=wait)
        except ServiceError as error:
            log.error("telegram_webhook_not_registered", url=url, error=str(error), retry_in=wait)
        else:
            delivery.channel_accepted(channel.name)
            log.info("telegram_webhook_registered", url=url, updates=list(HANDLED_UPDATES))
            return
        await asyncio.sleep(wait)
        wait = min(wait * 2, max_retry)


def build_app(
    runtime: Runtime, *, run_worker: bool = True, extra_routes: Sequence[BaseRoute] = ()
) -> Starlette:
    """The bot's ASGI app over a migrated store. With `run_worker`, its lifespan runs
    the worker (inbox, checks, outbox) beside the routes, registers the Telegram
    webhook, and, on shutdown, lets the work in hand finish before releasing the
    runtime. Without it, new messages go to the inbox queue when one is configured
    (AWS), else wait for whoever polls."""
    in_flight = WebhooksInFlight()
    worker = Worker(runtime.service, quiet=in_flight.quiet) if run_worker else None

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        task = asyncio.create_task(worker.run()) if worker else None
        # beside the start, not before it: an unreachable Bot API must not hold it up
        registering = asyncio.create_task(register_webhooks(runtime)) if worker else None
        yield
        if registering:
            registering.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await registering
        if worker and task:
            worker.stop()
            try:
                await asyncio.wait_for(task, SHUTDOWN_GRACE)
            except TimeoutError:
                log.warning("worker_stop_timeout")
        # here, not after the server returns: uvicorn re-raises SIGTERM once it has shut down
        await runtime.aclose()
        log.info("stopped")

    notifier: InboxNotifier = _WakeWorker(worker.wake if worker else _nobody)
    queues = None if worker else build_queues(runtime.settings)
    if queues is not None:
        notifier = queues[0]
    context = build_context(runtime, notifier)
    return create_app(
        context,
        lifespan=lifespan,
        extra_routes=extra_routes,
        in_flight=in_flight if worker else None,
    )


def _nobody() -> None:
    """No worker and no queue (benchmarks): messages wait for whoever polls the inbox."""
