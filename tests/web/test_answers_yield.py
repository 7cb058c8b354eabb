"""Acknowledgements first: while a webhook delivery waits for its 200, the worker's
answers wait (within a bound), so a flood of webhooks is stored at full speed."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence

import httpx
import pytest

from sendsongs import worker
from sendsongs.bootstrap import build_app
from sendsongs.domain.models import IncomingMessage
from sendsongs.web.in_flight import WebhooksInFlight
from tests.fakes import MemoryStore
from tests.service.conftest import RecordingChat
from tests.web.test_app import event, runtime, signed


async def _answered(chat: RecordingChat, count: int) -> None:
    """Waits (10 s at most) until the person has `count` answers."""
    for _ in range(1000):
        if len(chat.texts("123")) >= count:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{len(chat.texts('123'))} answers, expected {count}")


async def _turns(count: int = 200) -> None:
    """Let the event loop run everything that is ready, many times over."""
    for _ in range(count):
        await asyncio.sleep(0)


class SlowInbox(MemoryStore):
    """A store that takes the delivery `m_slow` only once `release` is set."""

    def __init__(self, release: asyncio.Event) -> None:
        super().__init__()
        self.release = release

    async def add_incoming(self, messages: Sequence[IncomingMessage]) -> int:
        if any(message.id.endswith("m_slow") for message in messages):
            await self.release.wait()
        return await super().add_incoming(messages)


@contextlib.asynccontextmanager
async def _running(
    memory: MemoryStore,
) -> AsyncIterator[tuple[httpx.AsyncClient, RecordingChat]]:
    built, _, chat = runtime(memory)
    app = build_app(built)
    transport = httpx.ASGITransport(app=app)
    async with (
        httpx.AsyncClient(transport=transport, base_url="https://b.example") as http,
        app.router.lifespan_context(app),
    ):
        yield http, chat


async def _post(http: httpx.AsyncClient, mid: str) -> httpx.Response:
    body = event(mid)
    return await http.post("/webhook", content=body, headers=signed(body))


async def test_answers_wait_for_a_webhook_in_flight_then_go_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(worker, "ANSWERS_WAIT_AT_MOST", 30.0)
    release = asyncio.Event()
    async with _running(SlowInbox(release)) as (http, chat):
        in_flight = asyncio.create_task(_post(http, "m_slow"))  # its commit is slow
        await _turns()
        assert (await _post(http, "m_quick")).status_code == 200
        await _turns()
        assert chat.texts("123") == []  # stored, not answered while a delivery waits
        release.set()
        assert (await in_flight).status_code == 200
        await _answered(chat, 2)


async def test_a_flood_that_never_pauses_is_still_answered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(worker, "ANSWERS_WAIT_AT_MOST", 0.05)
    async with _running(SlowInbox(asyncio.Event())) as (http, chat):
        in_flight = asyncio.create_task(_post(http, "m_slow"))  # never stored
        await _turns()
        await _post(http, "m_quick")
        await _answered(chat, 1)  # the stored one, though the other never ends
        in_flight.cancel()


async def test_a_body_still_arriving_holds_up_no_answer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Anyone can open a connection and send half a body, before any signature is
    checked: that must not delay the answers to everyone else."""
    monkeypatch.setattr(worker, "ANSWERS_WAIT_AT_MOST", 30.0)
    never = asyncio.Event()
    half = event("m_half")

    async def half_a_body() -> AsyncIterator[bytes]:
        yield half[:10]
        await never.wait()
        yield half[10:]  # pragma: no cover - never sent

    async with _running(MemoryStore()) as (http, chat):
        trickling = asyncio.create_task(
            http.post("/webhook", content=half_a_body(), headers=signed(half))
        )
        await _turns()
        assert (await _post(http, "m_quick")).status_code == 200
        await _answered(chat, 1)  # within 10 s, not after the 30 s bound
        trickling.cancel()


async def test_quiet_means_no_delivery_in_flight_for_a_moment() -> None:
    gauge = WebhooksInFlight(quiet_for=0.01)
    await asyncio.wait_for(gauge.quiet(at_most=5), 1)  # nothing in flight: at once
    gauge.enter()
    waiting = asyncio.create_task(gauge.quiet(at_most=30))
    await _turns()
    assert not waiting.done()
    gauge.leave()
    await asyncio.wait_for(waiting, 5)
    assert gauge.count == 0
