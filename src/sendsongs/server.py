"""Serving an ASGI app with uvicorn, the way `serve` and `demo` both do."""

from __future__ import annotations

import asyncio
import errno
import socket
from collections.abc import Coroutine, Sequence
from typing import Any, TypeVar

import uvicorn
from starlette.applications import Starlette
from starlette.routing import BaseRoute

from sendsongs.bootstrap import Runtime, build_app
from sendsongs.errors import ConfigError

BACKLOG = 2048  # uvicorn's default

T = TypeVar("T")


def run(main: Coroutine[Any, Any, T]) -> T:
    """Run `main` on the event loop uvicorn would pick for itself: uvloop where it is
    installed (uvicorn[standard] brings it on Linux and macOS), else asyncio's. A
    webhook's acknowledgement is a dozen loop turns (the request, the store's thread,
    the reply), so the loop's own cost counts; uvloop's is a fraction of asyncio's
    (docs/benchmarks.md)."""
    # log_config=None: a Config must not replace our logging with uvicorn's own
    factory = uvicorn.Config(app="", log_config=None).get_loop_factory()
    with asyncio.Runner(loop_factory=factory) as runner:
        return runner.run(main)


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to host:port and listening, made before anything else starts,
    so a taken port stops `serve` with one line (ConfigError) and no worker ever
    runs. SO_REUSEADDR as uvicorn sets it: a restart need not wait out TIME_WAIT."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
    except socket.gaierror as error:
        raise ConfigError(f"--host {host}: {error.strerror}") from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(BACKLOG)
    except OSError as error:
        sock.close()
        if error.errno == errno.EADDRINUSE:
            raise ConfigError(f"--port {port}: address already in use") from None
        raise ConfigError(f"--host {host} --port {port}: {error.strerror}") from None
    sock.set_inheritable(True)
    return sock


async def serve_app(
    app: Starlette, host: str, port: int, sock: socket.socket | None = None
) -> None:
    """Until SIGTERM/SIGINT; uvicorn lets requests in flight finish, then runs the
    app's lifespan shutdown. Logging is ours (structlog), not uvicorn's. `sock`: a
    socket already listening on host:port, to serve instead of binding one."""
    config = uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False)
    await uvicorn.Server(config).serve(sockets=[sock] if sock else None)


async def serve_runtime(
    runtime: Runtime,
    host: str,
    port: int,
    extra_routes: Sequence[BaseRoute] = (),
    sock: socket.socket | None = None,
) -> None:
    """Migrate first (a store that cannot be used stops here, with one line), then
    serve the bot and run its worker."""
    await runtime.stores.admin.migrate()
    await serve_app(build_app(runtime, extra_routes=extra_routes), host, port, sock)
