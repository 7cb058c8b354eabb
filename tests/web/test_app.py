"""The ASGI app in process, built by the composition root over in-memory adapters:
routes, webhook intake, health, and the worker its lifespan runs."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import httpx
import pytest

from sendsongs.bootstrap import Overrides, Runtime, build_app, build_runtime
from sendsongs.config import load_settings
from sendsongs.domain.models import IncomingMessage
from sendsongs.errors import ConfigError, StoreError
from tests.fakes import FakeClock, MemoryStore
from tests.service.conftest import RecordingChat, ScriptedMusic

APP_SECRET = "in-process-app-secret"
SETTINGS = {
    "SENDSONGS_SECRET_KEY": "in-process-secret-key-0123456789",
    "SENDSONGS_PUBLIC_URL": "https://bot.example",
    "MESSENGER_VERIFY_TOKEN": "verify-me",
    "MESSENGER_APP_SECRET": APP_SECRET,
    "MESSENGER_PAGE_ACCESS_TOKEN": "page-token",
    "SPOTIFY_CLIENT_ID": "client",
    "SPOTIFY_CLIENT_SECRET": "secret",
}


class SickStore(MemoryStore):
    async def ping(self) -> None:
        raise StoreError("the disk is full")


def runtime(
    memory: MemoryStore | None = None, **settings: str
) -> tuple[Runtime, MemoryStore, RecordingChat]:
    clock = FakeClock()
    memory = memory or MemoryStore()
    chat, music = RecordingChat(clock), ScriptedMusic(clock)
    built = build_runtime(
        load_settings(_env_file=None, **{**SETTINGS, **settings}),
        Overrides(
            stores=memory.roles(),
            channels={"messenger": chat},
            catalog=music,
            histories={"spotify": music},
            account_links={"spotify": music},
            clock=clock,
        ),
    )
    return built, memory, chat


@pytest.fixture
async def client() -> AsyncIterator[tuple[httpx.AsyncClient, MemoryStore, RecordingChat]]:
    built, memory, chat = runtime()
    app = build_app(built, run_worker=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://bot.example"
    ) as http:
        yield http, memory, chat


def signed(body: bytes, secret: str = APP_SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": f"sha256={digest}"}


def event(mid: str, text: str = "help") -> bytes:
    message = {"sender": {"id": "123"}, "recipient": {"id": "1"}, "timestamp": 1,
               "message": {"mid": mid, "text": text}}  # fmt: skip
    return json.dumps({"object": "page", "entry": [{"id": "1", "messaging": [message]}]}).encode()


class FullInbox(MemoryStore):
    async def add_incoming(self, messages: Sequence[IncomingMessage]) -> int:
        raise StoreError("database is locked")


async def test_an_event_the_store_cannot_take_gets_a_503_to_be_delivered_again() -> None:
    built, memory, _ = runtime(FullInbox())
    app = build_app(built, run_worker=False)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="https://bot.example") as http:
        body = event("m_1")
        answer = await http.post("/webhook", content=body, headers=signed(body))
    assert answer.status_code == 503
    assert "send it again" in answer.text
    assert memory.inbox == {}


async def test_a_signed_event_is_stored_before_the_200(
    client: tuple[httpx.AsyncClient, MemoryStore, RecordingChat],
) -> None:
    http, memory, _ = client
    body = event("m_1")
    answer = await http.post("/webhook", content=body, headers=signed(body))
    assert answer.status_code == 200
    assert list(memory.inbox) == ["messenger:m_1"]


@pytest.mark.parametrize(
    ("headers", "status"),
    [({}, 401), ({"X-Hub-Signature-256": "sha256=00"}, 403)],
)
async def test_unsigned_or_forged_events_are_refused_and_not_stored(
    client: tuple[httpx.AsyncClient, MemoryStore, RecordingChat],
    headers: dict[str, str],
    status: int,
) -> None:
    http, memory, _ = client
    answer = await http.post("/webhook", content=event("m_1"), headers=headers)
    assert answer.status_code == status
    assert memory.inbox == {}


async def test_a_signed_body_that_is_not_json_is_a_400(
    client: tuple[httpx.AsyncClient, MemoryStore, RecordingChat],
) -> None:
    http, _, _ = client
    answer = await http.post("/webhook", content=b"{nope", headers=signed(b"{nope"))
    assert answer.status_code == 400


async def test_healthz_asks_the_store() -> None:
    built, _, _ = runtime(SickStore())
    app = build_app(built, run_worker=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://bot.example"
    ) as http:
        answer = await http.get("/healthz")
    assert answer.status_code == 503
    assert answer.json() == {"status": "unavailable", "store": "unavailable"}  # no details


async def test_without_messenger_settings_the_webhook_is_absent() -> None:
    built, _, _ = runtime(
        MESSENGER_VERIFY_TOKEN="", MESSENGER_APP_SECRET="", MESSENGER_PAGE_ACCESS_TOKEN="",
        TELEGRAM_BOT_TOKEN="123:abc", TELEGRAM_WEBHOOK_SECRET="s3cret",
    )  # fmt: skip
    app = build_app(built, run_worker=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://bot.example"
    ) as http:
        assert (await http.get("/webhook", params={"hub.mode": "subscribe"})).status_code == 404


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"MESSENGER_APP_SECRET": ""}, "MESSENGER_APP_SECRET must be set too"),
        (
            {
                "MESSENGER_VERIFY_TOKEN": "",
                "MESSENGER_APP_SECRET": "",
                "MESSENGER_PAGE_ACCESS_TOKEN": "",
            },
            "no chat channel is configured",
        ),
        ({"TELEGRAM_BOT_TOKEN": "123:abc"}, "TELEGRAM_WEBHOOK_SECRET must be set too"),
    ],
)
def test_a_channel_is_configured_completely_or_not_at_all(
    changes: dict[str, str], named: str
) -> None:
    with pytest.raises(ConfigError, match=named):
        runtime(**changes)


@pytest.mark.parametrize("url", ["http://localhost:8000", "http://bot.example", "ftp://x"])
def test_the_public_url_must_be_a_redirect_uri_spotify_accepts(url: str) -> None:
    with pytest.raises(ConfigError, match="SENDSONGS_PUBLIC_URL"):
        runtime(SENDSONGS_PUBLIC_URL=url)


async def test_the_lifespan_runs_the_worker_that_answers_stored_messages() -> None:
    built, memory, chat = runtime()
    app = build_app(built)
    body = event("m_2")
    transport = httpx.ASGITransport(app=app)
    # httpx's ASGITransport does not run lifespans: drive it as a server would
    async with (
        httpx.AsyncClient(transport=transport, base_url="https://bot.example") as http,
        app.router.lifespan_context(app),
    ):
        await http.post("/webhook", content=body, headers=signed(body))
        for _ in range(200):  # the worker answers off the request path
            if chat.texts("123"):
                break
            await asyncio.sleep(0.01)
    assert "Send Songs tells you" in chat.texts("123")[0]
    assert memory.closed  # the runtime is released when the app stops


def test_the_composition_root_wires_sqlite_messenger_and_spotify(tmp_path: Path) -> None:
    settings = load_settings(
        _env_file=None, SENDSONGS_DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}", **SETTINGS
    )
    built = build_runtime(settings)
    ports = built.service.ports
    assert set(ports.channels) == {"messenger"}
    assert set(ports.histories) == {"spotify", "listenbrainz"}  # Last.fm needs a key
    assert set(ports.account_links) == {"spotify"}
    assert set(ports.account_lookups) == {"listenbrainz"}
    assert type(ports.stores.people).__module__.startswith("sendsongs.stores.sqlite")
    asyncio.run(built.aclose())


def test_a_last_fm_key_adds_last_fm(tmp_path: Path) -> None:
    settings = load_settings(
        _env_file=None,
        SENDSONGS_DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}",
        LASTFM_API_KEY="k",
        **SETTINGS,
    )
    built = build_runtime(settings)
    assert set(built.service.ports.account_lookups) == {"listenbrainz", "lastfm"}
    assert set(built.service.ports.histories) == {"spotify", "listenbrainz", "lastfm"}
    asyncio.run(built.aclose())
