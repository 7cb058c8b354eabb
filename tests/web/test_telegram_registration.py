"""Registering the Telegram webhook at start, in process over a MockTransport Bot
API: a refused token shows in /healthz as a failing channel (never why), and the
bot keeps trying, so a refusal or an outage at start heals by itself."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from sendsongs.bootstrap import Overrides, Runtime, build_app, build_runtime, register_webhooks
from sendsongs.channels.telegram.client import TelegramClient
from sendsongs.config import load_settings
from sendsongs.domain.models import Address, MessageKind, Reply
from tests.fakes import FakeClock, MemoryStore
from tests.service.conftest import ScriptedMusic
from tests.web.test_telegram_webhook import SETTINGS

TOKEN = SETTINGS["TELEGRAM_BOT_TOKEN"]
REFUSED = {"ok": False, "error_code": 401, "description": "Unauthorized"}
FAILING = {"status": "unavailable", "channels": {"telegram": "failing"}}


@dataclass
class BotApi:
    """Answers every call with `answer`, which a test changes as it goes."""

    answer: Callable[[], httpx.Response] = lambda: httpx.Response(401, json=REFUSED)
    methods: list[str] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.methods.append(request.url.path.rsplit("/", 1)[-1])
        return self.answer()


def accepted() -> httpx.Response:
    return httpx.Response(200, json={"ok": True, "result": True})


def unreachable() -> httpx.Response:
    raise httpx.ConnectError("connection refused")


@dataclass
class Running:
    runtime: Runtime
    api: BotApi
    http: httpx.AsyncClient

    async def health(self) -> tuple[int, Any]:
        answer = await self.http.get("/healthz")
        return answer.status_code, answer.json()


@pytest.fixture
async def running() -> AsyncIterator[Running]:
    api, clock = BotApi(), FakeClock()
    channel = TelegramClient(
        httpx.AsyncClient(transport=httpx.MockTransport(api)),
        api_url="https://api.telegram.test", bot_token=TOKEN, backoff=0.0,
    )  # fmt: skip
    music = ScriptedMusic(clock)
    built = build_runtime(
        load_settings(_env_file=None, **SETTINGS),
        Overrides(stores=MemoryStore().roles(), channels={"telegram": channel}, catalog=music,
                  histories={"spotify": music}, account_links={"spotify": music}, clock=clock),
    )  # fmt: skip
    app = build_app(built, run_worker=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://bot.example"
    ) as http:
        yield Running(built, api, http)


async def until(condition: Callable[[], Any], polls: int = 500) -> None:
    """Poll `condition` every 10 ms, for at most `polls` times."""
    for _ in range(polls):
        if await condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"gave up waiting for {condition}")


def registering(running: Running) -> asyncio.Task[None]:
    return asyncio.create_task(register_webhooks(running.runtime, 0.01, 0.05))


async def test_a_token_refused_at_start_fails_health_until_registration_succeeds(
    running: Running,
) -> None:
    task = registering(running)
    try:
        await until(lambda: _is(running, 503, FAILING))
        _, body = await running.health()
        assert TOKEN not in json.dumps(body) and "Unauthorized" not in json.dumps(body)
        running.api.answer = accepted  # the operator fixed it on Telegram's side
        await until(lambda: _is(running, 200, {"status": "ok"}))
        await asyncio.wait_for(task, 5)  # registered: it stops trying
        assert running.api.methods.count("setWebhook") >= 2
    finally:
        task.cancel()


async def test_a_send_that_gets_through_clears_the_refusal(running: Running) -> None:
    task = registering(running)
    try:
        await until(lambda: _is(running, 503, FAILING))
        running.api.answer = accepted
        task.cancel()  # only the send can heal it now
        delivery = running.runtime.service.delivery
        await delivery.send(Address("telegram", "7001"), Reply("hi"), MessageKind.RESPONSE)
        assert await running.health() == (200, {"status": "ok"})
    finally:
        task.cancel()


async def test_an_unreachable_bot_api_at_start_is_retried_until_it_answers(
    running: Running,
) -> None:
    """Not a refusal of the bot: health stays ok (the log says what happened)."""
    running.api.answer = unreachable
    task = registering(running)
    try:
        await until(lambda: _calls(running, 3))
        assert await running.health() == (200, {"status": "ok"})
        running.api.answer = accepted
        await asyncio.wait_for(task, 5)
    finally:
        task.cancel()


async def _is(running: Running, status: int, body: dict[str, Any]) -> bool:
    return await running.health() == (status, body)


async def _calls(running: Running, count: int) -> bool:
    return running.api.methods.count("setWebhook") >= count
