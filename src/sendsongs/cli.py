"""`sendsongs serve | sandbox | demo | migrate | rotate-keys` (docs/contract.md, "Commands")."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence

import structlog
import uvicorn
from dotenv import dotenv_values

from sendsongs import __version__
from sendsongs.bootstrap import build_runtime, build_stores
from sendsongs.config import Settings, load_settings, sandbox_log_level
from sendsongs.errors import ConfigError, StoreError
from sendsongs.logs import configure_logging
from sendsongs.sandbox.app import create_sandbox_app
from sendsongs.sandbox.config import SandboxConfig
from sendsongs.server import listen, run, serve_runtime

log = structlog.get_logger(__name__)


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
    rotate = commands.add_parser(
        "rotate-keys",
        help="re-encrypt stored tokens under SENDSONGS_SECRET_KEY "
        "(old keys in SENDSONGS_PREVIOUS_SECRET_KEYS)",
    )
    rotate.set_defaults(run=_rotate_keys)
    return parser


def _serve(args: argparse.Namespace) -> None:
    settings = load_settings()
    configure_logging(settings.log_level)
    settings.require_bot_secrets()
    sock = listen(args.host, args.port)  # a taken port stops here, before any work
    runtime = build_runtime(settings)
    log.info("serving", url=f"http://{args.host}:{args.port}", public_url=settings.public_url)
    run(serve_runtime(runtime, args.host, args.port, sock=sock))


def _sandbox(args: argparse.Namespace) -> None:
    environ = {**{k: v for k, v in dotenv_values(".env").items() if v is not None}, **os.environ}
    configure_logging(sandbox_log_level(environ))
    app = create_sandbox_app(SandboxConfig.from_env(environ))
    uvicorn.run(app, host=args.host, port=args.port, log_config=None, access_log=False)


def _demo(args: argparse.Namespace) -> None:
    from sendsongs.demo.run import run_demo  # only the demo needs its page and wiring

    configure_logging("WARNING")
    run(run_demo(args.port))


def _migrate(args: argparse.Namespace) -> None:
    settings = load_settings()
    configure_logging(settings.log_level)
    asyncio.run(migrate(settings))
    print(f"sendsongs: schema of {settings.database_url} is up to date")  # noqa: T201


def _rotate_keys(args: argparse.Namespace) -> None:
    settings = load_settings()
    configure_logging(settings.log_level)
    if not settings.secret_key or not settings.secret_key.get_secret_value():
        raise ConfigError("SENDSONGS_SECRET_KEY must be set: it is the key to re-encrypt under")
    count = asyncio.run(rotate_keys(settings))
    print(  # noqa: T201
        f"sendsongs: {count} stored value{'' if count == 1 else 's'} re-encrypted under the "
        "current key; SENDSONGS_PREVIOUS_SECRET_KEYS can now be emptied"
    )


async def rotate_keys(settings: Settings) -> int:
    stores = build_stores(settings)
    try:
        await stores.admin.migrate()
        return await stores.admin.reencrypt()
    finally:
        await stores.admin.close()


async def migrate(settings: Settings) -> None:
    stores = build_stores(settings)
    try:
        await stores.admin.migrate()
    finally:
        await stores.admin.close()


if __name__ == "__main__":
    main()
