"""`say` variants: half an emoji, two people in one POST, attachments, redelivery."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import httpx
import pytest

from sendsongs.sandbox.config import SandboxConfig

from .helpers import Webhook

ALICE, BOB = "1001", "1003"
FALLBACK = {
    "type": "fallback",
    "title": "Harbor Song",
    "payload": None,
    "url": "https://l.facebook.com/l.php?u=https%3A%2F%2Fopen.spotify.com%2Ftrack%2F"
    "46X0dXeliHXD73sxexJx7d%3Fsi%3Dabc&h=x",
}
SHARE = {
    "type": "share",
    "payload": {"url": "https://open.spotify.com/track/46X0dXeliHXD73sxexJx7d?si=abc"},
}


@pytest.fixture(autouse=True)
async def people(client: httpx.AsyncClient) -> None:
    for psid in (ALICE, BOB):
        await client.post("/_sandbox/messenger/users", json={"psid": psid})


def signed_body(request: httpx.Request, config: SandboxConfig) -> bytes:
    body = request.content
    digest = hmac.new(config.app_secret.encode(), body, hashlib.sha256).hexdigest()
    assert request.headers["X-Hub-Signature-256"] == f"sha256={digest}"
    return body


def messages_of(body: bytes) -> list[dict[str, Any]]:
    event = json.loads(body)
    return [item for entry in event["entry"] for item in entry["messaging"]]


async def test_half_an_emoji_is_sent_as_a_lone_escape(
    client: httpx.AsyncClient, config: SandboxConfig, webhook: Webhook
) -> None:
    answer = await client.post(
        "/_sandbox/messenger/say", json={"psid": ALICE, "text_json": "hi \\ud83c"}
    )
    assert answer.json()["webhook_status"] == 200
    body = signed_body(webhook.requests[0], config)
    assert b'"text":"hi \\ud83c"' in body
    with pytest.raises(UnicodeEncodeError):
        messages_of(body)[0]["message"]["text"].encode()


async def test_a_lone_surrogate_in_plain_text_is_escaped_the_same_way(
    client: httpx.AsyncClient, config: SandboxConfig, webhook: Webhook
) -> None:
    raw = b'{"psid": "1001", "text": "hi \\ud83c"}'
    await client.post(
        "/_sandbox/messenger/say", content=raw, headers={"Content-Type": "application/json"}
    )
    assert b'"text":"hi \\ud83c"' in signed_body(webhook.requests[0], config)


async def test_text_json_must_be_the_inside_of_a_json_string(client: httpx.AsyncClient) -> None:
    bad = await client.post("/_sandbox/messenger/say", json={"psid": ALICE, "text_json": 'a" "b'})
    assert bad.status_code == 400


async def test_two_people_in_one_signed_post(
    client: httpx.AsyncClient, config: SandboxConfig, webhook: Webhook
) -> None:
    answer = await client.post(
        "/_sandbox/messenger/say",
        json={
            "events": [
                {"psid": ALICE, "text_json": "hi \\ud83c", "mid": "m_a"},
                {"psid": BOB, "text": "help", "mid": "m_b"},
            ]
        },
    )
    assert answer.json() == {"mids": ["m_a", "m_b"], "webhook_status": 200}
    [request] = webhook.requests
    event = json.loads(signed_body(request, config))
    assert [len(entry["messaging"]) for entry in event["entry"]] == [1, 1]
    items = messages_of(request.content)
    assert [i["sender"]["id"] for i in items] == [ALICE, BOB]
    assert items[1]["message"] == {"mid": "m_b", "text": "help"}

    await client.post(
        "/_sandbox/messenger/say",
        json={
            "events": [{"psid": ALICE, "text": "a"}, {"psid": BOB, "text": "b"}],
            "one_entry": True,
        },
    )
    [entry] = json.loads(webhook.requests[1].content)["entry"]
    assert [i["message"]["text"] for i in entry["messaging"]] == ["a", "b"]


async def test_attachments_with_and_without_text(
    client: httpx.AsyncClient, webhook: Webhook
) -> None:
    await client.post(
        "/_sandbox/messenger/say",
        json={"psid": ALICE, "text": "Harbor Song", "attachments": [FALLBACK], "mid": "m_s1"},
    )
    await client.post(
        "/_sandbox/messenger/say", json={"psid": ALICE, "attachments": [SHARE], "mid": "m_s2"}
    )
    first, second = (messages_of(r.content)[0]["message"] for r in webhook.requests)
    assert first == {"mid": "m_s1", "text": "Harbor Song", "attachments": [FALLBACK]}
    assert second == {"mid": "m_s2", "attachments": [SHARE]}
    assert b'"payload":null' in webhook.requests[0].content
    bad = await client.post("/_sandbox/messenger/say", json={"psid": ALICE, "attachments": [{}]})
    assert bad.status_code == 400


async def test_quick_reply_press_carries_its_payload(
    client: httpx.AsyncClient, webhook: Webhook
) -> None:
    await client.post("/_sandbox/messenger/say", json={"psid": BOB, "quick_reply_payload": "YES"})
    message = messages_of(webhook.requests[0].content)[0]["message"]
    assert message["quick_reply"] == {"payload": "YES"} and message["text"] == "YES"


async def test_redelivery_repeats_the_exact_signed_body(
    client: httpx.AsyncClient, config: SandboxConfig, webhook: Webhook
) -> None:
    await client.post(
        "/_sandbox/messenger/say",
        json={
            "events": [{"psid": ALICE, "text": "one", "mid": "m_1"}, {"psid": BOB, "text": "two"}]
        },
    )
    again = await client.post("/_sandbox/messenger/say", json={"redeliver": "m_1"})
    assert again.json() == {"mid": "m_1", "redelivered": True, "webhook_status": 200}
    first, second = webhook.requests
    assert signed_body(second, config) == first.content
    missing = await client.post("/_sandbox/messenger/say", json={"redeliver": "m_unknown"})
    assert missing.status_code == 404


async def test_a_failing_webhook_is_reported_for_each_attempt(
    client: httpx.AsyncClient, webhook: Webhook
) -> None:
    webhook.status = 500
    first = await client.post(
        "/_sandbox/messenger/say", json={"psid": ALICE, "text": "x", "mid": "m_x"}
    )
    assert first.json()["webhook_status"] == 500
    webhook.status = 200
    retried = await client.post("/_sandbox/messenger/say", json={"redeliver": "m_x"})
    assert retried.json()["webhook_status"] == 200
