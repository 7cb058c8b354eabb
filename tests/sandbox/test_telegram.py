"""The fake Telegram Bot API and its `/_sandbox/telegram` controls, over HTTP."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from sendsongs.sandbox.app import create_sandbox_app
from sendsongs.sandbox.config import SandboxConfig

from .helpers import FakeClock

TOKEN = SandboxConfig().telegram_bot_token
API = f"/bot{TOKEN}"
HOOK = "http://bot.test/telegram/webhook"
SECRET = "s3cret_Token-1"


class Receiver:
    """A small bot-side webhook: records each update and the secret header it came with."""

    def __init__(self) -> None:
        self.updates: list[dict[str, Any]] = []
        self.secrets: list[str | None] = []
        self.status = 200
        self.app = Starlette(routes=[Route("/telegram/webhook", self.receive, methods=["POST"])])

    async def receive(self, request: Request) -> Response:
        self.secrets.append(request.headers.get("x-telegram-bot-api-secret-token"))
        self.updates.append(json.loads(await request.body()))
        return PlainTextResponse("", status_code=self.status)


@pytest.fixture
def receiver() -> Receiver:
    return Receiver()


@pytest.fixture
async def tg(receiver: Receiver, clock: FakeClock) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a sandbox whose updates reach `receiver`."""
    outbound = httpx.AsyncClient(transport=httpx.ASGITransport(app=receiver.app))
    sandbox = create_sandbox_app(SandboxConfig(), webhook_client=outbound, clock=clock)
    async with (
        outbound,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=sandbox), base_url="http://sandbox.test"
        ) as client,
    ):
        yield client


async def call(client: httpx.AsyncClient, method: str, **params: Any) -> httpx.Response:
    return await client.post(f"{API}/{method}", json=params)


async def set_webhook(client: httpx.AsyncClient, **extra: Any) -> None:
    answer = await call(client, "setWebhook", url=HOOK, secret_token=SECRET, **extra)
    assert answer.json()["ok"] is True, answer.text


async def new_user(
    client: httpx.AsyncClient, user_id: int = 7001, started: bool = True, **names: str
) -> int:
    body = {"id": user_id, "first_name": "Bob", "last_name": "Jones", "started": started} | names
    response = await client.post("/_sandbox/telegram/users", json=body)
    assert response.status_code == 200, response.text
    return user_id


def keyboard(*data: str) -> dict[str, Any]:
    return {
        "inline_keyboard": [[{"text": f"#{i}", "callback_data": d} for i, d in enumerate(data)]]
    }


def error(response: httpx.Response) -> tuple[int, str]:
    body = response.json()
    assert body["ok"] is False and body["error_code"] == response.status_code
    return response.status_code, body["description"]


async def test_get_me_token_and_method_checks(tg: httpx.AsyncClient) -> None:
    me = (await tg.get(f"{API}/getMe")).json()
    assert me["ok"] is True
    assert me["result"]["id"] == 123456 and me["result"]["is_bot"] is True
    assert me["result"]["username"].endswith("Bot")
    assert (await tg.post(f"{API}/GETME")).json()["ok"] is True  # names ignore case
    assert error(await tg.get("/bot123456:wrong-token/getMe")) == (401, "Unauthorized")
    assert error(await tg.get("/botnot-a-token/getMe")) == (404, "Not Found")
    assert error(await tg.get(f"{API}/sendSong")) == (404, "Not Found")


async def test_set_webhook_info_and_delete(tg: httpx.AsyncClient) -> None:
    first = await call(
        tg, "setWebhook", url=HOOK, secret_token=SECRET, allowed_updates=["message", "nonsense"]
    )
    assert first.json() == {"ok": True, "result": True, "description": "Webhook was set"}
    info = (await call(tg, "getWebhookInfo")).json()["result"]
    assert info["url"] == HOOK and info["pending_update_count"] == 0
    assert info["allowed_updates"] == ["message"]
    bad = await call(tg, "setWebhook", url=HOOK, secret_token="has space")
    assert error(bad) == (400, "Bad Request: secret token contains unallowed characters")
    deleted = (await call(tg, "deleteWebhook")).json()
    assert deleted == {"ok": True, "result": True, "description": "Webhook was deleted"}
    assert (await call(tg, "getWebhookInfo")).json()["result"]["url"] == ""


async def test_say_without_a_webhook_is_refused(tg: httpx.AsyncClient, receiver: Receiver) -> None:
    user_id = await new_user(tg)
    response = await tg.post("/_sandbox/telegram/say", json={"user_id": user_id, "text": "hi"})
    assert response.status_code == 409 and "setWebhook" in response.json()["error"]
    assert receiver.updates == []


