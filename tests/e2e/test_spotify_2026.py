"""The Spotify of 2026 as the sandbox plays it, seen through the running bot: late
plays, Retry-After 0, outages, development mode's allow-list, reused ISRCs, short
links and one account tried by two people."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.e2e.harness import Bot, Sandbox, consent, link_in, start_bot, wait_until
from tests.e2e.test_journey import (
    ALICE,
    BOB,
    TRACK,
    people,
    register_in_chat,
    register_with_code,
)

HISTORY = "/v1/me/player/recently-played"
CAROL = "1000000000000003"
OTHER = "2I0FOWHzP5dBiNNFLFsxVt"  # another song of the sandbox's catalog
SALT_AND_SAND = "orOkXbQzW7UOsL7Os6RULg"  # 1.5 s, ISRC USRC17000006
TOTALLY_DIFFERENT = "jYSmSOpa7vbgcK17Pex1Wl"  # 241 s, another artist, the same ISRC


@contextmanager
def bot_with(env: dict[str, str], port: int, log: Path, **extra: str) -> Iterator[Bot]:
    bot = start_bot(port, {**env, **extra}, log)
    try:
        yield bot
    finally:
        bot.process.stop()


def two_friends(bot: Bot, sandbox: Sandbox) -> None:
    people(sandbox)
    register_in_chat(bot, sandbox)
    register_with_code(bot, sandbox)


def share(sandbox: Sandbox, track: str = TRACK, to: str = "Bob Jones") -> None:
    sandbox.say(ALICE, f'send_song name:"{to}" spotify:track:{track}')
    sandbox.wait_for_message(ALICE, "Sent ")


def history_calls(sandbox: Sandbox) -> int:
    return sandbox.calls(f"GET {HISTORY}")


def test_a_play_that_reaches_the_history_late_still_counts(bot: Bot, sandbox: Sandbox) -> None:
    two_friends(bot, sandbox)
    share(sandbox)
    # the phone played it offline just now; it shows up in the history 4 s later, with
    # its real time, after a newer play from the laptop that showed up at once
    sandbox.post("/_sandbox/spotify/play", user="bob.spotify", track_id=TRACK, visible_after=4)
    sandbox.post("/_sandbox/spotify/play", user="bob.spotify", track_id=OTHER)
    calls = history_calls(sandbox)
    wait_until(lambda: history_calls(sandbox) > calls, timeout=10)  # saw only the newer one
    sandbox.wait_for_message(ALICE, "Bob Jones listened to", timeout=15)


def test_retry_after_zero_never_makes_the_checker_call_more_often(
    sandbox: Sandbox, env: dict[str, str], ports: tuple[int, int], tmp_path: Path
) -> None:
    with bot_with(env, ports[0], tmp_path / "bot.log", SENDSONGS_FAST_INTERVAL="5") as bot:
        two_friends(bot, sandbox)
        sandbox.post("/_sandbox/faults", path_prefix=HISTORY, status=429, retry_after=0, duration=8)
        share(sandbox)
        wait_until(lambda: history_calls(sandbox) >= 1, timeout=10)
        wait_until(lambda: sandbox.http.get("/_sandbox/faults").json()["faults"] == [], timeout=15)
        # one refused call, at most one more once the floor (the 5 s interval) passed
        assert history_calls(sandbox) <= 2


def test_a_share_expires_on_time_while_spotify_keeps_failing(
    sandbox: Sandbox, env: dict[str, str], ports: tuple[int, int], tmp_path: Path
) -> None:
    with bot_with(env, ports[0], tmp_path / "bot.log", SENDSONGS_EXPIRE_AFTER="12") as bot:
        two_friends(bot, sandbox)
        sandbox.post("/_sandbox/faults", path_prefix=HISTORY, status=502, count=None)
        share(sandbox)
        shared = time.monotonic()
        notice = sandbox.wait_for_message(ALICE, "couldn't read Bob Jones's play history", 25)
        assert time.monotonic() - shared <= 12 + 5  # on time, whatever Spotify does
        assert "didn't listen" not in notice


def test_a_friend_outside_the_allow_list_is_told_and_never_reported_unheard(
    sandbox: Sandbox, env: dict[str, str], ports: tuple[int, int], tmp_path: Path
) -> None:
    with bot_with(env, ports[0], tmp_path / "bot.log", SENDSONGS_EXPIRE_AFTER="8") as bot:
        two_friends(bot, sandbox)
        sandbox.post(
            "/_sandbox/spotify/settings",
            development_mode=True,
            allowed_users=["alice.spotify", "bob.spotify"],
        )
        sandbox.post("/_sandbox/messenger/users", psid=CAROL, first_name="Carol", last_name="C")
        sandbox.post("/_sandbox/spotify/users", id="carol.spotify", display_name="Carol")
        sandbox.say(CAROL, "register")
        login = bot.http.get(link_in(sandbox.wait_for_message(CAROL, "/spotify/login?t=")))
        page = bot.http.get(consent(sandbox, login.headers["location"], "carol.spotify"))
        assert page.status_code == 400 and "Ask the bot" in page.text
        told = sandbox.wait_for_message(CAROL, "development mode")
        assert "add your Spotify account" in told
        sandbox.say(ALICE, f'send_song name:"Carol C" spotify:track:{TRACK}')
        sent = sandbox.wait_for_message(ALICE, "Sent ")
        assert "I can't see what Carol C plays" in sent
        expired = sandbox.wait_for_message(ALICE, "couldn't read Carol C's play history", 20)
        assert "didn't listen" not in expired


def test_one_isrc_on_two_songs_is_not_a_listen(bot: Bot, sandbox: Sandbox) -> None:
    two_friends(bot, sandbox)
    share(sandbox, SALT_AND_SAND)
    sandbox.post("/_sandbox/spotify/play", user="bob.spotify", track_id=TOTALLY_DIFFERENT)
    calls = history_calls(sandbox)
    wait_until(lambda: history_calls(sandbox) >= calls + 2, timeout=10)
    assert not any("listened to" in m for m in sandbox.messages(ALICE))
    assert not any("says" in m for m in sandbox.messages(BOB))


def test_short_links_are_followed_to_their_track(
    sandbox: Sandbox, env: dict[str, str], ports: tuple[int, int], tmp_path: Path
) -> None:
    short = f"{sandbox.url}/shortlink"
    with bot_with(env, ports[0], tmp_path / "bot.log", SPOTIFY_SHORT_LINK_URL=short) as bot:
        two_friends(bot, sandbox)
        sandbox.post("/_sandbox/spotify/short-links", code="Zq9XwV3KpLm", track_id=TRACK)
        sandbox.post(
            "/_sandbox/spotify/short-links",
            host="link.tospotify.com",
            code="a1B2c3D4e5",
            url="https://open.spotify.com/album/4MCGJ8pIDBtvuahHY3XkQR",
        )
        sandbox.say(ALICE, 'send_song name:"Bob Jones" https://spotify.link/Zq9XwV3KpLm')
        got = sandbox.wait_for_message(BOB, "Alice Liddell:")
        assert got.endswith(f"https://open.spotify.com/track/{TRACK}")
        sandbox.say(ALICE, 'send_song name:"Bob Jones" https://link.tospotify.com/a1B2c3D4e5')
        sandbox.wait_for_message(ALICE, "leads to an album, a playlist or another page")
        sandbox.say(ALICE, 'send_song name:"Bob Jones" https://spotify.link/NoSuchCode1')
        sandbox.wait_for_message(ALICE, "doesn't work: Spotify doesn't know it")


def test_one_spotify_account_cannot_be_linked_to_two_people(bot: Bot, sandbox: Sandbox) -> None:
    people(sandbox)
    register_in_chat(bot, sandbox)  # Alice, as alice.spotify
    sandbox.say(BOB, 'register name:"Bob Jones"')
    login = bot.http.get(link_in(sandbox.wait_for_message(BOB, "/spotify/login?t=")))
    page = bot.http.get(consent(sandbox, login.headers["location"], "alice.spotify"))
    assert page.status_code == 400 and "already connected to someone else" in page.text
    sandbox.say(ALICE, f'send_song name:"Bob Jones" spotify:track:{TRACK}')
    sandbox.wait_for_message(ALICE, "I don't know anyone called")


def test_a_quota_pause_is_one_loud_line_and_shares_still_expire(
    sandbox: Sandbox, env: dict[str, str], ports: tuple[int, int], tmp_path: Path
) -> None:
    log = tmp_path / "bot.log"
    with bot_with(env, ports[0], log, SENDSONGS_EXPIRE_AFTER="8") as bot:
        two_friends(bot, sandbox)
        sandbox.post(
            "/_sandbox/faults",
            path_prefix=HISTORY,
            status=429,
            retry_after=86400,
            reason="QUOTA_EXCEEDED",
            count=None,
        )
        share(sandbox)
        sandbox.wait_for_message(ALICE, "couldn't read Bob Jones's play history", 20)
        assert history_calls(sandbox) == 1  # paused for a day after the first refusal
        assert bot.process.output().count('"source_quota_exhausted"') == 1
