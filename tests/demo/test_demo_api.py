"""`sendsongs demo` over HTTP: the seeded sandbox, the page's files and its JSON."""

from __future__ import annotations

import re
import signal
import subprocess
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest

from tests.demo.launch import SENDSONGS, Demo, running_demo
from tests.e2e.harness import wait_until

ALICE, BOB = "7100000000000001", "7100000000000002"
TRACK = "46X0dXeliHXD73sxexJx7d"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    with running_demo(tmp_path_factory.mktemp("demo")) as running:
        yield running


@pytest.fixture
def http(demo: Demo) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=demo.url, timeout=10) as client:
        yield client


def say(http: httpx.Client, psid: str, text: str) -> None:
    answer = http.post("/sandbox/_sandbox/messenger/say", json={"psid": psid, "text": text})
    assert answer.json()["webhook_status"] == 200, answer.text


def wait_for_message(http: httpx.Client, psid: str, needle: str) -> str:
    def found() -> str | None:
        answer = http.get("/sandbox/_sandbox/messenger/messages", params={"psid": psid})
        return next((m["text"] for m in answer.json()["messages"] if needle in m["text"]), None)

    return str(wait_until(found, timeout=15))


def register(http: httpx.Client, psid: str, spotify_id: str) -> None:
    say(http, psid, "register")
    text = wait_for_message(http, psid, "/spotify/login?t=")
    link = re.search(r"http://\S+/spotify/login\?t=\S+", text)
    assert link, text
    login = http.get(link.group(0))
    assert login.status_code == 302
    authorize = urlparse(login.headers["location"])
    assert authorize.path == "/sandbox/authorize"  # the sandbox, mounted on the same server
    form = {k: v[0] for k, v in parse_qs(authorize.query).items()}
    consent = http.post(authorize.path, data={**form, "user": spotify_id, "decision": "allow"})
    assert consent.status_code == 302, consent.text
    assert http.get(consent.headers["location"]).status_code == 200
    wait_for_message(http, psid, "You're connected")


def shares_of(http: httpx.Client, psid: str) -> list[dict[str, Any]]:
    answer = http.get(f"/demo/api/people/{psid}/shares")
    assert answer.status_code == 200
    shares: list[dict[str, Any]] = answer.json()["shares"]
    return shares


def test_the_page_and_its_files_are_served(http: httpx.Client) -> None:
    page = http.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    for asset in re.findall(r'(?:href|src)="(/demo/static/[^"]+)"', page.text):
        assert http.get(asset).status_code == 200, asset
    assert http.get("/demo/static/chat.js").status_code == 200
    assert http.get("/healthz").status_code == 200


def test_the_sandbox_is_seeded_with_the_demo_people(http: httpx.Client) -> None:
    people = http.get("/demo/api/people").json()
    names = [person["name"] for person in people["people"]]
    assert names == ["Alice Liddell", "Bob Jones", "Carol Danvers", "Dan Brown"]
    assert people["timing"] == {"check_every": 2, "first_check": 2, "expire_after": 120}
    assert people["run"]
    messenger = http.get("/sandbox/_sandbox/messenger/users").json()["users"]
    assert {u["psid"] for u in messenger} == {p["psid"] for p in people["people"]}
    spotify = http.get("/sandbox/_sandbox/spotify/users").json()["users"]
    assert {u["id"] for u in spotify} == {p["spotify_id"] for p in people["people"]}


def test_unknown_person_has_no_timeline(http: httpx.Client) -> None:
    answer = http.get("/demo/api/people/123/shares")
    assert answer.status_code == 404
    assert "not one of the demo people" in answer.json()["error"]


def test_a_share_goes_from_sent_to_delivered_to_listened(http: httpx.Client) -> None:
    register(http, ALICE, "alice")
    register(http, BOB, "bob")
    standing = {p["psid"]: p for p in http.get("/demo/api/people").json()["people"]}
    assert standing[ALICE]["registered"] and standing[ALICE]["registered_as"] == "Alice Liddell"
    assert standing[BOB]["registered"]
    say(http, ALICE, f'send_song name:"Bob Jones" pre:"Hi" https://open.spotify.com/track/{TRACK}')
    wait_for_message(http, BOB, "Alice Liddell: Hi")

    (share,) = wait_until(lambda: shares_of(http, ALICE))
    assert share["status"] == "pending"
    assert share["recipient"] == {"psid": BOB, "name": "Bob Jones"}
    assert share["track"]["name"] == "Paper Lanterns"
    assert share["pre"] == "Hi" and share["post"] is None
    delivered_at = wait_until(lambda: shares_of(http, ALICE)[0]["delivered_at"])
    # Bob's "connected" reply ends with this very track's link: it is not the share
    assert datetime.fromisoformat(delivered_at) >= datetime.fromisoformat(share["shared_at"])
    assert shares_of(http, BOB) == []

    played = http.post("/sandbox/_sandbox/spotify/play", json={"user": "bob", "track_id": TRACK})
    assert played.json()["recorded"] is True
    wait_for_message(http, ALICE, "Bob Jones listened to Paper Lanterns")
    (share,) = shares_of(http, ALICE)
    assert share["status"] == "listened" and share["settled_at"]


def test_a_busy_port_is_refused_in_one_line(demo: Demo, tmp_path: Path) -> None:
    port = int(urlparse(demo.url).port or 0)
    done = subprocess.run(
        [SENDSONGS, "demo", "--port", str(port)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"sendsongs: port {port} is in use; try: sendsongs demo --port {port + 1}"
    )


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_stopping_removes_the_throwaway_database(tmp_path: Path, sig: int) -> None:
    with running_demo(tmp_path) as demo:
        assert list(demo.tmp.glob("sendsongs-demo-*/sendsongs.db"))
        assert demo.stop(sig) == 128 + sig
        assert list(demo.tmp.iterdir()) == []
