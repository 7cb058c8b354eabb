"""Webhook intake: signatures, subscription checks and event parsing."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from sendsongs.channels.messenger.webhook import (
    MalformedEvent,
    parse_webhook,
    verify_signature,
    verify_subscription,
)
from sendsongs.domain.models import Address, IncomingMessage
from sendsongs.sandbox.app import create_sandbox_app
from sendsongs.sandbox.config import SandboxConfig

SECRET = "app-secret"
NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
FIXTURE = Path(__file__).parent.parent / "fb_msg.json"
PAGE = "1984234425170095"
USER = "2068505776496400"
SENDER = Address("messenger", USER)


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def page_event(*messaging: dict[str, Any]) -> bytes:
    entry = {"id": PAGE, "time": 1523490181391, "messaging": list(messaging)}
    return json.dumps({"object": "page", "entry": [entry]}).encode()


def event(**fields: Any) -> dict[str, Any]:
    return {"sender": {"id": USER}, "recipient": {"id": PAGE}, "timestamp": 1523490181021, **fields}


# -- signature --


def test_valid_signature() -> None:
    body = FIXTURE.read_bytes()
    assert verify_signature(SECRET, body, sign(body))
    assert verify_signature(SECRET, body, sign(body).upper().replace("SHA256=", "sha256="))


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        sign(b"other body"),
        sign(b"{}", secret="wrong-secret"),
        sign(b"{}").replace("sha256=", "sha1="),
        sign(b"{}").removeprefix("sha256="),
        "sha256=",
        "sha256=zz\u00e9",
    ],
    ids=["missing", "empty", "forged-body", "wrong-secret", "sha1", "no-prefix", "no-hex", "odd"],
)
def test_bad_signatures_are_refused(header: str | None) -> None:
    assert not verify_signature(SECRET, b"{}", header)


def test_no_secret_configured_accepts_nothing() -> None:
    assert not verify_signature("", b"{}", sign(b"{}", secret=""))


# -- subscription --


def test_subscription_echoes_challenge() -> None:
    assert verify_subscription("subscribe", "tok", "12345", "tok") == "12345"


@pytest.mark.parametrize(
    ("mode", "token", "challenge", "verify_token"),
    [
        ("subscribe", "wrong", "1", "tok"),
        ("unsubscribe", "tok", "1", "tok"),
        (None, "tok", "1", "tok"),
        ("subscribe", None, "1", "tok"),
        ("subscribe", "tok", None, "tok"),
        ("subscribe", "", "1", ""),
    ],
)
def test_subscription_refused(
    mode: str | None, token: str | None, challenge: str | None, verify_token: str
) -> None:
    assert verify_subscription(mode, token, challenge, verify_token) is None


# -- parsing --


def test_captured_event_parses_to_one_message() -> None:
    raw = json.loads(FIXTURE.read_text())
    expected_text = raw["entry"][0]["messaging"][0]["message"]["text"]
    (message,) = parse_webhook(FIXTURE.read_bytes(), NOW)
    assert message.id == "messenger:mid.$cAAdWXmVa3ERo6FyXnVitxdMasAWz"
    assert message.sender == SENDER
    assert str(message.sender) == f"messenger:{USER}"
    assert message.received_at == NOW
    assert message.text == expected_text
    assert message.text.startswith(
        "send_song https://open.spotify.com/track/46X0dXeliHXD73sxexJx7d"
    )
    assert message.payload is None
    assert len(message.attachments) == 1
    assert message.attachments[0].startswith("https://l.facebook.com/l.php?u=")


def test_quick_reply_payload() -> None:
    body = page_event(
        event(message={"mid": "m_1", "text": "Help", "quick_reply": {"payload": "HELP"}})
    )
    assert parse_webhook(body, NOW) == [
        IncomingMessage(
            id="messenger:m_1", sender=SENDER, received_at=NOW, text="Help", payload="HELP"
        )
    ]


def test_media_attachment_urls_and_empty_text() -> None:
    attachments = [
        {"type": "image", "payload": {"url": "https://cdn.test/a.jpg"}},
        {"type": "fallback", "url": "https://link.test/x", "payload": None},
        {"type": "location", "payload": {"coordinates": {"lat": 1, "long": 2}}},
    ]
    (message,) = parse_webhook(
        page_event(event(message={"mid": "m_2", "attachments": attachments})), NOW
    )
    assert message.text == ""
    assert message.attachments == ("https://cdn.test/a.jpg", "https://link.test/x")


def test_postback_with_and_without_mid() -> None:
    body = page_event(
        event(postback={"title": "Get Started", "payload": "GET_STARTED"}),
        event(postback={"mid": "m_pb", "title": "Help", "payload": "HELP"}, timestamp=99),
    )
    first, second = parse_webhook(body, NOW)
    assert first == IncomingMessage(
        id=f"messenger:postback:{USER}:1523490181021",
        sender=SENDER,
        received_at=NOW,
        text="Get Started",
        payload="GET_STARTED",
    )
    assert second.id == "messenger:m_pb" and second.payload == "HELP" and second.text == "Help"


def test_echoes_receipts_and_reactions_are_skipped() -> None:
    body = page_event(
        event(message={"mid": "m_echo", "text": "our reply", "is_echo": True, "app_id": 1}),
        event(delivery={"mids": ["m_echo"], "watermark": 1523490181021}),
        event(read={"watermark": 1523490181021}),
        event(reaction={"mid": "m_echo", "action": "react", "emoji": "\u2764"}),
        event(message={"mid": "m_real", "text": "help"}),
    )
    assert [message.id for message in parse_webhook(body, NOW)] == ["messenger:m_real"]


def test_several_entries_keep_their_order() -> None:
    entries = [
        {"id": PAGE, "time": 1, "messaging": [event(message={"mid": f"m_{i}", "text": "x"})]}
        for i in range(3)
    ]
    entries.append({"id": PAGE, "time": 2, "standby": [event(message={"mid": "s", "text": "y"})]})
    body = json.dumps({"object": "page", "entry": entries}).encode()
    ids = [message.id for message in parse_webhook(body, NOW)]
    assert ids == ["messenger:m_0", "messenger:m_1", "messenger:m_2"]


def test_sender_known_only_by_user_ref_is_skipped() -> None:
    body = page_event({"sender": {"user_ref": "ref"}, "postback": {"title": "Hi", "payload": "P"}})
    assert parse_webhook(body, NOW) == []


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"\xff\xfe\x00",
        b"",
        b"[]",
        b'"page"',
        b'{"object": "instagram", "entry": []}',
        b'{"object": "page"}',
        b'{"object": "page", "entry": {}}',
        b'{"object": "page", "entry": [1]}',
        b'{"object": "page", "entry": [{"messaging": {}}]}',
        b'{"object": "page", "entry": [{"messaging": ["x"]}]}',
        b"[" * 100_000,
    ],
    ids=[
        "text",
        "binary",
        "empty",
        "array",
        "string",
        "not-page",
        "no-entry",
        "entry-object",
        "entry-number",
        "messaging-object",
        "messaging-string",
        "deep",
    ],
)
def test_malformed_bodies(body: bytes) -> None:
    with pytest.raises(MalformedEvent):
        parse_webhook(body, NOW)


@pytest.mark.parametrize(
    "bad",
    [
        event(message={"text": "no mid"}),
        event(message={"mid": "m", "text": 5}),
        {"message": {"mid": "m", "text": "no sender"}},
        {"sender": {"id": USER}, "postback": {"payload": "no timestamp"}},
        {"sender": {"id": "1001"}, "message": {"mid": "m_\ud83c", "text": "hi"}},
    ],
    ids=["no-mid", "text-number", "no-sender", "postback-no-id", "mid-half-emoji"],
)
def test_one_unreadable_event_is_skipped_and_the_others_kept(bad: dict[str, object]) -> None:
    good = {"sender": {"id": "1003"}, "message": {"mid": "m_ok", "text": "help"}}
    body = json.dumps({"object": "page", "entry": [{"id": "1", "messaging": [bad, good]}]})
    [message] = parse_webhook(body.encode(), NOW)
    assert message.text == "help" and message.sender.id == "1003"


def test_half_an_emoji_is_kept_as_a_replacement_character() -> None:
    body = (
        b'{"object":"page","entry":[{"id":"1","messaging":[{"sender":{"id":"1001"},'
        b'"message":{"mid":"m_1","text":"hi \\ud83c and \\ud83c\\udfb5"}}]}]}'
    )
    [message] = parse_webhook(body, NOW)
    assert message.text == "hi \ufffd and \U0001f3b5"
    message.text.encode("utf-8")  # storable


def test_page_event_without_messages_is_empty() -> None:
    assert parse_webhook(b'{"object": "page", "entry": []}', NOW) == []


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "object",
                    "entry",
                    "messaging",
                    "message",
                    "postback",
                    "sender",
                    "id",
                    "mid",
                    "text",
                    "payload",
                    "quick_reply",
                    "attachments",
                    "url",
                    "is_echo",
                    "timestamp",
                    "title",
                ]
            )
            | st.text(max_size=5),
            children,
            max_size=6,
        )
    ),
    max_leaves=30,
)


@given(st.binary(max_size=300))
def test_arbitrary_bytes_only_ever_raise_malformed_event(body: bytes) -> None:
    with contextlib.suppress(MalformedEvent):
        parse_webhook(body, NOW)


@given(json_values)
def test_arbitrary_json_only_ever_raises_malformed_event(value: object) -> None:
    for document in (
        value,
        {"object": "page", "entry": value},
        {"object": "page", "entry": [value]},
        {"object": "page", "entry": [{"messaging": [value]}]},
    ):
        try:
            messages = parse_webhook(json.dumps(document).encode(), NOW)
        except MalformedEvent:
            continue
        assert all(isinstance(message, IncomingMessage) for message in messages)


# -- what the sandbox posts, as Messenger would --


async def test_sandbox_webhook_delivery_verifies_and_parses() -> None:
    posted: list[httpx.Request] = []

    def webhook(request: httpx.Request) -> httpx.Response:
        posted.append(request)
        return httpx.Response(200, text="EVENT_RECEIVED")

    config = SandboxConfig()
    async with httpx.AsyncClient(transport=httpx.MockTransport(webhook)) as outbound:
        app = create_sandbox_app(config, webhook_client=outbound)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://sandbox.test") as http:
            await http.post("/_sandbox/messenger/users", json={"psid": USER})
            said = {"psid": USER, "text": "h\u00e9lp", "quick_reply_payload": "HELP"}
            answer = await http.post("/_sandbox/messenger/say", json=said)
    assert answer.json()["webhook_status"] == 200
    (request,) = posted
    body = request.read()
    assert verify_signature(config.app_secret, body, request.headers["X-Hub-Signature-256"])
    (message,) = parse_webhook(body, NOW)
    assert message.id == f"messenger:{answer.json()['mid']}"
    assert (message.sender, message.text, message.payload) == (SENDER, "h\u00e9lp", "HELP")
