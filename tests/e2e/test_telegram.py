"""Telegram beside Messenger, through `sendsongs serve` and `sendsongs sandbox` over
HTTP: the webhook registered at start, a cross-channel share both ways, a
Telegram-only bot, a blocked bot, and Telegram's 429."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import (
    Bot,
    Sandbox,
    consent,
    free_port,
    link_in,
    start_bot,
    wait_until,
)
from tests.e2e.test_journey import ALICE, TRACK, people, register_in_chat

TG_TOKEN = "123456:sandbox-telegram-token"
TG_SECRET = "e2e-telegram-secret"
BOB = 7001  # Bob's Telegram user id, and so his private chat's id
SEND = "/bot123456:sandbox-telegram-token/sendMessage"


def telegram_env(env: dict[str, str], sandbox_port: int) -> dict[str, str]:
    return {
        **env,
        "TELEGRAM_BOT_TOKEN": TG_TOKEN,
        "TELEGRAM_WEBHOOK_SECRET": TG_SECRET,
        "TELEGRAM_API_URL": f"http://127.0.0.1:{sandbox_port}",
    }


@pytest.fixture
def tg_bot(
    ports: tuple[int, int], env: dict[str, str], sandbox: Sandbox, tmp_path: Path
) -> Iterator[Bot]:
    running = start_bot(ports[0], telegram_env(env, ports[1]), tmp_path / "bot.log")
    wait_until(lambda: webhook(sandbox)["url"], timeout=10)
    yield running
    running.process.stop()


def webhook(sandbox: Sandbox) -> dict[str, Any]:
    return dict(sandbox.http.get("/_sandbox/telegram/webhook").json())


def tg_texts(sandbox: Sandbox, user_id: int = BOB) -> list[str]:
    answer = sandbox.http.get("/_sandbox/telegram/messages", params={"user_id": user_id})
    answer.raise_for_status()
    return [m["text"] for m in answer.json()["messages"]]


def tg_wait(sandbox: Sandbox, needle: str, user_id: int = BOB, timeout: float = 10) -> str:
    found = wait_until(
        lambda: next((t for t in tg_texts(sandbox, user_id) if needle in t), None), timeout
    )
    return str(found)


def tg_say(sandbox: Sandbox, text: str, user_id: int = BOB) -> Any:
    answer = sandbox.post("/_sandbox/telegram/say", user_id=user_id, text=text)
    assert answer["delivered"], answer
    return answer


def bob_registers_on_telegram(bot: Bot, sandbox: Sandbox) -> None:
    sandbox.post("/_sandbox/telegram/users", id=BOB, first_name="Bob", last_name="Jones")
    sandbox.post("/_sandbox/spotify/users", id="bob.spotify", display_name="Bob")
    tg_say(sandbox, "/start")
    assert "Send Songs tells you" in tg_wait(sandbox, "Send Songs tells you")
    tg_say(sandbox, "/register")
    text = tg_wait(sandbox, "/spotify/login?t=")
    assert "Connect your Spotify as Bob Jones" in text  # first_name + last_name
    login = bot.http.get(link_in(text))
    callback = consent(sandbox, login.headers["location"], "bob.spotify")
    page = bot.http.get(callback)
    assert page.status_code == 200 and "go back to Telegram" in page.text
    tg_wait(sandbox, "You're connected, Bob Jones!")


def test_serve_registers_its_webhook_with_only_the_handled_updates(
    tg_bot: Bot, sandbox: Sandbox
) -> None:
    registered = webhook(sandbox)
    assert registered["url"] == f"{tg_bot.url}/telegram/webhook"
    assert registered["secret_token"] == TG_SECRET
    assert sorted(registered["allowed_updates"]) == [
        "callback_query",
        "edited_message",
        "message",
        "my_chat_member",
    ]
    assert wait_until(lambda: "telegram_webhook_registered" in tg_bot.process.output())


def test_alice_on_messenger_and_bob_on_telegram_share_both_ways(
    tg_bot: Bot, sandbox: Sandbox
) -> None:
    people(sandbox)
    register_in_chat(tg_bot, sandbox)
    bob_registers_on_telegram(tg_bot, sandbox)
    sandbox.say(
        ALICE, f'send_song name:"bob jones" pre:"You need this" post:"Told you!" '
        f"https://open.spotify.com/track/{TRACK}",
    )  # fmt: skip
    song = tg_wait(sandbox, "Alice Liddell:")
    assert song == f"Alice Liddell: You need this https://open.spotify.com/track/{TRACK}"
    sandbox.wait_for_message(ALICE, "Sent ")
    sandbox.post("/_sandbox/spotify/play", user="bob.spotify", track_id=TRACK)
    sandbox.wait_for_message(ALICE, "Bob Jones listened to")
    note = tg_wait(sandbox, 'Alice Liddell says "Told you!" about')
    assert note.startswith('Alice Liddell says "Told you!" about ')
    # and back: Bob, in Telegram's slash form, to Alice on Messenger
    tg_say(sandbox, f'/send_song name:"Alice Liddell" spotify:track:{TRACK}')
    assert sandbox.wait_for_message(ALICE, "Bob Jones:").endswith(TRACK)
    tg_wait(sandbox, "Sent ")
    sandbox.post("/_sandbox/spotify/play", user="alice.spotify", track_id=TRACK)
    tg_wait(sandbox, "Alice Liddell listened to")
    assert not any("Messenger" in text for text in tg_texts(sandbox))


def test_a_telegram_only_bot_serves_without_any_messenger_setting(
    ports: tuple[int, int], env: dict[str, str], sandbox: Sandbox, tmp_path: Path
) -> None:
    alone = {k: v for k, v in telegram_env(env, ports[1]).items() if not k.startswith("MESSENGER")}
    bot = start_bot(ports[0], alone, tmp_path / "alone.log")
    try:
        assert bot.http.get("/healthz").status_code == 200, bot.process.output()
        wait_until(lambda: webhook(sandbox)["url"])
        sandbox.post("/_sandbox/telegram/users", id=BOB, first_name="Bob")
        tg_say(sandbox, "/help")
        tg_wait(sandbox, "Send Songs tells you")
        assert bot.http.post("/webhook", content=b"{}").status_code == 404  # no Messenger
    finally:
        bot.process.stop()


FAILING = {"status": "unavailable", "channels": {"telegram": "failing"}}


def test_a_token_refused_at_start_fails_health_and_messenger_keeps_serving(
    ports: tuple[int, int], env: dict[str, str], sandbox: Sandbox, tmp_path: Path
) -> None:
    sandbox.post("/_sandbox/faults", path_prefix="/bot", status=401, count=None)
    bot = start_bot(ports[0], telegram_env(env, ports[1]), tmp_path / "refused.log", healthy=False)
    try:
        wait_until(lambda: "telegram_webhook_not_registered" in bot.process.output())
        wait_until(lambda: bot.http.get("/healthz").json() == FAILING)
        assert bot.http.get("/healthz").status_code == 503
        people(sandbox)
        sandbox.say(ALICE, "help")
        sandbox.wait_for_message(ALICE, "Send Songs tells you")  # Messenger still works
    finally:
        bot.process.stop()


def test_a_telegram_only_bot_with_a_wrong_token_is_unhealthy_and_says_why_in_the_log(
    ports: tuple[int, int], env: dict[str, str], sandbox: Sandbox, tmp_path: Path
) -> None:
    wrong = "123456:wrong-token"
    alone = {k: v for k, v in telegram_env(env, ports[1]).items() if not k.startswith("MESSENGER")}
    bot = start_bot(ports[0], {**alone, "TELEGRAM_BOT_TOKEN": wrong}, tmp_path / "wrong.log",
                    healthy=False)  # fmt: skip
    try:
        wait_until(lambda: bot.http.get("/healthz").status_code == 503)
        answer = bot.http.get("/healthz")
        assert answer.json() == FAILING  # which channel, never why
        assert wrong not in answer.text and "401" not in answer.text
        assert "setWebhook HTTP 401" in bot.process.output()
        assert "Traceback" not in bot.process.output()
    finally:
        bot.process.stop()


def test_an_unreachable_bot_api_is_one_log_line_and_the_bot_keeps_serving(
    ports: tuple[int, int], env: dict[str, str], tmp_path: Path
) -> None:
    nobody = free_port()  # nothing listens there
    alone = {k: v for k, v in telegram_env(env, nobody).items() if not k.startswith("MESSENGER")}
    bot = start_bot(ports[0], alone, tmp_path / "unreachable.log")
    try:
        wait_until(lambda: "telegram_webhook_not_registered" in bot.process.output())
        lines = [line for line in bot.process.output().splitlines() if "setWebhook" in line]
        assert len(lines) == 1 and "unreachable (ConnectError)" in lines[0], lines
        assert bot.http.get("/healthz").json() == {"status": "ok"}  # retried, not refused
    finally:
        bot.process.stop()


def test_a_blocked_bot_holds_the_song_tells_the_sender_and_delivers_on_unblock(
    tg_bot: Bot, sandbox: Sandbox
) -> None:
    people(sandbox)
    register_in_chat(tg_bot, sandbox)
    bob_registers_on_telegram(tg_bot, sandbox)
    blocked = sandbox.post(f"/_sandbox/telegram/users/{BOB}/block", blocked=True)
    assert blocked["delivered"]
    sandbox.say(ALICE, f'send_song name:"Bob Jones" spotify:track:{TRACK}')
    waiting = sandbox.wait_for_message(ALICE, "couldn't deliver it yet")
    assert "blocked Send Songs on Telegram" in waiting
    assert not any("Alice Liddell:" in text for text in tg_texts(sandbox))
    sandbox.post(f"/_sandbox/telegram/users/{BOB}/block", blocked=False)
    tg_wait(sandbox, "Alice Liddell:")  # released by the unblock itself, no message needed


def test_telegram_429_is_waited_out_and_the_song_still_arrives(
    tg_bot: Bot, sandbox: Sandbox
) -> None:
    people(sandbox)
    register_in_chat(tg_bot, sandbox)
    bob_registers_on_telegram(tg_bot, sandbox)
    sandbox.post("/_sandbox/faults", path_prefix=SEND, chat_id=str(BOB), status=429,
                 retry_after=6, count=1)  # fmt: skip
    sandbox.say(ALICE, f'send_song name:"Bob Jones" spotify:track:{TRACK}')
    told = sandbox.wait_for_message(ALICE, "for Bob Jones")
    assert told.startswith("Saved ") and "goes out shortly" in told  # not "Sent" yet
    tg_wait(sandbox, "Alice Liddell:", timeout=15)
    assert sandbox.calls(f"POST {SEND.replace(TG_TOKEN, '{token}')}") >= 2
    assert "message_retry_later" in tg_bot.process.output()


def tg_messages(sandbox: Sandbox, user_id: int = BOB) -> list[dict[str, Any]]:
    answer = sandbox.http.get("/_sandbox/telegram/messages", params={"user_id": user_id})
    return list(answer.json()["messages"])


def test_a_pressed_button_stops_its_spinner_and_is_answered(tg_bot: Bot, sandbox: Sandbox) -> None:
    sandbox.post("/_sandbox/telegram/users", id=BOB, first_name="Bob")
    tg_say(sandbox, "forget me")
    tg_wait(sandbox, "It can't be undone")
    [question] = [m for m in tg_messages(sandbox) if "It can't be undone" in m["text"]]
    [[button]] = question["reply_markup"]["inline_keyboard"]
    pressed = sandbox.post("/_sandbox/telegram/press", user_id=BOB, data=button["callback_data"])
    assert pressed["delivered"]
    tg_wait(sandbox, "erased everything")  # the press was read and handled
    queries = sandbox.http.get("/_sandbox/telegram/callback_queries").json()["callback_queries"]
    [query] = [q for q in queries if q["id"] == pressed["callback_query_id"]]
    assert query["answered"]  # answerCallbackQuery: the spinner stopped


def test_a_malformed_update_is_acknowledged_logged_and_never_answered(
    tg_bot: Bot, sandbox: Sandbox
) -> None:
    sandbox.post("/_sandbox/telegram/users", id=BOB, first_name="Bob")
    message = {"message_id": 1, "date": 1795000000, "text": "/help",
               "from": {"id": BOB, "is_bot": False, "first_name": "Bob"},
               "chat": {"id": str(BOB), "first_name": "Bob", "type": "private"}}  # fmt: skip
    answer = tg_bot.http.post(
        "/telegram/webhook",
        json={"update_id": 990001, "message": message},
        headers={"X-Telegram-Bot-Api-Secret-Token": TG_SECRET},
    )
    assert answer.status_code == 200  # Telegram would redeliver anything else for hours
    wait_until(lambda: "update_unreadable" in tg_bot.process.output())
    assert "chat.id is not an integer" in tg_bot.process.output()
    tg_say(sandbox, "/help")
    tg_wait(sandbox, "Send Songs tells you")
    assert len(tg_texts(sandbox)) == 1  # the good one only


def test_a_redelivered_update_is_answered_once(tg_bot: Bot, sandbox: Sandbox) -> None:
    sandbox.post("/_sandbox/telegram/users", id=BOB, first_name="Bob")
    said = tg_say(sandbox, "/help")
    tg_wait(sandbox, "Send Songs tells you")
    again = sandbox.post("/_sandbox/telegram/redeliver", update_id=said["update_id"])
    assert again["delivered"]
    tg_say(sandbox, "/status")  # answered after anything the redelivery would cause
    wait_until(lambda: len(tg_texts(sandbox)) >= 2)
    assert sum("Send Songs tells you" in text for text in tg_texts(sandbox)) == 1