async def test_say_posts_a_message_update_with_the_secret(
    tg: httpx.AsyncClient, receiver: Receiver, clock: FakeClock
) -> None:
    await set_webhook(tg)
    user_id = await new_user(tg, started=False, username="bobj")
    first = await tg.post("/_sandbox/telegram/say", json={"user_id": user_id, "text": "/start x1"})
    await tg.post("/_sandbox/telegram/say", json={"user_id": user_id, "text": "hé 🎵"})
    assert first.json()["webhook_status"] == 200 and first.json()["delivered"] is True
    assert receiver.secrets == [SECRET, SECRET]
    update = receiver.updates[0]
    assert update["update_id"] == first.json()["update_id"]
    assert receiver.updates[1]["update_id"] == update["update_id"] + 1
    message = update["message"]
    assert message["from"] == {
        "id": user_id,
        "is_bot": False,
        "first_name": "Bob",
        "last_name": "Jones",
        "username": "bobj",
        "language_code": "en",
    }
    assert message["chat"] == {
        "id": user_id,
        "first_name": "Bob",
        "last_name": "Jones",
        "username": "bobj",
        "type": "private",
    }
    assert message["date"] == int(clock.now) and message["text"] == "/start x1"
    assert message["entities"] == [{"offset": 0, "length": 6, "type": "bot_command"}]
    assert receiver.updates[1]["message"]["text"] == "hé 🎵"
    assert "entities" not in receiver.updates[1]["message"]
    assert receiver.updates[1]["message"]["message_id"] == message["message_id"] + 1
    # Having written, the person has started the bot: it may now write to them.
    assert (await call(tg, "sendMessage", chat_id=user_id, text="Hi")).status_code == 200


async def test_redeliver_sends_the_same_update_again(
    tg: httpx.AsyncClient, receiver: Receiver
) -> None:
    await set_webhook(tg)
    user_id = await new_user(tg)
    receiver.status = 500
    said = (await tg.post("/_sandbox/telegram/say", json={"user_id": user_id, "text": "hi"})).json()
    assert said["delivered"] is False and said["webhook_status"] == 500
    info = (await call(tg, "getWebhookInfo")).json()["result"]
    assert "500" in info["last_error_message"]
    receiver.status = 200
    again = await tg.post("/_sandbox/telegram/redeliver", json={"update_id": said["update_id"]})
    assert again.json()["delivered"] is True
    assert receiver.updates[0] == receiver.updates[1]
    unknown = await tg.post("/_sandbox/telegram/redeliver", json={"update_id": 1})
    assert unknown.status_code == 404


async def test_send_message_returns_the_message_and_is_kept(tg: httpx.AsyncClient) -> None:
    user_id = await new_user(tg)
    sent = await call(
        tg,
        "sendMessage",
        chat_id=str(user_id),
        text="<b>Bob</b> &amp; Alice",
        parse_mode="HTML",
        reply_markup=keyboard("yes:1"),
        link_preview_options={"is_disabled": True},
    )
    result = sent.json()["result"]
    assert result["text"] == "Bob & Alice"
    assert result["chat"]["id"] == user_id and result["chat"]["type"] == "private"
    assert result["from"]["is_bot"] is True
    assert result["reply_markup"] == keyboard("yes:1")
    kept = (await tg.get("/_sandbox/telegram/messages", params={"user_id": user_id})).json()
    [message] = kept["messages"]
    assert message["message_id"] == result["message_id"]
    assert message["text"] == "Bob & Alice" and message["reply_markup"] == keyboard("yes:1")
    assert kept["next"] == 1


async def test_send_message_limits(tg: httpx.AsyncClient) -> None:
    user_id = await new_user(tg)
    stranger = await new_user(tg, user_id=7002, started=False)

    async def refusal(**params: Any) -> tuple[int, str]:
        return error(await call(tg, "sendMessage", **params))

    assert await refusal(text="x") == (400, "Bad Request: chat_id is empty")
    assert await refusal(chat_id=user_id, text="") == (400, "Bad Request: message text is empty")
    assert await refusal(chat_id=999, text="x") == (400, "Bad Request: chat not found")
    too_long = "🎵" * 4097
    assert await refusal(chat_id=user_id, text=too_long) == (
        400,
        "Bad Request: message is too long",
    )
    assert await refusal(chat_id=stranger, text="hi") == (
        403,
        "Forbidden: bot can't initiate conversation with a user",
    )
    # 4,096 characters after entity parsing pass, though the markup makes it longer.
    fits = await call(
        tg, "sendMessage", chat_id=user_id, text=f"<i>{'a' * 4096}</i>", parse_mode="HTML"
    )
    assert fits.status_code == 200
    assert (await refusal(chat_id=user_id, text="1.5", parse_mode="MarkdownV2"))[1].startswith(
        "Bad Request: can't parse entities: Character '.' is reserved"
    )
    assert (await tg.get("/_sandbox/telegram/messages")).json()["next"] == 1


