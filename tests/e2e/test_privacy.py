"""People's data under their control, through `sendsongs serve` and the sandbox over
HTTP: `forget me` and Facebook's data deletion callback erase a person down to the
bytes of the SQLite files (database, -wal, -shm)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any

from tests.e2e.harness import (
    APP_SECRET,
    SENDSONGS,
    Bot,
    Sandbox,
    start_bot,
    wait_until,
)
from tests.e2e.test_journey import ALICE, BOB, TRACK, people, register_in_chat, register_with_code

SONG = f"https://open.spotify.com/track/{TRACK}"


def db_path(env: dict[str, str]) -> Path:
    return Path(env["SENDSONGS_DATABASE_URL"].removeprefix("sqlite:///"))


def files(path: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in path.parent.glob(path.name + "*")}


def query(path: Path, sql: str) -> list[Any]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        return db.execute(sql).fetchall()


def bobs_traces(path: Path) -> list[bytes]:
    """What only Bob's data holds: his ids, names, account and encrypted tokens."""
    [(access, refresh)] = query(
        path,
        "SELECT access_token_enc, refresh_token_enc FROM connections WHERE account = 'bob.spotify'",
    )
    return [
        BOB.encode(), b"Bob Jones", b"bob jones", b"bob.spotify", b"Robert",
        access.encode(), refresh.encode(),
    ]  # fmt: skip


def assert_gone(path: Path, traces: list[bytes]) -> None:
    found = {
        (trace[:24], name)
        for name, content in files(path).items()
        for trace in traces
        if trace in content
    }
    assert not found, f"still readable: {sorted(found)}"


def friends_with_a_pending_share(bot: Bot, sandbox: Sandbox, path: Path) -> list[bytes]:
    people(sandbox)
    register_in_chat(bot, sandbox)
    register_with_code(bot, sandbox)
    sandbox.say(ALICE, f'send_song name:"Bob Jones" {SONG}')
    sandbox.wait_for_message(ALICE, "Sent ")
    traces = bobs_traces(path)
    everything = b"".join(files(path).values())
    assert all(trace in everything for trace in traces[:4])  # the search looks at real data
    return traces


def quick_replies(sandbox: Sandbox, psid: str) -> list[dict[str, Any]]:
    answer = sandbox.http.get("/_sandbox/messenger/messages", params={"psid": psid}).json()
    return list(answer["messages"][-1]["quick_replies"])


def test_forget_me_erases_the_person_down_to_the_bytes(
    bot: Bot, sandbox: Sandbox, env: dict[str, str]
) -> None:
    path = db_path(env)
    traces = friends_with_a_pending_share(bot, sandbox, path)
    sandbox.say(BOB, "forget me")
    sandbox.wait_for_message(BOB, "erases everything I hold about you")
    [button] = quick_replies(sandbox, BOB)
    assert button["title"] == "Yes, forget me" and len(button["payload"]) <= 64
    assert query(path, "SELECT COUNT(*) FROM people") == [(2,)]  # asked, not yet erased
    sandbox.say(BOB, "", quick_reply_payload=button["payload"])  # Bob taps the button
    sandbox.wait_for_message(BOB, "Done: I've erased everything I held about you")
    sandbox.wait_for_message(ALICE, "asked me to erase everything I held about them")
    assert_gone(path, traces)
    assert query(path, "SELECT COUNT(*) FROM people") == [(1,)]
    sandbox.say(ALICE, f'send_song name:"Bob Jones" {SONG}')
    sandbox.wait_for_message(ALICE, 'I don\'t know anyone called "Bob Jones"')
    sandbox.say(BOB, f'send_song name:"Alice Liddell" {SONG}')  # Bob starts as someone new
    sandbox.wait_for_message(BOB, "First connect your play history")


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def signed_request(user_id: str, secret: str = APP_SECRET, age: int = 0) -> str:
    issued = int(time.time()) - age
    body = {"algorithm": "HMAC-SHA256", "issued_at": issued, "expires": issued + 3600}
    payload = b64(json.dumps({**body, "user_id": user_id}).encode())
    return b64(hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest()) + "." + payload


def test_the_data_deletion_callback_erases_and_answers_with_a_status_page(
    bot: Bot, sandbox: Sandbox, env: dict[str, str]
) -> None:
    path = db_path(env)
    traces = friends_with_a_pending_share(bot, sandbox, path)
    url = "/messenger/data-deletion"
    for refused in (
        {"signed_request": signed_request(BOB, secret="not-the-app-secret")},
        {"signed_request": signed_request(BOB, age=7200)},  # expired an hour ago
        {"signed_request": "garbage"},
        {},
    ):
        answer = bot.http.post(url, data=refused)
        assert answer.status_code == 400, answer.text
        assert query(path, "SELECT COUNT(*) FROM people") == [(2,)]  # nothing erased
    answer = bot.http.post(url, data={"signed_request": signed_request(BOB)})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert set(body) == {"url", "confirmation_code"}
    assert body["url"] == f"{env['SENDSONGS_PUBLIC_URL']}{url}?code={body['confirmation_code']}"
    sandbox.wait_for_message(ALICE, "asked me to erase everything I held about them")
    assert_gone(path, traces)
    page = bot.http.get(body["url"])
    assert page.status_code == 200 and "Your data was erased" in page.text
    assert body["confirmation_code"] in page.text
    unknown = bot.http.get(url, params={"code": "no-such-code"})
    assert unknown.status_code == 404 and "Unknown confirmation code" in unknown.text
    sandbox.say(ALICE, f'send_song name:"Bob Jones" {SONG}')
    sandbox.wait_for_message(ALICE, 'I don\'t know anyone called "Bob Jones"')
    wait_until(lambda: query(path, "SELECT COUNT(*) FROM people") == [(1,)])


def test_rotating_the_key_keeps_every_connection(
    bot: Bot, sandbox: Sandbox, env: dict[str, str], ports: tuple[int, int], tmp_path: Path
) -> None:
    people(sandbox)
    register_in_chat(bot, sandbox)
    register_with_code(bot, sandbox)
    bot.process.stop()
    old, new = env["SENDSONGS_SECRET_KEY"], "the-next-secret-key-0123456789"
    rotate = [SENDSONGS, "rotate-keys"]
    refused = subprocess.run(
        rotate, env={**env, "SENDSONGS_SECRET_KEY": new}, capture_output=True, text=True
    )
    assert refused.returncode == 2  # the old key is needed to read what it wrote
    assert refused.stderr.strip().endswith("(put the old key in SENDSONGS_PREVIOUS_SECRET_KEYS)")
    rotated = {**env, "SENDSONGS_SECRET_KEY": new, "SENDSONGS_PREVIOUS_SECRET_KEYS": old}
    done = subprocess.run(rotate, env=rotated, capture_output=True, text=True, check=True)
    assert "4 stored values re-encrypted" in done.stdout  # two grants, two tokens each
    # the old key is gone for good; both connections still work
    bot = start_bot(ports[0], {**env, "SENDSONGS_SECRET_KEY": new}, tmp_path / "bot2.log")
    try:
        sandbox.say(ALICE, f'send_song name:"Bob Jones" {SONG}')
        sandbox.wait_for_message(ALICE, "I'll tell you when they've listened")
        sandbox.post("/_sandbox/spotify/play", user="bob.spotify", track_id=TRACK)
        sandbox.wait_for_message(ALICE, "Bob Jones listened to")
    finally:
        bot.process.stop()
