"""`sendsongs serve | sandbox | demo | migrate` (DESIGN.md §1)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
from collections.abc import AsyncIterator, Sequence

import structlog
import uvicorn
from dotenv import dotenv_values
from starlette.applications import Starlette
from starlette.routing import BaseRoute

from sendsongs import __version__
from sendsongs.bootstrap import Runtime, build_runtime, build_store
from sendsongs.config import Settings, load_settings
from sendsongs.errors import ConfigError, StoreError
from sendsongs.logs import configure_logging
from sendsongs.sandbox.app import create_sandbox_app
from sendsongs.sandbox.config import SandboxConfig
from sendsongs.web.app import create_app
from sendsongs.web.context import BotContext
from sendsongs.worker import Worker

log = structlog.get_logger(__name__)

SHUTDOWN_GRACE = 10.0  # seconds for in-flight work after SIGTERM; the rest stays claimable


def main(argv: Sequence[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    try:
        args.run(args)
    except (ConfigError, StoreError) as error:
        print(f"sendsongs: {error}", file=sys.stderr)  # noqa: T201 - the one-line refusal
        raise SystemExit(2) from None
    except KeyboardInterrupt:
        raise SystemExit(130) from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sendsongs", description=__doc__)
    parser.add_argument("--version", action="version", version=__version__)
    commands = parser.add_subparsers(required=True, metavar="command")
    serve = commands.add_parser("serve", help="run the bot: webhook, OAuth pages and checker")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(run=_serve)
    sandbox = commands.add_parser("sandbox", help="run stand-ins for Messenger and Spotify")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=9000)
    sandbox.set_defaults(run=_sandbox)
    demo = commands.add_parser("demo", help="try Send Songs in a browser, no accounts needed")
    demo.add_argument("--port", type=int, default=8000)
    demo.set_defaults(run=_demo)
    migrate = commands.add_parser("migrate", help="create or upgrade the store's schema")
    migrate.set_defaults(run=_migrate)
    return parser


def _serve(args: argparse.Namespace) -> None:
    settings = load_settings()
    configure_logging(settings.log_level)
    runtime = build_runtime(settings)
    asyncio.run(run_bot(runtime, args.host, args.port))


async def run_bot(runtime: Runtime, host: str, port: int, extra: Sequence[BaseRoute] = ()) -> None:
    """Migrate, then serve HTTP and run the worker until SIGTERM/SIGINT."""
    await runtime.store.migrate()
    worker = Worker(runtime.service)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        task = asyncio.create_task(worker.run())
        yield
        worker.stop()
        try:
            await asyncio.wait_for(task, SHUTDOWN_GRACE)
        except TimeoutError:
            log.warning("worker_stop_timeout")
        # here, not after serve(): uvicorn re-raises SIGTERM once it has shut down
        await runtime.aclose()
        log.info("stopped")

    settings = runtime.settings
    context = BotContext(
        service=runtime.service,
        verify_token=settings.secret("MESSENGER_VERIFY_TOKEN"),
        app_secret=settings.secret("MESSENGER_APP_SECRET"),
        wake_worker=worker.wake,
    )
    app = create_app(context, lifespan=lifespan, extra_routes=extra)
    config = uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False)
    log.info("serving", url=f"http://{host}:{port}", public_url=settings.public_url)
    await uvicorn.Server(config).serve()


def _sandbox(args: argparse.Namespace) -> None:
    configure_logging(os.environ.get("SENDSONGS_LOG_LEVEL", "INFO"))
    environ = {**{k: v for k, v in dotenv_values(".env").items() if v is not None}, **os.environ}
    app = create_sandbox_app(SandboxConfig.from_env(environ))
    uvicorn.run(app, host=args.host, port=args.port, log_config=None, access_log=False)


def _demo(args: argparse.Namespace) -> None:
    from sendsongs.demo.run import run_demo  # only the demo needs its page and wiring

    configure_logging("WARNING")
    asyncio.run(run_demo(args.port))


def _migrate(args: argparse.Namespace) -> None:
    settings = load_settings()
    configure_logging(settings.log_level)
    asyncio.run(migrate(settings))
    print(f"sendsongs: schema of {settings.database_url} is up to date")  # noqa: T201


async def migrate(settings: Settings) -> None:
    store = build_store(settings)
    try:
        await store.migrate()
    finally:
        await store.close()


if __name__ == "__main__":
    main()
