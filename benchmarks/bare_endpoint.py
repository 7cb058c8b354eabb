"""The floor for webhook intake: the bot's web stack (Starlette on uvicorn, the same
server settings as `serve`) with nothing but reading the body and checking it is
genuine. No store, no parsing, no logs.

    python benchmarks/bare_endpoint.py PORT APP_SECRET TELEGRAM_SECRET
"""

from __future__ import annotations

import hashlib
import hmac
import sys

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route


def create_bare_app(app_secret: str, telegram_secret: str) -> Starlette:
    key = app_secret.encode()

    async def messenger(request: Request) -> Response:
        body = await request.body()
        given = request.headers.get("X-Hub-Signature-256", "").removeprefix("sha256=")
        expected = hmac.new(key, body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected.encode(), given.encode()):
            return PlainTextResponse("invalid signature", status_code=403)
        return PlainTextResponse("EVENT_RECEIVED")

    async def telegram(request: Request) -> Response:
        header = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
        await request.body()
        if not hmac.compare_digest(header.encode(), telegram_secret.encode()):
            return PlainTextResponse("wrong secret token", status_code=403)
        return PlainTextResponse("ok")

    return Starlette(
        routes=[
            Route("/webhook", messenger, methods=["POST"]),
            Route("/telegram/webhook", telegram, methods=["POST"]),
            Route("/healthz", lambda request: PlainTextResponse("ok"), methods=["GET"]),
        ]
    )


if __name__ == "__main__":
    port, app_secret, telegram_secret = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    app = create_bare_app(app_secret, telegram_secret)
    uvicorn.run(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
