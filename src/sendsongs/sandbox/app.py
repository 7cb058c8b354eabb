"""The sandbox's ASGI app: fake Graph and Spotify routes plus the `/_sandbox` controls."""

from __future__ import annotations

import httpx
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Mount

from sendsongs.sandbox.accounts import Accounts
from sendsongs.sandbox.clock import Clock, system_clock
from sendsongs.sandbox.config import SandboxConfig
from sendsongs.sandbox.control import SandboxControl
from sendsongs.sandbox.graph import GraphApi
from sendsongs.sandbox.messenger_control import MessengerControl
from sendsongs.sandbox.messenger_world import MessengerWorld
from sendsongs.sandbox.paths import RootMarker
from sendsongs.sandbox.short_links import ShortLinks
from sendsongs.sandbox.spotify_control import SpotifyControl
from sendsongs.sandbox.spotify_world import SpotifyWorld
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
    messenger = MessengerWorld(now, config.webhook_url)
    spotify = SpotifyWorld.from_config(now, config)
    traffic = Traffic(clock=now)

    def reset() -> None:
        messenger.reset(config.webhook_url)
        spotify.reset()
        traffic.reset()

    controls = [
        *MessengerControl(messenger, config, webhook_client).routes(),
        *SpotifyControl(spotify).routes(),
        *SandboxControl(traffic, reset).routes(),
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
        # Last: its two-segment pattern `/{version}/{psid}` would shadow the others.
        *GraphApi(messenger, config).routes(traffic),
    ]
    app = Starlette(routes=routes, middleware=[Middleware(RootMarker)])
    app.state.messenger = messenger
    app.state.spotify = spotify
    app.state.traffic = traffic
    return app
