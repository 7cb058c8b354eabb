"""Acknowledgements first: while a webhook delivery waits for its 200, the worker's
answers wait (within a bound), so a flood of webhooks is stored at full speed."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx
import pytest

from sendsongs import worker
from sendsongs.bootstrap import build_app
from sendsongs.web.in_flight import WebhooksInFlight
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


@contextlib.asynccontextmanager
async def _delivery_in_flight(
    release: asyncio.Event,
) -> AsyncIterator[tuple[RecordingChat, asyncio.Task[httpx.Response]]]:
    """A running app with one webhook delivery whose body stops halfway until
    `release`, and one complete delivery from the same person stored beside it."""
    built, _, chat = runtime()
    app = build_app(built)
    slow = event("m_slow")

    async def slow_body() -> AsyncIterator[bytes]:
        yield slow[:10]
        await release.wait()  # the rest of the body is still on its way
        yield slow[10:]

    transport = httpx.ASGITransport(app=app)
    async with (
        httpx.AsyncClient(transport=transport, base_url="https://b.example") as http,
        app.router.lifespan_context(app),
    ):
        in_flight = asyncio.create_task(
            http.post("/webhook", content=slow_body(), headers=signed(slow))
        )
        await _turns()
        quick = event("m_quick")
        assert (await http.post("/webhook", content=quick, headers=signed(quick))).is_success
        try:
            yield chat, in_flight
        finally:
            in_flight.cancel()


async def test_answers_wait_for_a_webhook_in_flight_then_go_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(worker, "ANSWERS_WAIT_AT_MOST", 30.0)
    release = asyncio.Event()
    async with _delivery_in_flight(release) as (chat, in_flight):
        await _turns()
        assert chat.texts("123") == []  # stored, not answered while a delivery waits
        release.set()
        assert (await in_flight).status_code == 200
        await _answered(chat, 2)


async def test_a_flood_that_never_pauses_is_still_answered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(worker, "ANSWERS_WAIT_AT_MOST", 0.05)
    async with _delivery_in_flight(asyncio.Event()) as (chat, _):
        await _answered(chat, 1)  # the stored one, though the other never ends


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
