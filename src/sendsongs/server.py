"""Serving an ASGI app with uvicorn, the way `serve` and `demo` both do."""

from __future__ import annotations

import socket
from collections.abc import Sequence

import uvicorn
from starlette.applications import Starlette
from starlette.routing import BaseRoute

from sendsongs.bootstrap import Runtime, build_app


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
