"""`POST /telegram/webhook` in process, over a real TelegramClient whose Bot API is a
MockTransport: the secret header, storing the update unread before the 200,
redeliveries, odd bodies, and what the worker does when it reads them — pressed
buttons answered, unreadable updates skipped, an unblock releasing what was held."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from sendsongs.bootstrap import Overrides, build_app, build_runtime
from sendsongs.channels.telegram.client import TelegramClient
from sendsongs.config import load_settings
from sendsongs.domain.models import Address, Outgoing, Reply
from sendsongs.service import Service, conversation
from tests.fakes import FakeClock, MemoryStore
from tests.recorded_logs import record_logs
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
REFUSED = {"ok": False, "error_code": 400, "description": "Bad Request: query is too old"}
HELP_BUTTON = {"inline_keyboard": [[{"text": "Help", "callback_data": "c:tok"}]]}


@dataclass
class Tg:
    http: httpx.AsyncClient
    memory: MemoryStore
    service: Service
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)  # Bot API methods answered with a 400

    async def post(self, update: dict[str, Any] | bytes, secret: str | None = SECRET) -> Any:
        body = update if isinstance(update, bytes) else json.dumps(update).encode()
        headers = {} if secret is None else {"X-Telegram-Bot-Api-Secret-Token": secret}
        return await self.http.post("/telegram/webhook", content=body, headers=headers)

    async def work(self) -> None:
        """What the worker does with the inbox, until nothing is left to claim."""
        while await self.service.conversation.process_inbox():
            pass

    def sent(self) -> list[tuple[str, str]]:
        return [(str(b["chat_id"]), b["text"]) for m, b in self.calls if m == "sendMessage"]

    def unfinished(self) -> list[str]:
        return [mid for mid, (_, state) in self.memory.inbox.items() if not state.done]


@pytest.fixture
async def tg() -> AsyncIterator[Tg]:
    clock, memory = FakeClock(), MemoryStore()
    calls: list[tuple[str, dict[str, Any]]] = []
    refuse: set[str] = set()

    def bot_api(request: httpx.Request) -> httpx.Response:
        method = request.url.path.rsplit("/", 1)[-1]
        calls.append((method, json.loads(request.content)))
        if method in refuse:
            return httpx.Response(400, json=REFUSED)
        if method == "sendMessage":
            return httpx.Response(200, json={"ok": True, "result": {"message_id": len(calls)}})
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
        yield Tg(http, memory, built.service, calls, refuse)


def text_update(update_id: int, text: str = "/help") -> dict[str, Any]:
    message = {"message_id": 1, "from": BOB, "chat": CHAT, "date": 1795000000, "text": text}
    return {"update_id": update_id, "message": message}


def press_update(update_id: int, query_id: str = "q-1") -> dict[str, Any]:
    sent = {"message_id": 2, "from": BOT, "chat": CHAT, "date": 1, "text": "Which?",
            "reply_markup": HELP_BUTTON}  # fmt: skip
    query = {"id": query_id, "from": BOB, "message": sent, "chat_instance": "-1", "data": "c:tok"}
    return {"update_id": update_id, "callback_query": query}


def member_update(update_id: int, status: str) -> dict[str, Any]:
    old = "member" if status == "kicked" else "kicked"
    change = {"chat": CHAT, "from": BOB, "date": 1,
              "old_chat_member": {"user": BOT, "status": old, "until_date": 0},
              "new_chat_member": {"user": BOT, "status": status, "until_date": 0}}  # fmt: skip
    return {"update_id": update_id, "my_chat_member": change}


async def test_an_update_is_stored_unread_before_the_200_and_nothing_called(tg: Tg) -> None:
    update = text_update(41)
    answer = await tg.post(update)
    assert answer.status_code == 200 and answer.text == "ok"
    stored, _ = tg.memory.inbox["telegram:41"]
    # the chat, as a routing key (queue groups on AWS); the worker reads the rest
    assert stored.sender == Address("telegram", str(CHAT["id"]))
    assert stored.unread is not None and json.loads(stored.unread) == update
    assert tg.calls == []  # no Bot API call on the webhook's path


@pytest.mark.parametrize(
    ("update", "chat"),
    [
        (lambda: press_update(42), str(CHAT["id"])),
        (lambda: member_update(43, "kicked"), str(CHAT["id"])),
        (lambda: {"update_id": 44, "message": {"chat": {"id": "not a number"}}}, ""),
        (lambda: {"update_id": 45, "message": "not an object"}, ""),
    ],
)
async def test_the_sender_an_update_is_stored_under_is_its_chat_if_plain(
    tg: Tg, update: Callable[[], dict[str, Any]], chat: str
) -> None:
    body = update()
    assert (await tg.post(body)).status_code == 200
    stored, _ = tg.memory.inbox[f"telegram:{body['update_id']}"]
    assert stored.sender == Address("telegram", chat)


async def test_the_worker_reads_the_update_and_answers_its_sender(tg: Tg) -> None:
    await tg.post(text_update(41))
    await tg.work()
    assert [chat for chat, _ in tg.sent()] == ["7001"]
    assert "Send Songs tells you" in tg.sent()[0][1]
    assert tg.unfinished() == []
    finished, _ = tg.memory.inbox["telegram:41"]
    assert finished.unread is None  # what it said is forgotten once handled


async def test_only_the_handled_update_types_are_stored(tg: Tg) -> None:
    update = {**text_update(42), "channel_post": {"message_id": 9}, "future_type": {"a": 1}}
    assert (await tg.post(update)).status_code == 200
    stored, _ = tg.memory.inbox["telegram:42"]
    assert stored.unread is not None
    assert json.loads(stored.unread) == text_update(42)


async def test_a_name_with_half_a_surrogate_pair_is_mended_not_an_error(tg: Tg) -> None:
    update = text_update(44, "register")
    update["message"]["from"] = {**BOB, "first_name": "Bo\ud800b"}  # JSON: "Bo\\ud800b"
    assert (await tg.post(update)).status_code == 200
    await tg.work()
    assert len(tg.sent()) == 1
    assert "went wrong" not in tg.sent()[0][1]
    assert "Bo\ufffdb" in tg.sent()[0][1]  # the name it is registered under, mended


async def test_an_edited_message_is_answered_and_never_acted_on(tg: Tg) -> None:
    sent = text_update(43, "help")["message"]
    update = {"update_id": 43, "edited_message": {**sent, "edit_date": 1795000100}}
    assert (await tg.post(update)).status_code == 200
    await tg.work()
    # "help" acted on would answer with the help text; an edit is only acknowledged
    assert len(tg.sent()) == 1
    assert tg.sent()[0][0] == "7001"
    assert "only act on messages as they were first sent" in tg.sent()[0][1]
    assert tg.unfinished() == []


@pytest.mark.parametrize(("secret", "status"), [(None, 401), ("wrong", 403), ("", 403)])
async def test_a_missing_or_wrong_secret_is_refused_and_nothing_stored(
    tg: Tg, secret: str | None, status: int
) -> None:
    answer = await tg.post(text_update(41), secret=secret)
    assert answer.status_code == status
    assert tg.memory.inbox == {}


async def test_a_redelivered_update_is_stored_once_and_answered_once(tg: Tg) -> None:
    assert (await tg.post(text_update(41))).status_code == 200
    assert (await tg.post(text_update(41))).status_code == 200
    assert list(tg.memory.inbox) == ["telegram:41"]
    await tg.work()
    assert (await tg.post(text_update(41))).status_code == 200  # after it was handled
    await tg.work()
    assert len(tg.sent()) == 1


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b"{not json", "ignored: body is not JSON"),
        (b"[1, 2]", "ignored: an update is a JSON object"),
        (b'{"message": {}}', "ignored: update_id is missing or not an integer"),
        (b'{"update_id": true, "message": {}}', "ignored: update_id is missing or not an integer"),
        (b'{"update_id": "5", "message": {}}', "ignored: update_id is missing or not an integer"),
        ({"update_id": 50, "channel_post": text_update(1)["message"]}, "ignored"),
        ({"update_id": 51, "poll": {"id": "x"}}, "ignored"),
        ({"update_id": 52, "brand_new_type": {"a": 1}}, "ignored"),
    ],
    ids=["not-json", "array", "no-id", "bool-id", "string-id", "channel-post", "poll", "unknown"],
)
async def test_what_is_no_update_of_a_handled_type_is_acknowledged_and_not_stored(
    tg: Tg, body: dict[str, Any] | bytes, why: str
) -> None:
    answer = await tg.post(body)
    assert answer.status_code == 200 and answer.text == why
    assert tg.memory.inbox == {}


def chat_id_as_text(update_id: int) -> dict[str, Any]:
    update = text_update(update_id)
    update["message"]["chat"] = {**CHAT, "id": "7001"}
    return update


def text_as_number(update_id: int) -> dict[str, Any]:
    update = text_update(update_id)
    update["message"]["text"] = 5
    return update


@pytest.mark.parametrize(
    ("update", "reason"),
    [
        (chat_id_as_text(53), "chat.id is not an integer"),
        (text_as_number(54), "text is not a string"),
        ({"update_id": 55, "message": {"message_id": 1}}, "not a Bot API update"),
        ({"update_id": 56, "message": "hello"}, "not a Bot API update"),
    ],
    ids=["chat-id-string", "text-number", "no-date", "string"],
)
async def test_a_malformed_update_is_acknowledged_never_answered_and_logged(
    monkeypatch: pytest.MonkeyPatch, tg: Tg, update: dict[str, Any], reason: str
) -> None:
    """A wrong type once made this route fail with a 500, which Telegram redelivers
    for hours; now it is stored, acknowledged, and skipped with a warning when read,
    and the chat goes on."""
    answer = await tg.post(update)
    assert answer.status_code == 200
    assert (await tg.post(text_update(81))).status_code == 200
    logs = record_logs(monkeypatch, conversation)
    await tg.work()
    assert [chat for chat, _ in tg.sent()] == ["7001"]  # only the good one is answered
    assert tg.unfinished() == []  # the malformed one is finished too: never read again
    [warning] = [e for e in logs if e["event"] == "update_unreadable"]
    assert warning["log_level"] == "warning"
    assert warning["message_id"] == f"telegram:{update['update_id']}"
    assert reason in warning["reason"]


async def test_a_group_message_is_finished_without_an_answer(tg: Tg) -> None:
    update = text_update(57)
    update["message"]["chat"] = {"id": -100, "title": "Band", "type": "group"}
    assert (await tg.post(update)).status_code == 200
    await tg.work()
    assert tg.calls == [] and tg.unfinished() == []


async def test_a_pressed_button_is_answered_when_read_then_replied_to(tg: Tg) -> None:
    answer = await tg.post(press_update(60))
    assert answer.status_code == 200
    assert tg.calls == []  # not at intake: the spinner stops when the press is in hand
    await tg.work()
    methods = [method for method, _ in tg.calls]
    assert methods == ["answerCallbackQuery", "sendMessage"]
    assert tg.calls[0][1] == {"callback_query_id": "q-1"}
    assert tg.sent()[0][0] == "7001"


async def test_a_press_whose_answer_fails_is_still_replied_to(tg: Tg) -> None:
    tg.refuse.add("answerCallbackQuery")
    await tg.post(press_update(61, "q-2"))
    await tg.work()
    assert [method for method, _ in tg.calls] == ["answerCallbackQuery", "sendMessage"]
    assert tg.unfinished() == []


async def held_for_bob(tg: Tg) -> None:
    held = Outgoing("o-1", Address("telegram", "7001"), Reply("Alice: a song"), FakeClock().now())
    await tg.memory.add_outgoing([held])
    await tg.memory.hold_outgoing("o-1")


async def test_an_unblock_delivers_what_was_held(tg: Tg) -> None:
    await held_for_bob(tg)
    assert (await tg.post(member_update(70, "member"))).status_code == 200
    assert tg.sent() == []  # read by the worker, not at intake
    await tg.work()
    assert tg.sent() == [("7001", "Alice: a song")]
    assert tg.unfinished() == []


async def test_a_block_keeps_what_is_held(monkeypatch: pytest.MonkeyPatch, tg: Tg) -> None:
    await held_for_bob(tg)
    assert (await tg.post(member_update(71, "kicked"))).status_code == 200
    logs = record_logs(monkeypatch, conversation)
    await tg.work()
    assert tg.sent() == [] and tg.unfinished() == []
    assert [e["address"] for e in logs if e["event"] == "address_blocked_bot"] == ["telegram:7001"]
    now = FakeClock().now()
    assert await tg.memory.claim_outgoing(now, now, 10) == []  # still held


async def test_without_telegram_settings_the_route_is_absent() -> None:
    settings = {**SETTINGS, "TELEGRAM_BOT_TOKEN": "", "TELEGRAM_WEBHOOK_SECRET": ""}
    settings.update(MESSENGER_VERIFY_TOKEN="v", MESSENGER_APP_SECRET="a",
                    MESSENGER_PAGE_ACCESS_TOKEN="p")  # fmt: skip
    memory = MemoryStore()
    built = build_runtime(load_settings(_env_file=None, **settings),
                          Overrides(stores=memory.roles(), channels={}))  # fmt: skip
    assert built.service.ports.readers == {}
    app = build_app(built, run_worker=False)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://bot.example"
    ) as http:
        answer = await http.post("/telegram/webhook", content=b"{}")
    assert answer.status_code == 404
