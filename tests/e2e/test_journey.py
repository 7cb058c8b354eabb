"""Two people, both sign-up flows, a share, a play, the notifications and an expiry —
all through `sendsongs serve` and `sendsongs sandbox` over HTTP."""

from __future__ import annotations

import re

from tests.e2e.harness import Bot, Sandbox, consent, link_in, wait_until

ALICE, BOB = "1000000000000001", "1000000000000002"
TRACK = "46X0dXeliHXD73sxexJx7d"


def people(sandbox: Sandbox) -> None:
    sandbox.post("/_sandbox/messenger/users", psid=ALICE, first_name="Alice", last_name="Liddell")
    sandbox.post("/_sandbox/messenger/users", psid=BOB, first_name="Robert", last_name="Jones")
    sandbox.post("/_sandbox/spotify/users", id="alice.spotify", display_name="Alice")
    sandbox.post("/_sandbox/spotify/users", id="bob.spotify", display_name="Bob")


def register_in_chat(bot: Bot, sandbox: Sandbox) -> None:
    sandbox.say(ALICE, "register")
    text = sandbox.wait_for_message(ALICE, "/spotify/login?t=")
    assert "Connect your Spotify as Alice Liddell" in text  # name from the Messenger profile
    login = bot.http.get(link_in(text))
    assert login.status_code == 302
    callback = consent(sandbox, login.headers["location"], "alice.spotify")
    page = bot.http.get(callback)
    assert page.status_code == 200 and "go back to Messenger" in page.text
    sandbox.wait_for_message(ALICE, "You're connected, Alice Liddell!")


def register_with_code(bot: Bot, sandbox: Sandbox) -> None:
    login = bot.http.get("/spotify/login")
    assert login.status_code == 302
    callback = consent(sandbox, login.headers["location"], "bob.spotify")
    page = bot.http.get(callback)
    assert page.status_code == 200
    command = re.search(r'register code:&#34;([^&]+)&#34;|register code:"([^"]+)"', page.text)
    assert command, page.text
    code = command.group(1) or command.group(2)
    assert len(code) >= 16
    sandbox.say(BOB, f'register code:"{code}" name:"Bob Jones"')
    sandbox.wait_for_message(BOB, "You're connected, Bob Jones!")


def test_share_play_notify_post_note(bot: Bot, sandbox: Sandbox) -> None:
    people(sandbox)
    register_in_chat(bot, sandbox)
    register_with_code(bot, sandbox)
    sandbox.say(
        ALICE,
        f'send_song name:"bob jones" pre:"You need this" post:"Told you!" '
        f"https://open.spotify.com/intl-de/track/{TRACK}?si=x1",
    )
    assert (
        sandbox.wait_for_message(BOB, "Alice Liddell:")
        == f"Alice Liddell: You need this https://open.spotify.com/track/{TRACK}"
    )
    sandbox.wait_for_message(ALICE, "Sent ")
    played = sandbox.post("/_sandbox/spotify/play", user="bob.spotify", track_id=TRACK)
    assert played.get("recorded", True)
    heard = sandbox.wait_for_message(ALICE, "Bob Jones listened to", timeout=10)
    assert heard.endswith("!")
    note = sandbox.wait_for_message(BOB, 'Alice Liddell says "Told you!" about')
    assert "Told you!" in note


def test_unplayed_share_expires_and_the_sender_is_told(
    sandbox: Sandbox, env: dict[str, str], ports: tuple[int, int], tmp_path
) -> None:
    from tests.e2e.harness import start_bot

    env = {**env, "SENDSONGS_EXPIRE_AFTER": "4"}
    bot = start_bot(ports[0], env, tmp_path / "bot.log")
    try:
        people(sandbox)
        register_in_chat(bot, sandbox)
        register_with_code(bot, sandbox)
        sandbox.say(ALICE, f'send_song name:"Bob Jones" spotify:track:{TRACK}')
        sandbox.wait_for_message(BOB, "Alice Liddell:")
        expired = sandbox.wait_for_message(ALICE, "the share expired", timeout=10)
        assert expired.startswith("Bob Jones didn't listen to")
    finally:
        bot.process.stop()


def test_a_play_before_the_share_is_not_a_listen(bot: Bot, sandbox: Sandbox) -> None:
    people(sandbox)
    register_in_chat(bot, sandbox)
    register_with_code(bot, sandbox)
    sandbox.post("/_sandbox/spotify/play", user="bob.spotify", track_id=TRACK)
    sandbox.say(ALICE, f'send_song name:"Bob Jones" spotify:track:{TRACK}')
    sandbox.wait_for_message(BOB, "Alice Liddell:")
    calls = sandbox.calls("GET /v1/me/player/recently-played")
    wait_until(lambda: sandbox.calls("GET /v1/me/player/recently-played") >= calls + 2, timeout=8)
    assert not any("listened to" in m for m in sandbox.messages(ALICE))
