"""`POST /telegram/webhook` in process, over a real TelegramClient whose Bot API is a
MockTransport: the secret header, storing before the 200, redeliveries, odd bodies,
pressed buttons answered, and an unblock releasing what was held."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from sendsongs.bootstrap import Overrides, build_app, build_runtime
from sendsongs.channels.telegram.client import TelegramClient
from sendsongs.config import load_settings
from sendsongs.domain.models import Address, Outgoing, Reply
from tests.fakes import FakeClock, MemoryStore
from tests.service.conftest import ScriptedMusic

SECRET = "tg-webhook-secret_1"
SETTINGS = {
    "SENDSONGS_SECRET_KEY": "in-process-secret-key-0123456789",
    "SENDSONGS_PUBLIC_URL": "https://bot.example",
    "SPOTIFY_CLIENT_ID": "client",
    "SPOTIFY_CLIENT_SECRET": "secret",
    "TELEGRAM_BOT_TOKEN": "123456:token",
    "TELEGRAM_WEBHOOK_SECRET": SECRET,
}
BOB = {"id": 7001, "is_bot": False, "first_name": "Bob"}
CHAT = {"id": 7001, "first_name": "Bob", "type": "private"}
BOT = {"id": 123456, "is_bot": True, "first_name": "Send Songs"}


@dataclass
class Tg:
    http: httpx.AsyncClient
    memory: MemoryStore
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    async def post(self, update: dict[str, Any] | bytes, secret: str | None = SECRET) -> Any:
        body = update if isinstance(update, bytes) else json.dumps(update).encode()
        headers = {} if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret}
        return await self.http.post("/telegram/webhook", content=body, headers=headers)


@pytest.fixture
async def tg() -> AsyncIterator[Tg]:
    clock, memory = FakeClock(), MemoryStore()
    calls: list[tuple[str, dict[str, Any]]] = []

    def bot_api(request: httpx.Request) -> httpx.Response:
        calls.append((request.url.path.rsplit("/", 1)[-1], json.loads(request.content)))
        return httpx.Response(200, json={"ok": True, "result": True})

    channel = TelegramClient(
        httpx.AsyncClient(transport=httpx.MockTransport(bot_api)),
        api_url="https://api.telegram.test",
        bot_token="123456:token",
    )
    music = ScriptedMusic(clock)
    built = build_runtime(
        load_settings(_env_file=None, **SETTINGS),
        Overrides(stores=memory.roles(), channels={"telegram": channel}, catalog=music,
                  histories={"spotify": music}, account_links={"spotify": music}, clock=clock),
    )  # fmt: skip
    app = build_app(built, run_worker=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://bot.example"
    ) as http:
        yield Tg(http, memory, calls)


def text_update(update_id: int, text: str = "/help") -> dict[str, Any]:
    message = {"message_id": 1, "from": BOB, "chat": CHAT, "date": 1795000000, "text": text}
    return {"update_id": update_id, "message": message}


async def test_an_update_is_in_the_inbox_before_the_200(tg: Tg) -> None:
    answer = await tg.post(text_update(41))
    assert answer.status_code == 200
    assert list(tg.memory.inbox) == ["telegram:41"]


@pytest.mark.parametrize(("secret", "status"), [(None, 401), ("wrong", 403), ("", 403)])
async def test_a_missing_or_wrong_secret_is_refused_and_nothing_stored(
    tg: Tg, secret: str | None, status: int
) -> None:
    answer = await tg.post(text_update(41), secret=secret)
    assert answer.status_code == status
    assert tg.memory.inbox == {}


async def test_a_redelivered_update_is_stored_once(tg: Tg) -> None:
    assert (await tg.post(text_update(41))).status_code == 200
    assert (await tg.post(text_update(41))).status_code == 200
    assert list(tg.memory.inbox) == ["telegram:41"]


@pytest.mark.parametrize(
    "body",
    [
        {"update_id": 50, "edited_message": text_update(1)["message"]},
        {"update_id": 51, "poll": {"id": "x"}},
        {"update_id": 52, "brand_new_type": {"a": 1}},
        b"{not json",
        b"[1, 2]",
        {"update_id": 53, "message": {"message_id": 1}},
        {"update_id": 54, "message": "hello"},
    ],
    ids=["edited", "poll", "unknown", "not-json", "array", "no-date", "string"],
)
async def test_signed_odd_bodies_are_acknowledged_and_ignored(
    tg: Tg, body: dict[str, Any] | bytes
) -> None:
    answer = await tg.post(body)
    assert answer.status_code == 200
    assert tg.memory.inbox == {}


async def test_a_pressed_button_is_stored_and_its_spinner_stopped(tg: Tg) -> None:
    sent = {"message_id": 2, "from": BOT, "chat": CHAT, "date": 1, "text": "Which?"}
    query = {"id": "q-1", "from": BOB, "message": sent, "chat_instance": "-1", "data": "c:tok"}
    answer = await tg.post({"update_id": 60, "callback_query": query})
    assert answer.status_code == 200
    assert tg.memory.inbox["telegram:60"][0].payload == "c:tok"
    assert tg.calls == [("answerCallbackQuery", {"callback_query_id": "q-1"})]


async def test_an_unblock_releases_what_was_held(tg: Tg) -> None:
    address = Address("telegram", "7001")
    held = Outgoing("o-1", address, Reply("Alice: a song"), FakeClock().now())
    await tg.memory.add_outgoing([held])
    await tg.memory.hold_outgoing("o-1")
    change = {"chat": CHAT, "from": BOB, "date": 1,
              "old_chat_member": {"user": BOT, "status": "kicked", "until_date": 0},
              "new_chat_member": {"user": BOT, "status": "member"}}  # fmt: skip
    answer = await tg.post({"update_id": 70, "my_chat_member": change})
    assert answer.status_code == 200
    assert tg.memory.inbox == {}  # nothing to answer
    now = FakeClock().now()
    claimed = await tg.memory.claim_outgoing(now, now, 10)
    assert [m.id for m in claimed] == ["o-1"]


async def test_without_telegram_settings_the_route_is_absent() -> None:
    settings = {**SETTINGS, "TELEGRAM_BOT_TOKEN": "", "TELEGRAM_WEBHOOK_SECRET": ""}
    settings.update(MESSENGER_VERIFY_TOKEN="v", MESSENGER_APP_SECRET="a",
                    MESSENGER_PAGE_ACCESS_TOKEN="p")  # fmt: skip
    memory = MemoryStore()
    built = build_runtime(load_settings(_env_file=None, **settings),
                          Overrides(stores=memory.roles(), channels={}))  # fmt: skip
    app = build_app(built, run_worker=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://bot.example"
    ) as http:
        answer = await http.post("/telegram/webhook", content=b"{}")
    assert answer.status_code == 404


async def test_a_wrongly_typed_field_is_acknowledged_skipped_and_the_next_update_kept(
    tg: Tg,
) -> None:
    """A number as text once made this route fail with a 500, which Telegram
    redelivers for hours; now it is acknowledged and skipped, and the chat goes on."""
    odd = text_update(80)
    odd["message"]["text"] = 5
    answer = await tg.post(odd)
    assert answer.status_code == 200 and answer.text.startswith("ignored")
    assert (await tg.post(text_update(81))).status_code == 200
    assert list(tg.memory.inbox) == ["telegram:81"]
