"""Wiring of `sendsongs demo`: settings, the seeded sandbox and the page on one server."""

from __future__ import annotations

import asyncio
import errno
import os
import secrets
import shutil
import signal
import socket
import sys
import tempfile
import threading
from pathlib import Path
from types import FrameType

from starlette.routing import Mount

from sendsongs.bootstrap import build_runtime
from sendsongs.config import Settings, load_settings
from sendsongs.demo.api import DemoApi
from sendsongs.demo.people import PEOPLE, seed
from sendsongs.errors import ConfigError
from sendsongs.sandbox.app import create_sandbox_app
from sendsongs.sandbox.config import SandboxConfig
from sendsongs.sandbox.telegram_world import TelegramWorld
from sendsongs.server import serve_runtime

HOST = "127.0.0.1"  # the demo's secrets are throwaway, but its sandbox has no auth at all
# Short enough to watch: a listen shows up within seconds, an expiry within two minutes.
SCHEDULE = {
    "SENDSONGS_FIRST_CHECK": 2,
    "SENDSONGS_FAST_INTERVAL": 2,
    "SENDSONGS_FAST_WINDOW": 60,
    "SENDSONGS_SLOW_INTERVAL": 5,
    "SENDSONGS_EXPIRE_AFTER": 120,
}


def demo_settings(port: int, database: Path, sandbox: SandboxConfig) -> Settings:
    """The bot's settings, pointed at the sandbox mounted on the bot's own server."""
    base = f"http://{HOST}:{port}"
    return load_settings(
        SENDSONGS_DATABASE_URL=f"sqlite:///{database}",
        SENDSONGS_PUBLIC_URL=base,
        SENDSONGS_SECRET_KEY=secrets.token_urlsafe(32),
        MESSENGER_VERIFY_TOKEN=secrets.token_urlsafe(16),
        MESSENGER_APP_SECRET=sandbox.app_secret,
        MESSENGER_PAGE_ACCESS_TOKEN=sandbox.page_access_token,
        MESSENGER_GRAPH_URL=f"{base}/sandbox/v26.0",
        SPOTIFY_CLIENT_ID=sandbox.client_id,
        SPOTIFY_CLIENT_SECRET=sandbox.client_secret,
        SPOTIFY_ACCOUNTS_URL=f"{base}/sandbox",
        SPOTIFY_API_URL=f"{base}/sandbox/v1",
        # the demo never reaches the internet, whichever history someone registers
        LISTENBRAINZ_API_URL=f"{base}/sandbox/listenbrainz",
        LASTFM_API_URL=f"{base}/sandbox/lastfm/2.0/",
        LASTFM_API_KEY=sandbox.lastfm_api_key,
        # Bob is on Telegram: the bot registers its webhook with the sandbox's Bot API
        TELEGRAM_BOT_TOKEN=sandbox.telegram_bot_token,
        TELEGRAM_WEBHOOK_SECRET=secrets.token_urlsafe(24),
        TELEGRAM_API_URL=f"{base}/sandbox",
        SENDSONGS_LOG_LEVEL="WARNING",
        **SCHEDULE,
    )


async def run_demo(port: int) -> None:
    """Serve bot, sandbox and page on 127.0.0.1:`port` until Ctrl+C."""
    # Listening before the app starts: the bot registers its Telegram webhook with the
    # sandbox on this very server while starting, and that call must find it.
    sock = _listen(port)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _exit_on_sigterm)
    # A fresh database each run: the sandbox forgets its Spotify grants on exit, so
    # people kept from an earlier run could never be checked again.
    with tempfile.TemporaryDirectory(prefix="sendsongs-demo-") as folder:
        sandbox_config = SandboxConfig(webhook_url=f"http://{HOST}:{port}/webhook")
        settings = demo_settings(port, Path(folder) / "sendsongs.db", sandbox_config)
        runtime = build_runtime(settings)
        sandbox = create_sandbox_app(sandbox_config)
        seed(sandbox)
        api = DemoApi(runtime.stores, sandbox, PEOPLE, settings)
        routes = [*api.routes(), Mount("/sandbox", app=sandbox)]
        announce = asyncio.create_task(_announce(port, sandbox.state.telegram))
        try:
            await serve_runtime(runtime, HOST, port, routes, sock)
        finally:
            announce.cancel()


def _exit_on_sigterm(signum: int, frame: FrameType | None) -> None:
    """uvicorn raises SIGTERM again after its graceful shutdown; leaving through Python
    rather than the default handler lets the temporary database be removed."""
    raise SystemExit(128 + signum)


def _listen(port: int) -> socket.socket:
    """The server's socket, bound and listening; one clear line if the port is taken."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
    try:
        sock.bind((HOST, port))
    except OSError as error:
        sock.close()
        if error.errno != errno.EADDRINUSE:
            raise ConfigError(f"--port {port}: {error.strerror}") from None
        raise ConfigError(f"port {port} is in use; try: {_again(port + 1)}") from None
    sock.listen(128)
    return sock


def _again(port: int) -> str:
    """The command that starts the demo on `port`, the way this one was started:
    `make demo PORT=…` under make (whose `sendsongs` is in .venv/bin, not on the
    PATH), else the `sendsongs` that runs, by its path unless the PATH finds it."""
    if os.environ.get("MAKELEVEL"):
        return f"make demo PORT={port}"
    program = Path(sys.argv[0])
    command = "sendsongs"
    if program.name == "sendsongs":
        found = shutil.which("sendsongs")
        if found is None or Path(found).resolve() != program.resolve():
            command = _short(program)
    return f"{command} demo --port {port}"


def _short(program: Path) -> str:
    """The program's path relative to here when it lies below here: .venv/bin/sendsongs."""
    absolute = program.resolve()
    try:
        return str(absolute.relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(absolute)


async def _announce(port: int, telegram: TelegramWorld) -> None:
    """Print the URL once the server accepts connections and the bot has registered
    its Telegram webhook (until then a Telegram message would find no bot), not before."""
    # the sandbox sets the url while answering the bot's setWebhook: no event to await
    while not await _accepts(port) or not telegram.webhook.url:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    print(f"Send Songs demo: http://{HOST}:{port}/", flush=True)  # noqa: T201


async def _accepts(port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection(HOST, port)
    except OSError:
        return False
    writer.close()
    await writer.wait_closed()
    return True