async def test_callback_data_is_measured_in_bytes(tg: httpx.AsyncClient) -> None:
    user_id = await new_user(tg)
    invalid = (400, "Bad Request: BUTTON_DATA_INVALID")
    for data in ("🎵" * 22, "a" * 65, ""):
        response = await call(
            tg, "sendMessage", chat_id=user_id, text="?", reply_markup=keyboard(data)
        )
        assert error(response) == invalid
    for data in ("🎵" * 16, "a" * 64):
        response = await call(
            tg, "sendMessage", chat_id=user_id, text="?", reply_markup=keyboard(data)
        )
        assert response.status_code == 200
    # Form-encoded, the markup travels as serialized JSON.
    form = {"chat_id": str(user_id), "text": "?", "reply_markup": json.dumps(keyboard("é" * 33))}
    assert error(await tg.post(f"{API}/sendMessage", data=form)) == invalid


async def test_press_and_answer_callback_query(tg: httpx.AsyncClient, receiver: Receiver) -> None:
    await set_webhook(tg)
    user_id = await new_user(tg)
    sent = await call(
        tg, "sendMessage", chat_id=user_id, text="Send?", reply_markup=keyboard("a", "b")
    )
    message_id = sent.json()["result"]["message_id"]
    pressed = (
        await tg.post("/_sandbox/telegram/press", json={"user_id": user_id, "data": "b"})
    ).json()
    [update] = receiver.updates
    query = update["callback_query"]
    assert query["id"] == pressed["callback_query_id"] and query["data"] == "b"
    assert query["from"]["id"] == user_id and query["chat_instance"]
    assert query["message"]["message_id"] == message_id
    assert query["message"]["reply_markup"] == keyboard("a", "b")
    missing = await tg.post("/_sandbox/telegram/press", json={"user_id": user_id, "data": "zz"})
    assert missing.status_code == 404

    too_long = await call(tg, "answerCallbackQuery", callback_query_id=query["id"], text="x" * 201)
    assert error(too_long) == (400, "Bad Request: MESSAGE_TOO_LONG")
    answered = await call(tg, "answerCallbackQuery", callback_query_id=query["id"], text="Sent ✓")
    assert answered.json() == {"ok": True, "result": True}
    again = await call(tg, "answerCallbackQuery", callback_query_id=query["id"])
    assert error(again)[1].startswith("Bad Request: query is too old")
    [record] = (await tg.get("/_sandbox/telegram/callback_queries")).json()["callback_queries"]
    assert record["answered"] is True and record["answer"]["text"] == "Sent ✓"


async def test_block_and_unblock(tg: httpx.AsyncClient, receiver: Receiver) -> None:
    await set_webhook(tg)
    user_id = await new_user(tg)
    blocked = await tg.post(f"/_sandbox/telegram/users/{user_id}/block", json={"blocked": True})
    assert blocked.json()["user"]["blocked"] is True
    refused = await call(tg, "sendMessage", chat_id=user_id, text="hi")
    assert error(refused) == (403, "Forbidden: bot was blocked by the user")
    await tg.post(f"/_sandbox/telegram/users/{user_id}/block", json={"blocked": False})
    assert (await call(tg, "sendMessage", chat_id=user_id, text="hi")).status_code == 200
    changes = [u["my_chat_member"] for u in receiver.updates]
    assert [(c["old_chat_member"]["status"], c["new_chat_member"]["status"]) for c in changes] == [
        ("member", "kicked"),
        ("kicked", "member"),
    ]
    assert changes[0]["new_chat_member"]["user"]["is_bot"] is True
    assert changes[0]["chat"]["id"] == user_id and changes[0]["from"]["id"] == user_id


async def test_allowed_updates_filter_what_is_posted(
    tg: httpx.AsyncClient, receiver: Receiver
) -> None:
    await set_webhook(tg, allowed_updates=["message"])
    user_id = await new_user(tg)
    answer = (await tg.post(f"/_sandbox/telegram/users/{user_id}/block", json={})).json()
    assert answer["delivered"] is False and "allowed_updates" in answer["webhook_error"]
    assert receiver.updates == []


