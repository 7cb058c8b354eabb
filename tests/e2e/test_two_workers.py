"""Two `serve` processes on one SQLite file, as two workers of one bot: every inbox
row and every due check is handled by exactly one of them, and nothing is lost."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.harness import Bot, Sandbox, bot_env, free_port, start_bot, wait_until
from tests.e2e.test_journey import (
    ALICE,
    BOB,
    TRACK,
    people,
    register_in_chat,
    register_with_code,
)

SENDERS = [f"20000000000{i:05d}" for i in range(30)]


@pytest.fixture
def second_bot(env: dict[str, str], sandbox: Sandbox, bot: Bot, tmp_path: Path) -> Iterator[Bot]:
    port = free_port()
    sandbox_port = int(sandbox.url.rsplit(":", 1)[1])
    second_env = bot_env(port, sandbox_port, Path(env["SENDSONGS_DATABASE_URL"][10:]))
    second_env["SENDSONGS_PUBLIC_URL"] = env["SENDSONGS_PUBLIC_URL"]
    running = start_bot(port, second_env, tmp_path / "bot2.log")
    yield running
    running.process.stop()


def _event(mid: str, psid: str) -> bytes:
    message = {"sender": {"id": psid}, "recipient": {"id": "1"}, "timestamp": 1,
               "message": {"mid": mid, "text": "help"}}  # fmt: skip
    return json.dumps({"object": "page", "entry": [{"id": "1", "messaging": [message]}]}).encode()


def test_inbox_rows_are_answered_once_whichever_worker_took_them(
    bot: Bot, second_bot: Bot, sandbox: Sandbox
) -> None:
    for psid in SENDERS:
        sandbox.post("/_sandbox/messenger/users", psid=psid, first_name="P", last_name=psid)
    for i, psid in enumerate(SENDERS):
        body = _event(f"m_two_{i}", psid)
        # Messenger redelivers: the same event reaches both processes
        assert bot.post_event(body).status_code == 200
        assert second_bot.post_event(body).status_code == 200

    def everyone_answered() -> bool:
        return all(sandbox.messages(psid) for psid in SENDERS)

    wait_until(everyone_answered, timeout=30)
    for psid in SENDERS:
        assert len(sandbox.messages(psid)) == 1, psid


def test_a_due_check_is_run_by_one_worker_and_its_listen_told_once(
    bot: Bot, second_bot: Bot, sandbox: Sandbox
) -> None:
    people(sandbox)
    register_in_chat(bot, sandbox)
    register_with_code(bot, sandbox)
    sandbox.say(ALICE, f'send_song name:"Bob Jones" spotify:track:{TRACK}')
    sandbox.wait_for_message(BOB, "Alice Liddell:")
    sandbox.post("/_sandbox/spotify/play", user="bob.spotify", track_id=TRACK)
    sandbox.wait_for_message(ALICE, "Bob Jones listened to", timeout=15)
    sandbox.say(ALICE, "help")  # a later message: anything owed before it has arrived
    sandbox.wait_for_message(ALICE, "Send Songs tells you")
    assert len([m for m in sandbox.messages(ALICE) if "Bob Jones listened to" in m]) == 1
    assert sandbox.calls("GET /v1/me/player/recently-played") >= 1
