"""The webhook over HTTP: verification, signatures, bad bodies, redelivery, the seed's event."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from pathlib import Path

from tests.e2e.harness import APP_SECRET, VERIFY_TOKEN, Bot, Sandbox

SEED_EVENT = (Path(__file__).parents[1] / "fb_msg.json").read_bytes()
SEED_SENDER = "2068505776496400"


def test_verification_handshake(bot: Bot) -> None:
    params = {
        "hub.mode": "subscribe",
        "hub.verify_token": VERIFY_TOKEN,
        "hub.challenge": "1158201444",
    }
    answer = bot.http.get("/webhook", params=params)
    assert answer.status_code == 200 and answer.text == "1158201444"
    wrong = bot.http.get("/webhook", params={**params, "hub.verify_token": "guess"})
    assert wrong.status_code == 403
    assert bot.http.get("/webhook").status_code == 403


def test_unsigned_and_forged_posts_are_refused_and_change_nothing(
    bot: Bot, sandbox: Sandbox
) -> None:
    sandbox.post("/_sandbox/messenger/users", psid=SEED_SENDER, first_name="Nick", last_name="S")
    unsigned = bot.http.post("/webhook", content=SEED_EVENT)
    assert unsigned.status_code == 401
    forged = bot.post_event(SEED_EVENT, secret="not-the-app-secret")
    assert forged.status_code == 403
    signed = hmac.new(APP_SECRET.encode(), SEED_EVENT, hashlib.sha256).hexdigest()
    tampered = bot.http.post(  # a genuine signature, over a body since changed
        "/webhook",
        content=SEED_EVENT.replace(b"from curl", b"from evil"),
        headers={"X-Hub-Signature-256": f"sha256={signed}"},
    )
    assert tampered.status_code == 403
    time.sleep(1)  # had any been stored, the worker would have answered by now
    assert sandbox.messages(SEED_SENDER) == []


def test_malformed_bodies_get_400(bot: Bot) -> None:
    for body in (b"not json", b"[]", b'{"object": "page"}', b'{"object":"page","entry":{}}'):
        assert bot.post_event(body).status_code == 400, body


def test_the_seed_event_is_handled_once_even_when_redelivered(bot: Bot, sandbox: Sandbox) -> None:
    sandbox.post("/_sandbox/messenger/users", psid=SEED_SENDER, first_name="Nick", last_name="S")
    assert bot.post_event(SEED_EVENT).status_code == 200
    assert bot.post_event(SEED_EVENT).status_code == 200
    reply = sandbox.wait_for_message(SEED_SENDER, "register")
    assert "First connect your play history" in reply
    time.sleep(1)  # a second handling would have answered by now
    assert len(sandbox.messages(SEED_SENDER)) == 1


def test_delivery_and_read_events_are_acknowledged_quietly(bot: Bot, sandbox: Sandbox) -> None:
    event = {
        "object": "page",
        "entry": [{"id": "1", "time": 1, "messaging": [
            {"sender": {"id": SEED_SENDER}, "recipient": {"id": "1"}, "timestamp": 1,
             "delivery": {"mids": ["m1"], "watermark": 1}},
            {"sender": {"id": SEED_SENDER}, "recipient": {"id": "1"}, "timestamp": 1,
             "read": {"watermark": 1}},
        ]}],
    }  # fmt: skip
    assert bot.post_event(json.dumps(event).encode()).status_code == 200
    time.sleep(1)  # the worker would have answered a stored message by now
    assert sandbox.messages(SEED_SENDER) == []


def test_healthz(bot: Bot) -> None:
    answer = bot.http.get("/healthz")
    assert answer.status_code == 200 and answer.json()["status"] == "ok"


def test_an_oversized_body_is_refused_unread(bot: Bot) -> None:
    assert (
        bot.post_event(b'{"object":"page","entry":[' + b" " * (1024 * 1024) + b"]}").status_code
        == 413
    )
