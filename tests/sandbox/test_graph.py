"""The fake Graph API: Send API acceptance and errors, the 24-hour window, profiles."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from sendsongs.sandbox.config import SandboxConfig

from .helpers import FakeClock

SEND = "/v26.0/me/messages"


@pytest.fixture
async def psid(client: httpx.AsyncClient) -> str:
    response = await client.post(
        "/_sandbox/messenger/users", json={"first_name": "Nick", "last_name": "Shmkl"}
    )
    value: str = response.json()["psid"]
    return value


def message(psid: str, text: str = "hi", **extra: Any) -> dict[str, Any]:
    return {
        "recipient": {"id": psid},
        "messaging_type": "RESPONSE",
        "message": {"text": text},
        **extra,
    }


async def send(
    client: httpx.AsyncClient, config: SandboxConfig, body: dict[str, Any]
) -> httpx.Response:
    return await client.post(SEND, params={"access_token": config.page_access_token}, json=body)


def error_of(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 400, response.text
    error: dict[str, Any] = response.json()["error"]
    assert error["fbtrace_id"] and error["type"] in ("OAuthException", "GraphMethodException")
    return error


async def test_send_is_accepted_and_recorded(
    client: httpx.AsyncClient, config: SandboxConfig, psid: str
) -> None:
    replies = [{"content_type": "text", "title": "Yes", "payload": "YES"}]
    body = message(psid, "Hello Nick")
    body["message"]["quick_replies"] = replies
    response = await send(client, config, body)
    assert response.status_code == 200
    answer = response.json()
    assert answer["recipient_id"] == psid and answer["message_id"].startswith("m_")
    sent = (await client.get("/_sandbox/messenger/messages", params={"psid": psid})).json()
    assert sent["next"] == 1
    [record] = sent["messages"]
    assert record["text"] == "Hello Nick" and record["quick_replies"] == replies
    assert record["messaging_type"] == "RESPONSE" and record["index"] == 0
    assert record["message_id"] == answer["message_id"]
    later = await client.get("/_sandbox/messenger/messages", params={"since": 1})
    assert later.json()["messages"] == []


async def test_bearer_header_works_and_a_bad_token_is_190(
    client: httpx.AsyncClient, config: SandboxConfig, psid: str
) -> None:
    ok = await client.post(
        SEND, json=message(psid), headers={"Authorization": f"Bearer {config.page_access_token}"}
    )
    assert ok.status_code == 200
    bad = await client.post(SEND, params={"access_token": "nope"}, json=message(psid))
    assert error_of(bad)["code"] == 190


async def test_parameter_errors_are_code_100(
    client: httpx.AsyncClient, config: SandboxConfig, psid: str
) -> None:
    no_type = message(psid)
    del no_type["messaging_type"]
    assert error_of(await send(client, config, no_type))["code"] == 100
    no_recipient = message(psid)
    del no_recipient["recipient"]
    assert error_of(await send(client, config, no_recipient))["code"] == 100
    stranger = error_of(await send(client, config, message("123456789")))
    assert (stranger["code"], stranger["error_subcode"]) == (100, 2018001)


async def test_text_limit_is_2000_characters(
    client: httpx.AsyncClient, config: SandboxConfig, psid: str
) -> None:
    assert (await send(client, config, message(psid, "x" * 2000))).status_code == 200
    too_long = error_of(await send(client, config, message(psid, "x" * 2001)))
    assert too_long["message"] == (
        "(#100) Length of param message[text] must be less than or equal to 2000"
    )


async def test_quick_reply_limits(
    client: httpx.AsyncClient, config: SandboxConfig, psid: str
) -> None:
    def with_replies(titles: list[str]) -> dict[str, Any]:
        body = message(psid)
        body["message"]["quick_replies"] = [
            {"content_type": "text", "title": t, "payload": f"P{i}"} for i, t in enumerate(titles)
        ]
        return body

    assert (await send(client, config, with_replies(["a" * 20] * 13))).status_code == 200
    assert error_of(await send(client, config, with_replies(["a" * 21])))["code"] == 100
    assert error_of(await send(client, config, with_replies(["a"] * 14)))["code"] == 100
    no_title = error_of(await send(client, config, with_replies([""])))
    assert (no_title["code"], no_title["error_subcode"]) == (100, 2018098)
    long_payload = with_replies(["Yes"])
    long_payload["message"]["quick_replies"][0]["payload"] = "p" * 1000
    assert (await send(client, config, long_payload)).status_code == 200
    long_payload["message"]["quick_replies"][0]["payload"] = "p" * 1001
    too_long = error_of(await send(client, config, long_payload))
    assert too_long["code"] == 100 and "[payload]" in too_long["message"]
    assert (await client.get("/_sandbox/messenger/messages")).json()["next"] == 2


async def test_a_message_needs_text_or_an_attachment(
    client: httpx.AsyncClient, config: SandboxConfig, psid: str
) -> None:
    for empty in ({}, {"text": ""}, {"quick_replies": []}):
        error = error_of(await send(client, config, {**message(psid), "message": empty}))
        assert (error["code"], error["error_subcode"]) == (100, 2018034)
        assert error["message"] == (
            "(#100) Message cannot be empty, must provide valid attachment or text"
        )
    failed = (await client.get("/_sandbox/messenger/failed", params={"psid": psid})).json()
    assert failed["next"] == 3 and failed["failed"][0]["recipient_id"] == psid
    attachment = {"type": "image", "payload": {"url": "https://example.test/cover.jpg"}}
    body = {**message(psid), "message": {"attachment": attachment}}
    assert (await send(client, config, body)).status_code == 200
    [sent] = (await client.get("/_sandbox/messenger/messages")).json()["messages"]
    assert sent["attachment"] == attachment and sent["text"] == ""
    untyped = {**message(psid), "message": {"attachment": {"payload": {}}}}
    assert error_of(await send(client, config, untyped))["code"] == 100


async def test_24_hour_window(
    client: httpx.AsyncClient, config: SandboxConfig, psid: str, clock: FakeClock
) -> None:
    clock.advance(24 * 3600 - 1)
    assert (await send(client, config, message(psid))).status_code == 200
    clock.advance(1)
    outside = error_of(await send(client, config, message(psid)))
    assert (outside["code"], outside["error_subcode"]) == (10, 2018278)
    assert "outside of allowed window" in outside["message"]
    update = error_of(await send(client, config, message(psid, messaging_type="UPDATE")))
    assert (update["code"], update["error_subcode"]) == (10, 2018278)
    untagged = message(psid, messaging_type="MESSAGE_TAG")
    assert error_of(await send(client, config, untagged))["code"] == 100
    assert (await client.get("/_sandbox/messenger/messages")).json()["next"] == 1


@pytest.mark.parametrize(
    "tag", ["ACCOUNT_UPDATE", "CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE"]
)
async def test_retired_message_tags_are_refused_even_inside_the_window(
    client: httpx.AsyncClient, config: SandboxConfig, psid: str, tag: str
) -> None:
    tagged = message(psid, messaging_type="MESSAGE_TAG", tag=tag)
    refused = error_of(await send(client, config, tagged))
    assert refused["code"] == 100 and tag in refused["message"]
    assert (await client.get("/_sandbox/messenger/messages")).json()["messages"] == []


async def test_human_agent_tag_answers_for_seven_days(
    client: httpx.AsyncClient, config: SandboxConfig, psid: str, clock: FakeClock
) -> None:
    agent = message(psid, messaging_type="MESSAGE_TAG", tag="HUMAN_AGENT")
    clock.advance(7 * 24 * 3600 - 1)
    assert (await send(client, config, agent)).status_code == 200
    clock.advance(1)
    late = error_of(await send(client, config, agent))
    assert (late["code"], late["error_subcode"]) == (10, 2018278)


async def test_window_control(client: httpx.AsyncClient, config: SandboxConfig, psid: str) -> None:
    closed = await client.post(f"/_sandbox/messenger/users/{psid}/window", json={"open": False})
    assert closed.json()["window_open"] is False
    assert error_of(await send(client, config, message(psid)))["code"] == 10
    await client.post(f"/_sandbox/messenger/users/{psid}/window", json={"open": True})
    assert (await send(client, config, message(psid))).status_code == 200


async def test_profile(client: httpx.AsyncClient, config: SandboxConfig, psid: str) -> None:
    token = {"access_token": config.page_access_token}
    response = await client.get(
        f"/v26.0/{psid}", params={"fields": "first_name,last_name", **token}
    )
    assert response.json() == {"first_name": "Nick", "last_name": "Shmkl", "id": psid}
    missing = error_of(await client.get("/v26.0/999", params=token))
    assert (missing["code"], missing["error_subcode"]) == (100, 33)
    assert error_of(await client.get(f"/v26.0/{psid}", params={"access_token": "x"}))["code"] == 190


async def test_only_graph_versions_are_routed(client: httpx.AsyncClient, psid: str) -> None:
    assert (await client.get(f"/latest/{psid}")).status_code == 404


async def test_sender_actions_are_accepted_but_not_recorded(
    client: httpx.AsyncClient, config: SandboxConfig, psid: str
) -> None:
    body = {"recipient": {"id": psid}, "sender_action": "typing_on"}
    response = await send(client, config, body)
    assert response.json() == {"recipient_id": psid}
    assert (await client.get("/_sandbox/messenger/messages")).json()["messages"] == []
    bad = await send(client, config, {**body, "sender_action": "dance"})
    assert error_of(bad)["code"] == 100
