"""The sandbox's ASGI app: fake Graph and Spotify routes plus the `/_sandbox` controls."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Mount

from sendsongs.sandbox.accounts import Accounts
from sendsongs.sandbox.bot_api import BotApi
from sendsongs.sandbox.clock import Clock, system_clock
from sendsongs.sandbox.config import SandboxConfig
from sendsongs.sandbox.control import SandboxControl
from sendsongs.sandbox.graph import GraphApi
from sendsongs.sandbox.history_control import HistoryServices
from sendsongs.sandbox.messenger_control import MessengerControl
from sendsongs.sandbox.messenger_world import MessengerWorld
from sendsongs.sandbox.paths import RootMarker
from sendsongs.sandbox.short_links import ShortLinks
from sendsongs.sandbox.spotify_control import SpotifyControl
from sendsongs.sandbox.spotify_world import SpotifyWorld
from sendsongs.sandbox.telegram_control import TelegramControl
from sendsongs.sandbox.telegram_world import TelegramWorld
from sendsongs.sandbox.traffic import Traffic
from sendsongs.sandbox.web_api import WebApi


def create_sandbox_app(
    config: SandboxConfig,
    *,
    webhook_client: httpx.AsyncClient | None = None,
    clock: Clock | None = None,
) -> Starlette:
    """A fresh, empty sandbox. `webhook_client` posts `say` events (a new client per
    event if None); `clock` gives unix seconds, so tests can move time."""
    now = clock or system_clock
    messenger = MessengerWorld(
        now, config.webhook_url, config.page_access_token, config.require_appsecret_proof
    )
    spotify = SpotifyWorld.from_config(now, config)
    traffic = Traffic(clock=now)
    telegram = TelegramWorld(now, config.telegram_bot_token)
    history = HistoryServices(config, now, traffic)

    def reset() -> None:
        messenger.reset(
            config.webhook_url, config.page_access_token, config.require_appsecret_proof
        )
        spotify.reset()
        traffic.reset()
        telegram.reset()
        history.reset()

    controls = [
        *MessengerControl(messenger, config, webhook_client).routes(),
        *SpotifyControl(spotify).routes(),
        *TelegramControl(telegram, webhook_client).routes(),
        *SandboxControl(traffic, reset, lambda: messenger.page_access_token).routes(),
        *history.controls(),
    ]
    routes = [
        # Open to any origin, so a demo page served elsewhere can drive the fake world.
        Mount(
            "/_sandbox",
            routes=controls,
            middleware=[
                Middleware(
                    CORSMiddleware, allow_origins=["*"], allow_methods=["*"], allow_headers=["*"]
                )
            ],
        ),
        *Accounts(spotify, config).routes(traffic),
        *WebApi(spotify).routes(traffic),
        *ShortLinks(spotify).routes(traffic),
        *BotApi(telegram).routes(traffic),
        *history.routes(),
        # Last: its two-segment pattern `/{version}/{psid}` would shadow the others.
        *GraphApi(messenger, config).routes(traffic),
    ]
    app = Starlette(routes=routes, middleware=[Middleware(RootMarker)])
    app.state.messenger = messenger
    app.state.spotify = spotify
    app.state.traffic = traffic
    app.state.telegram = telegram
    app.state.history = history
    return app
