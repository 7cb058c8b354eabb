"""Messenger as it answers in 2026, seen through the running bot: half an emoji, a
Page token invalidated, throttling, songs in attachments, a person who cannot be
reached, and apps that require appsecret_proof. Nothing is dropped; nothing untrue
is said."""

from __future__ import annotations

import urllib.parse
from pathlib import Path

from tests.e2e.harness import Bot, Sandbox, start_bot, wait_until
from tests.e2e.test_journey import (
    ALICE,
    BOB,
    TRACK,
    people,
    register_in_chat,
    register_with_code,
)

PERSON_1001, PERSON_1003 = "1001", "1003"


def two_friends(bot: Bot, sandbox: Sandbox) -> None:
    people(sandbox)
    register_in_chat(bot, sandbox)
    register_with_code(bot, sandbox)


def test_half_an_emoji_is_answered_and_blocks_nobody_else(bot: Bot, sandbox: Sandbox) -> None:
    for psid in (PERSON_1001, PERSON_1003):
        sandbox.post("/_sandbox/messenger/users", psid=psid, first_name="P", last_name=psid)
    events = [
        {"psid": PERSON_1001, "text_json": "hi \\ud83c"},
        {"psid": PERSON_1003, "text": "help"},
    ]
    sandbox.post("/_sandbox/messenger/say", events=events, one_entry=True)
    sandbox.wait_for_message(PERSON_1003, "Send Songs tells you")
    sandbox.wait_for_message(PERSON_1001, "arrived broken")
    assert "Traceback" not in bot.process.output()


def test_an_invalidated_page_token_keeps_every_notice_until_a_working_one_is_in_place(
    sandbox: Sandbox, env: dict[str, str], ports: tuple[int, int], tmp_path: Path
) -> None:
    bot = start_bot(ports[0], env, tmp_path / "bot.log")
    try:
        two_friends(bot, sandbox)
        sandbox.say(ALICE, f'send_song name:"Bob Jones" post:"Told you!" spotify:track:{TRACK}')
        sandbox.wait_for_message(BOB, "Alice Liddell:")
        sandbox.post("/_sandbox/faults", error="session_invalidated")  # a Page admin's password
        sandbox.post("/_sandbox/spotify/play", user="bob.spotify", track_id=TRACK)

        def refused_for_alice() -> bool:
            failed = sandbox.http.get("/_sandbox/messenger/failed", params={"psid": ALICE})
            return bool(failed.json()["failed"])

        wait_until(refused_for_alice, timeout=15)
        health = bot.http.get("/healthz")
        assert health.status_code == 503
        assert health.json()["channels"] == {"messenger": "failing"}
        assert "sandbox-page-token" not in health.text and "password" not in health.text
        assert bot.process.output().count('"channel_refuses_the_bot"') == 1
        assert not any("listened to" in m for m in sandbox.messages(ALICE))
    finally:
        bot.process.stop()
    sandbox.post("/_sandbox/messenger/config", page_access_token="a-new-page-token")
    fixed = {**env, "MESSENGER_PAGE_ACCESS_TOKEN": "a-new-page-token"}
    bot = start_bot(ports[0], fixed, tmp_path / "bot2.log")
    try:
        sandbox.wait_for_message(ALICE, "Bob Jones listened to", timeout=45)
        sandbox.wait_for_message(BOB, 'Alice Liddell says "Told you!"', timeout=45)
        assert bot.http.get("/healthz").status_code == 200
        assert len([m for m in sandbox.messages(ALICE) if "Bob Jones listened to" in m]) == 1
    finally:
        bot.process.stop()


def test_throttling_is_waited_out_not_taken_for_a_refusal(bot: Bot, sandbox: Sandbox) -> None:
    people(sandbox)
    sandbox.post("/_sandbox/faults", error="user_limit", psid=ALICE, count=1)  # code 17
    sandbox.say(ALICE, "help")
    sandbox.wait_for_message(ALICE, "Send Songs tells you", timeout=15)


def test_songs_shared_as_attachments_are_read_as_that_song(bot: Bot, sandbox: Sandbox) -> None:
    two_friends(bot, sandbox)
    song = f"https://open.spotify.com/track/{TRACK}?si=abc"
    wrapped = "https://l.facebook.com/l.php?u=" + urllib.parse.quote(song, safe="") + "&h=x"
    fallback = {"type": "fallback", "title": "Harbor Song", "payload": None, "url": wrapped}
    sandbox.say(ALICE, "Harbor Song", attachments=[fallback])
    first = sandbox.wait_for_message(ALICE, "To send that song")
    assert f"https://open.spotify.com/track/{TRACK}" in first
    share = {"type": "share", "payload": {"url": song}}
    sandbox.post("/_sandbox/messenger/say", psid=ALICE, attachments=[share])
    wait_until(lambda: len([m for m in sandbox.messages(ALICE) if "To send that song" in m]) == 2)
    assert all(TRACK in m for m in sandbox.messages(ALICE) if "To send that song" in m)


def test_a_person_who_cannot_be_reached_is_explained_truthfully(bot: Bot, sandbox: Sandbox) -> None:
    two_friends(bot, sandbox)
    sandbox.post("/_sandbox/faults", error="unavailable", psid=BOB, until_cleared=True)
    sandbox.say(ALICE, f'send_song name:"Bob Jones" spotify:track:{TRACK}')
    saved = sandbox.wait_for_message(ALICE, "Saved ")
    assert "can't get messages from me right now" in saved
    assert "24 hours" not in saved and not saved.startswith("Sent")


def test_a_page_that_requires_appsecret_proof_still_works(bot: Bot, sandbox: Sandbox) -> None:
    sandbox.post("/_sandbox/messenger/config", require_appsecret_proof=True)
    two_friends(bot, sandbox)
    sandbox.say(ALICE, f'send_song name:"Bob Jones" spotify:track:{TRACK}')
    sandbox.wait_for_message(BOB, "Alice Liddell:")
