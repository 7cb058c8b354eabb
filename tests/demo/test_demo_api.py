"""`sendsongs demo` over HTTP: the seeded sandbox, the page's files and its JSON."""

from __future__ import annotations

import math
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from tests.demo.launch import SENDSONGS, Demo, running_demo
from tests.e2e.harness import wait_until

ALICE = "7100000000000001"  # Alice's PSID on the sandbox's Messenger page
BOB = 710002  # Bob's Telegram user id
TRACK = "46X0dXeliHXD73sxexJx7d"  # Paper Lanterns by The Velvet Orchards
SALT_ROAD = "Iw7IodBQSWLjoQR55NryOl"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    with running_demo(tmp_path_factory.mktemp("demo")) as running:
        yield running


@pytest.fixture
def http(demo: Demo) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=demo.url, timeout=10) as client:
        yield client


def say(http: httpx.Client, key: str, text: str) -> dict[str, Any]:
    answer = http.post(f"/demo/api/people/{key}/say", json={"text": text})
    assert answer.status_code == 200, answer.text
    assert answer.json()["delivered"] is True, answer.text
    entry: dict[str, Any] = answer.json()["entry"]
    return entry


def chat(http: httpx.Client, key: str) -> list[dict[str, Any]]:
    entries = http.get("/demo/api/conversation", params={"since": 0}).json()["entries"]
    return [e for e in entries if e["person"] == key]


def wait_for_message(http: httpx.Client, key: str, needle: str, after: int = -1) -> dict[str, Any]:
    def found() -> dict[str, Any] | None:
        return next(
            (
                e
                for e in chat(http, key)
                if e["from"] == "bot" and needle in e["text"] and e["index"] > after
            ),
            None,
        )

    entry: dict[str, Any] = wait_until(found, timeout=15)
    return entry


def register_on_spotify(http: httpx.Client, key: str) -> None:
    say(http, key, "register")
    text = wait_for_message(http, key, "/spotify/login?t=")["text"]
    link = re.search(r"http://\S+/spotify/login\?t=\S+", text)
    assert link, text
    login = http.get(link.group(0))
    assert login.status_code == 302
    authorize = urlparse(login.headers["location"])
    assert authorize.path == "/sandbox/authorize"  # the sandbox, mounted on the same server
    form = {k: v[0] for k, v in parse_qs(authorize.query).items()}
    consent = http.post(authorize.path, data={**form, "user": key, "decision": "allow"})
    assert consent.status_code == 302, consent.text
    assert http.get(consent.headers["location"]).status_code == 200
    wait_for_message(http, key, "You're connected")


def shares_of(http: httpx.Client, key: str) -> dict[str, Any]:
    answer = http.get(f"/demo/api/people/{key}/shares")
    assert answer.status_code == 200
    shares: dict[str, Any] = answer.json()
    return shares


def test_the_page_and_its_files_are_served(http: httpx.Client) -> None:
    page = http.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    for asset in re.findall(r'(?:href|src)="(/demo/static/[^"]+)"', page.text):
        assert http.get(asset).status_code == 200, asset
    assert http.get("/demo/static/chat.js").status_code == 200
    assert '<link rel="icon" href="/demo/static/favicon.svg"' in page.text
    icon = http.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/svg+xml"
    assert 'target="_blank"' in page.text and "/demo/static/sandbox.html" in page.text
    assert http.get("/demo/static/sandbox.html").status_code == 200
    assert http.get("/healthz").status_code == 200


def test_the_sandbox_is_seeded_with_the_demo_people(http: httpx.Client) -> None:
    people = http.get("/demo/api/people").json()
    assert [(p["name"], p["channel"], p["history"]) for p in people["people"]] == [
        ("Alice Liddell", "messenger", "spotify"),
        ("Bob Jones", "telegram", "spotify"),
        ("Carol Danvers", "messenger", "spotify"),
        ("Dan Brown", "messenger", "listenbrainz"),
    ]
    assert people["timing"] == {"check_every": 2, "first_check": 2, "expire_after": 120}
    assert people["run"]
    messenger = http.get("/sandbox/_sandbox/messenger/users").json()["users"]
    assert {u["psid"] for u in messenger} == {
        p["chat_id"] for p in people["people"] if p["channel"] == "messenger"
    }
    telegram = http.get("/sandbox/_sandbox/telegram/users").json()["users"]
    assert [(u["id"], u["first_name"], u["started"]) for u in telegram] == [(BOB, "Bob", False)]
    spotify = http.get("/sandbox/_sandbox/spotify/users").json()["users"]
    assert {u["id"] for u in spotify} == {"alice", "bob", "carol"}
    listenbrainz = http.get("/sandbox/_sandbox/listenbrainz/users").json()["users"]
    assert [u["name"] for u in listenbrainz] == ["dan"]


