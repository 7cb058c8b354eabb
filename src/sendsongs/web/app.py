"""The bot's ASGI app: one explicit route list, shared by `serve`, `demo` and Lambda."""

from __future__ import annotations

import time
from collections.abc import Sequence

import structlog
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Lifespan, Message, Receive, Scope, Send

from sendsongs.web import data_deletion, health, spotify_oauth, telegram_webhook, webhook
from sendsongs.web.context import BotContext
from sendsongs.web.in_flight import WEBHOOK_PATHS, CountWebhooks, WebhooksInFlight

log = structlog.get_logger("sendsongs.http")

ROUTES = [
    Route("/webhook", webhook.verify, methods=["GET"]),
    Route("/webhook", webhook.receive, methods=["POST"]),
    Route("/telegram/webhook", telegram_webhook.receive, methods=["POST"]),
    Route("/spotify/login", spotify_oauth.login, methods=["GET"]),
    Route("/spotify/callback", spotify_oauth.callback, methods=["GET"]),
    Route("/healthz", health.healthz, methods=["GET"]),
    Route(data_deletion.PATH, data_deletion.request_deletion, methods=["POST"]),
    Route(data_deletion.PATH, data_deletion.deletion_status, methods=["GET"]),
]


def create_app(
    context: BotContext,
    *,
    lifespan: Lifespan[Starlette] | None = None,
    extra_routes: Sequence[BaseRoute] = (),
    in_flight: WebhooksInFlight | None = None,
) -> Starlette:
    """`in_flight`: counted webhook requests, for a worker that lets them go first."""
    middleware = [Middleware(AccessLog)]
    if in_flight is not None:
        middleware.append(Middleware(CountWebhooks, in_flight=in_flight))
    app = Starlette(
        routes=[*ROUTES, *extra_routes],
        middleware=middleware,
        lifespan=lifespan,
    )
    app.state.bot = context
    return app


# Webhook deliveries that were accepted: one per chat message, so at INFO they
# cost more than the intake itself under load (docs/benchmarks.md); refusals and
# every other route stay at INFO.
QUIET_WHEN_ACCEPTED = WEBHOOK_PATHS


class AccessLog:
    """One JSON line per request, path only: query strings carry sign-in tokens
    and OAuth codes, which must never reach a log. Accepted webhook deliveries
    are logged at DEBUG."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}

        async def record(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record)
        finally:
            quiet = status["code"] < 300 and scope["path"] in QUIET_WHEN_ACCEPTED
            (log.debug if quiet else log.info)(
                "request",
                method=scope["method"],
                path=scope["path"],
                status=status["code"],
                ms=round((time.perf_counter() - started) * 1000, 1),
            )
