"""ListenBrainz and Last.fm as play histories, through `sendsongs serve` and the
sandbox's stand-ins over HTTP: Carol on ListenBrainz, Dan on Last.fm, Alice on
Spotify sharing a song with each."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import Bot, Sandbox, consent, link_in, start_bot, wait_until

ALICE, CAROL, DAN = "1000000000000011", "1000000000000012", "1000000000000013"
PAPER = "46X0dXeliHXD73sxexJx7d"  # "Paper Lanterns" by The Velvet Orchards
LINK = f"https://open.spotify.com/track/{PAPER}"
KEY = "e2e-lastfm-key"


@pytest.fixture
def env(env: dict[str, str], ports: tuple[int, int]) -> dict[str, str]:
    sandbox = f"http://127.0.0.1:{ports[1]}"
    return {
        **env,
        "LISTENBRAINZ_API_URL": f"{sandbox}/listenbrainz",
        "LASTFM_API_URL": f"{sandbox}/lastfm/2.0/",
        "LASTFM_API_KEY": KEY,  # the sandbox accepts the same variable's value
    }


def people(sandbox: Sandbox) -> None:
    for psid, first, last in ((ALICE, "Alice", "Liddell"), (CAROL, "Carol", "Danvers"),
                              (DAN, "Dan", "Brown")):  # fmt: skip
        sandbox.post("/_sandbox/messenger/users", psid=psid, first_name=first, last_name=last)
    sandbox.post("/_sandbox/spotify/users", id="alice.spotify", display_name="Alice")
    sandbox.post("/_sandbox/listenbrainz/users", name="carol")
    sandbox.post("/_sandbox/lastfm/users", name="dan")


def listen(sandbox: Sandbox, service: str, user: str, **fields: Any) -> None:
    sandbox.post(f"/_sandbox/{service}/listens", user=user, **fields)


def history_calls(sandbox: Sandbox, service: str) -> int:
    return len(sandbox.http.get(f"/_sandbox/{service}/calls").json()["calls"])


def register_alice(bot: Bot, sandbox: Sandbox) -> None:
    sandbox.say(ALICE, "register")
    login = bot.http.get(link_in(sandbox.wait_for_message(ALICE, "/spotify/login?t=")))
    bot.http.get(consent(sandbox, login.headers["location"], "alice.spotify"))
    sandbox.wait_for_message(ALICE, "You're connected, Alice Liddell!")


def test_carol_on_listenbrainz_and_dan_on_last_fm_are_heard(bot: Bot, sandbox: Sandbox) -> None:
    people(sandbox)
    register_alice(bot, sandbox)
    listen(sandbox, "listenbrainz", "carol", track_id="2I0FOWHzP5dBiNNFLFsxVt", ago=600)
    sandbox.say(CAROL, 'register listenbrainz:"carol"')
    welcome = sandbox.wait_for_message(CAROL, "You're connected, Carol Danvers!")
    assert "I see 1 listen today" in welcome and "Happy Now" in welcome
    sandbox.say(DAN, 'register lastfm:"dan"')
    welcome = sandbox.wait_for_message(DAN, "You're connected, Dan Brown!")
    assert "history is empty so far" in welcome

    sandbox.say(ALICE, f'send_song name:"Carol Danvers" post:"Told you" {LINK}')
    sandbox.wait_for_message(ALICE, "Sent Paper Lanterns by The Velvet Orchards to Carol Danvers")
    sandbox.say(ALICE, f"send {LINK} to dan brown")
    sent = sandbox.wait_for_message(ALICE, "to Dan Brown")
    assert "I'll tell you when they've listened" in sent
    shared = time.time()
    wait_until(lambda: time.time() >= int(shared) + 1)  # listens carry whole seconds

    # a different song by the same artist, for each of them: not a listen
    for service, user in (("listenbrainz", "carol"), ("lastfm", "dan")):
        listen(sandbox, service, user, artist="The Velvet Orchards", title="Low Tide Radio")
    seen = {s: history_calls(sandbox, s) for s in ("listenbrainz", "lastfm")}
    wait_until(lambda: all(history_calls(sandbox, s) >= n + 2 for s, n in seen.items()))
    assert not [m for m in sandbox.messages(ALICE) if "listened to" in m]

    # Carol plays it elsewhere; her scrobbler sends only artist and a title spelt its way
    listen(
        sandbox, "listenbrainz", "carol",
        artist="The Velvet Orchards", title="Paper Lanterns (Remastered 2011)",
    )  # fmt: skip
    sandbox.wait_for_message(ALICE, "Carol Danvers listened to Paper Lanterns")
    sandbox.wait_for_message(CAROL, 'Alice Liddell says "Told you" about Paper Lanterns')
    listen(sandbox, "lastfm", "dan", track_id=PAPER)  # Last.fm keeps names only
    sandbox.wait_for_message(ALICE, "Dan Brown listened to Paper Lanterns")
    calls = sandbox.http.get("/_sandbox/lastfm/calls").json()["calls"]
    assert all(call["user_agent"].startswith("SendSongs/") for call in calls)


def test_unknown_private_and_rate_limited_registrations(bot: Bot, sandbox: Sandbox) -> None:
    people(sandbox)
    sandbox.say(CAROL, 'register listenbrainz:"carrol"')
    sandbox.wait_for_message(CAROL, 'I can\'t find a ListenBrainz user called "carrol"')

    sandbox.post("/_sandbox/lastfm/users", name="dan", private=True)
    sandbox.say(DAN, 'register lastfm:"dan"')
    sandbox.wait_for_message(DAN, "Hide recent listening information")

    sandbox.post(
        "/_sandbox/faults", path_prefix="/listenbrainz/1/user/carol/listens",
        status=429, retry_after=90,
    )  # fmt: skip
    sandbox.say(CAROL, 'register listenbrainz:"carol"')
    sandbox.wait_for_message(CAROL, "ListenBrainz asked me to slow down")
    sandbox.post("/_sandbox/lastfm/faults", error=29, method="user.getInfo")
    sandbox.post("/_sandbox/lastfm/users", name="dan", private=False)
    sandbox.say(DAN, 'register lastfm:"dan"')
    sandbox.wait_for_message(DAN, "Last.fm asked me to slow down")
    assert not [m for m in sandbox.messages(CAROL) + sandbox.messages(DAN) if "re connected" in m]


@pytest.fixture
def bot_without_lastfm(
    env: dict[str, str], ports: tuple[int, int], sandbox: Sandbox, tmp_path: Path
) -> Iterator[Bot]:
    running = start_bot(ports[0], {**env, "LASTFM_API_KEY": ""}, tmp_path / "bot.log")
    yield running
    running.process.stop()


def test_without_lastfm_api_key_last_fm_is_not_offered(
    bot_without_lastfm: Bot, sandbox: Sandbox
) -> None:
    people(sandbox)
    sandbox.say(DAN, 'register lastfm:"dan"')
    sandbox.wait_for_message(DAN, "This bot doesn't offer Last.fm")
    sandbox.say(DAN, "help")
    help_text = sandbox.wait_for_message(DAN, "register listenbrainz:")
    assert "lastfm:" not in help_text