def test_the_bot_registered_its_telegram_webhook_before_the_url_was_printed(
    http: httpx.Client, demo: Demo
) -> None:
    webhook = http.get("/sandbox/_sandbox/telegram/webhook").json()
    assert webhook["url"] == f"{demo.url}telegram/webhook"
    assert webhook["secret_token"]
    assert "telegram_webhook_not_registered" not in demo.output()


def test_unknown_person_has_no_timeline_and_cannot_talk(http: httpx.Client) -> None:
    answer = http.get("/demo/api/people/zed/shares")
    assert answer.status_code == 404
    assert "not one of the demo people" in answer.json()["error"]
    assert http.post("/demo/api/people/zed/say", json={"text": "hi"}).status_code == 404
    empty = http.post("/demo/api/people/carol/say", json={"text": "  "})
    assert empty.status_code == 400 and "non-empty" in empty.json()["error"]
    bad = http.get("/demo/api/conversation", params={"since": "x"})
    assert bad.status_code == 400


def test_the_conversation_keeps_what_people_typed_in_order(http: httpx.Client) -> None:
    before = http.get("/demo/api/conversation").json()["next"]
    typed = say(http, "carol", "help")
    wait_for_message(http, "carol", "Send Songs tells you")
    answer = http.get("/demo/api/conversation", params={"since": before}).json()
    mine = [e for e in answer["entries"] if e["person"] == "carol"]
    assert mine[0] == {**typed, "error": None}
    assert mine[0]["from"] == "person" and mine[0]["text"] == "help"
    assert mine[1]["from"] == "bot" and mine[1]["index"] > mine[0]["index"]
    assert answer["next"] == answer["entries"][-1]["index"] + 1
    # read from the start again (a reload, another tab): the same entries
    again = http.get("/demo/api/conversation").json()["entries"]
    assert [e for e in again if e["index"] >= before] == answer["entries"]


def test_a_cross_channel_share_from_messenger_to_telegram(http: httpx.Client) -> None:
    register_on_spotify(http, "alice")
    say(http, "bob", "/start")
    wait_for_message(http, "bob", "Send Songs tells you")
    register_on_spotify(http, "bob")
    standing = {p["key"]: p for p in http.get("/demo/api/people").json()["people"]}
    assert standing["bob"]["registered_as"] == "Bob Jones"
    assert standing["bob"]["source"] == "spotify"

    link = f"https://open.spotify.com/track/{TRACK}"
    say(http, "alice", f'send_song name:"Bob Jones" pre:"Hi" post:"Told you" {link}')
    got = wait_for_message(http, "bob", "Alice Liddell: Hi")
    assert got["message_id"] is not None  # a Telegram message, pressable by id
    (received,) = wait_until(lambda: shares_of(http, "bob")["received"])
    assert received["from"] == {"key": "alice", "name": "Alice Liddell"}
    assert received["track"]["name"] == "Paper Lanterns"

    (send,) = wait_until(lambda: shares_of(http, "alice")["sent"])
    assert send["status"] == "pending" and send["group"] is None
    (recipient,) = send["recipients"]
    assert recipient["key"] == "bob" and recipient["delivered_at"]

    played = http.post("/sandbox/_sandbox/spotify/play", json={"user": "bob", "track_id": TRACK})
    assert played.json()["recorded"] is True
    wait_for_message(http, "alice", "Bob Jones listened to Paper Lanterns")
    wait_for_message(http, "bob", 'Alice Liddell says "Told you"')
    assert shares_of(http, "alice")["sent"][0]["status"] == "listened"
    assert shares_of(http, "bob")["received"] == []


