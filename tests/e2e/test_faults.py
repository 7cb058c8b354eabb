"""Faults injected in the sandbox, seen through the running bot: nothing is lost."""

from __future__ import annotations

import time

from tests.e2e.harness import Bot, Sandbox
from tests.e2e.test_journey import (
    ALICE,
    BOB,
    TRACK,
    link_in,
    people,
    register_in_chat,
    register_with_code,
)

HISTORY = "/v1/me/player/recently-played"


def two_friends(bot: Bot, sandbox: Sandbox) -> None:
    people(sandbox)
    register_in_chat(bot, sandbox)
    register_with_code(bot, sandbox)


def test_spotify_429_is_waited_out_and_the_listen_still_found(bot: Bot, sandbox: Sandbox) -> None:
    two_friends(bot, sandbox)
    sandbox.post("/_sandbox/faults", path_prefix=HISTORY, status=429, retry_after=2, count=1)
    sandbox.say(ALICE, f'send_song name:"Bob Jones" spotify:track:{TRACK}')
    sandbox.wait_for_message(BOB, "Alice Liddell:")
    sandbox.post("/_sandbox/spotify/play", user="bob.spotify", track_id=TRACK)
    sandbox.wait_for_message(ALICE, "Bob Jones listened to", timeout=15)
    assert sandbox.calls(f"GET {HISTORY}") >= 2  # the refused call, then the one that worked


def test_spotify_5xx_and_timeouts_are_retried(bot: Bot, sandbox: Sandbox) -> None:
    two_friends(bot, sandbox)
    sandbox.post("/_sandbox/faults", path_prefix=HISTORY, status=503, count=1)
    sandbox.post("/_sandbox/faults", path_prefix="/v1/tracks", status=502, count=1)
    sandbox.say(ALICE, f'send_song name:"Bob Jones" spotify:track:{TRACK}')
    assert "Spotify isn't answering" in sandbox.wait_for_message(ALICE, "Spotify isn't answering")
    sandbox.say(ALICE, f'send_song name:"Bob Jones" spotify:track:{TRACK}')
    sandbox.wait_for_message(BOB, "Alice Liddell:")
    sandbox.post("/_sandbox/spotify/play", user="bob.spotify", track_id=TRACK)
    sandbox.wait_for_message(ALICE, "Bob Jones listened to", timeout=15)


def test_messenger_5xx_is_retried_by_the_send_api_client(bot: Bot, sandbox: Sandbox) -> None:
    two_friends(bot, sandbox)
    sandbox.post("/_sandbox/faults", path_prefix="/v26.0/me/messages", status=500, count=2)
    sandbox.say(ALICE, "help")
    sandbox.wait_for_message(ALICE, "Send Songs tells you", timeout=15)


def test_closed_24_hour_window_holds_the_share_until_the_friend_writes(
    bot: Bot, sandbox: Sandbox
) -> None:
    two_friends(bot, sandbox)
    sandbox.post(f"/_sandbox/messenger/users/{BOB}/window", open=False)
    sandbox.say(ALICE, f'send_song name:"Bob Jones" pre:"for later" spotify:track:{TRACK}')
    sandbox.wait_for_message(ALICE, "as soon as they write to me again")
    assert not any("for later" in m for m in sandbox.messages(BOB))
    sandbox.say(BOB, "hi")  # writing reopens the window
    sandbox.wait_for_message(BOB, "Alice Liddell: for later")


def test_revoked_spotify_access_asks_the_friend_to_reconnect(bot: Bot, sandbox: Sandbox) -> None:
    two_friends(bot, sandbox)
    sandbox.post("/_sandbox/spotify/users/bob.spotify/revoke")
    sandbox.post("/_sandbox/spotify/expire-tokens")
    sandbox.say(ALICE, f'send_song name:"Bob Jones" spotify:track:{TRACK}')
    notice = sandbox.wait_for_message(BOB, "Reconnect with this link", timeout=15)
    assert bot.http.get(link_in(notice)).status_code == 302  # one tap back to Spotify
    calls = sandbox.calls(f"GET {HISTORY}")
    time.sleep(3)  # three fast intervals
    assert sandbox.calls(f"GET {HISTORY}") == calls  # no calls with a dead grant