async def test_429_fault_scoped_to_method_and_chat(tg: httpx.AsyncClient) -> None:
    alice, bob = await new_user(tg, 7001), await new_user(tg, 7002)
    fault = {
        "path_prefix": f"{API}/sendMessage",
        "chat_id": str(bob),
        "status": 429,
        "retry_after": 7,
        "count": None,
    }
    assert (await tg.post("/_sandbox/faults", json=fault)).status_code == 200
    for _ in range(3):  # until cleared
        response = await call(tg, "sendMessage", chat_id=bob, text="hi")
        assert response.status_code == 429
        assert response.json() == {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 7",
            "parameters": {"retry_after": 7},
        }
    assert (await call(tg, "sendMessage", chat_id=alice, text="hi")).status_code == 200
    assert (await call(tg, "getMe")).status_code == 200
    await tg.delete("/_sandbox/faults")
    assert (await call(tg, "sendMessage", chat_id=bob, text="hi")).status_code == 200
    calls = (await tg.get("/_sandbox/stats")).json()["calls"]
    assert calls["POST /bot{token}/sendMessage"] == 5


async def test_other_telegram_faults(tg: httpx.AsyncClient) -> None:
    user_id = await new_user(tg)
    for status, description in (
        (403, "Forbidden: bot was blocked by the user"),
        (502, "Bad Gateway"),
    ):
        await tg.post("/_sandbox/faults", json={"path_prefix": "/bot", "status": status})
        response = await call(tg, "sendMessage", chat_id=user_id, text="hi")
        assert error(response) == (status, description)
    custom = {"path_prefix": "/bot", "status": 400, "description": "Bad Request: chat not found"}
    await tg.post("/_sandbox/faults", json=custom)
    assert error(await call(tg, "getMe")) == (400, "Bad Request: chat not found")


async def test_drop_fault_is_a_network_error_in_process_too(tg: httpx.AsyncClient) -> None:
    await tg.post("/_sandbox/faults", json={"path_prefix": f"{API}/getMe", "status": "drop"})
    faults = (await tg.get("/_sandbox/faults")).json()["faults"]
    assert faults[0]["status"] == "drop" and faults[0]["remaining"] == 1
    with pytest.raises(httpx.RemoteProtocolError):
        await call(tg, "getMe")
    assert (await call(tg, "getMe")).json()["ok"] is True


async def test_reset_forgets_telegram(tg: httpx.AsyncClient) -> None:
    await set_webhook(tg)
    user_id = await new_user(tg)
    await call(tg, "sendMessage", chat_id=user_id, text="hi")
    await tg.post("/_sandbox/reset")
    assert (await tg.get("/_sandbox/telegram/users")).json() == {"users": []}
    assert (await tg.get("/_sandbox/telegram/messages")).json() == {"messages": [], "next": 0}
    assert (await tg.get("/_sandbox/telegram/webhook")).json()["url"] == ""


def test_token_comes_from_the_environment() -> None:
    assert SandboxConfig.from_env({"TELEGRAM_BOT_TOKEN": "42:abc"}).telegram_bot_token == "42:abc"
    assert SandboxConfig.from_env({}).telegram_bot_token == "123456:sandbox-telegram-token"


@contextmanager
def serving(app: ASGIApp) -> Iterator[str]:
    """`app` on a free local port, in a thread; its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="critical", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(5)


def test_over_sockets_set_webhook_then_say_reaches_the_bot(receiver: Receiver) -> None:
    with (
        serving(receiver.app) as bot_url,
        serving(create_sandbox_app(SandboxConfig())) as sandbox_url,
        httpx.Client(base_url=sandbox_url, timeout=5) as client,
    ):
        form = {
            "url": f"{bot_url}/telegram/webhook",
            "secret_token": SECRET,
            "allowed_updates": json.dumps(["message", "callback_query"]),
        }
        assert client.post(f"{API}/setWebhook", data=form).json()["ok"] is True
        client.post("/_sandbox/telegram/users", json={"id": 55, "first_name": "Bob"})
        said = client.post("/_sandbox/telegram/say", json={"user_id": 55, "text": "/help"})
        assert said.json()["webhook_status"] == 200
        assert receiver.secrets == [SECRET]
        assert receiver.updates[0]["message"]["chat"] == {
            "id": 55,
            "first_name": "Bob",
            "type": "private",
        }
        reply = client.post(f"{API}/sendMessage", data={"chat_id": "55", "text": "Hello"})
        assert reply.json()["result"]["text"] == "Hello"


def test_drop_fault_ends_the_connection_mid_response() -> None:
    with (
        serving(create_sandbox_app(SandboxConfig())) as sandbox_url,
        httpx.Client(base_url=sandbox_url, timeout=5) as client,
    ):
        client.post("/_sandbox/faults", json={"path_prefix": f"{API}/getMe", "status": "drop"})
        with pytest.raises(httpx.RemoteProtocolError):
            client.get(f"{API}/getMe")
        assert client.get(f"{API}/getMe").json()["ok"] is True