def test_a_telegram_button_press_reaches_the_bot(http: httpx.Client) -> None:
    say(http, "bob", "/start")
    wait_for_message(http, "bob", "Send Songs tells you")
    typed = say(http, "bob", f'send_song name:"Alice" https://open.spotify.com/track/{SALT_ROAD}')
    question = wait_for_message(http, "bob", "Alice", after=typed["index"])
    assert question["buttons"], question
    button = next(b for b in question["buttons"] if "Alice Liddell" in b["title"])
    pressed = http.post(
        "/demo/api/people/bob/press",
        json={**button, "message_id": question["message_id"]},
    )
    assert pressed.json() == {"entry": None, "delivered": True, "error": None}
    wait_for_message(http, "bob", "Sent Salt Road")


def test_a_listenbrainz_listen_with_another_title_and_a_group(http: httpx.Client) -> None:
    register_on_spotify(http, "alice")
    say(http, "dan", 'register listenbrainz:"dan"')
    wait_for_message(http, "dan", "I'll watch ListenBrainz user dan")
    say(http, "alice", 'create_group name:"Band"')
    wait_for_message(http, "alice", "Band")
    say(http, "alice", 'add_to_group group:"Band" name:"Dan Brown"')
    wait_for_message(http, "dan", "added you")
    (group,) = shares_of(http, "dan")["groups"]
    assert group["name"] == "Band" and group["mine"] is False
    assert group["owner"]["key"] == "alice"
    assert [m["key"] for m in group["members"]] == ["dan"]

    say(http, "alice", f'send_song group:"Band" https://open.spotify.com/track/{SALT_ROAD}')
    wait_for_message(http, "dan", "Alice Liddell:")
    (send,) = wait_until(lambda: [s for s in shares_of(http, "alice")["sent"] if s["group"]])
    assert send["group"] == "Band" and send["listened"] == 0
    assert [r["key"] for r in send["recipients"]] == ["dan"]

    # ListenBrainz stamps listens in whole seconds, and only listens from the share on count
    shared = datetime.fromisoformat(send["shared_at"]).timestamp()
    wait_until(lambda: time.time() >= math.ceil(shared))
    listen = {"user": "dan", "track_id": SALT_ROAD, "with_ids": False}
    listen["title"] = "Salt Road (Remastered 2011)"
    added = http.post("/sandbox/_sandbox/listenbrainz/listens", json=listen)
    assert added.status_code == 200, added.text

    def group_send() -> dict[str, Any]:
        return next(s for s in shares_of(http, "alice")["sent"] if s["group"])

    send = wait_until(lambda: group_send()["listened"] and group_send(), timeout=15)
    assert send["status"] == "listened"
    wait_for_message(http, "alice", "listened to Salt Road")


def test_a_busy_port_is_refused_in_one_line(demo: Demo, tmp_path: Path) -> None:
    port = int(urlparse(demo.url).port or 0)
    outside_make = {k: v for k, v in os.environ.items() if k not in ("MAKELEVEL", "MAKEFLAGS")}
    done = subprocess.run(
        [SENDSONGS, "demo", "--port", str(port)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
        env=outside_make,  # `make test` runs this suite: be a person at a shell
    )
    assert done.returncode == 2
    # `sendsongs` on the PATH is not this one: the hint names the one that ran
    assert done.stderr.strip() == (
        f"sendsongs: port {port} is in use; try: {SENDSONGS} demo --port {port + 1}"
    )


def test_under_make_the_busy_port_hint_is_a_make_command(demo: Demo, tmp_path: Path) -> None:
    port = int(urlparse(demo.url).port or 0)
    done = subprocess.run(
        [SENDSONGS, "demo", "--port", str(port)],
        cwd=tmp_path,
        env={**os.environ, "MAKELEVEL": "1"},  # what make sets for the commands it runs
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.stderr.strip() == (
        f"sendsongs: port {port} is in use; try: make demo PORT={port + 1}"
    )


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_stopping_removes_the_throwaway_database(tmp_path: Path, sig: int) -> None:
    with running_demo(tmp_path) as demo:
        assert list(demo.tmp.glob("sendsongs-demo-*/sendsongs.db"))
        assert demo.stop(sig) == 128 + sig
        assert list(demo.tmp.iterdir()) == []
