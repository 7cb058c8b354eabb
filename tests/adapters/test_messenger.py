"""MessengerClient over MockTransport: Send API bodies, splitting, retries, errors."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from sendsongs.channels.messenger.client import MAX_TEXT, MessengerClient, split_text
from sendsongs.domain.models import MessageKind, QuickReply, Reply
from sendsongs.errors import (
    ChannelUnavailable,
    RateLimited,
    RecipientUnreachable,
    ServiceError,
    TransientError,
)
from sendsongs.sandbox.app import create_sandbox_app
from sendsongs.sandbox.config import SandboxConfig

GRAPH = "https://graph.test/v26.0"
TOKEN = "page-token-secret"
PSID = "2068505776496400"

Handler = Callable[[httpx.Request], httpx.Response]


def client(handler: Handler, attempts: int = 3) -> MessengerClient:
    return MessengerClient(
        httpx.AsyncClient(transport=httpx.MockTransport(handler)),
        graph_url=GRAPH,
        page_access_token=TOKEN,
        attempts=attempts,
        backoff=0.0,  # tests must not sleep
    )


def graph_error(code: int, subcode: int | None = None, **extra: Any) -> dict[str, Any]:
    error: dict[str, Any] = {"message": f"(#{code}) boom", "type": "OAuthException", "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    error["fbtrace_id"] = "Abc123"
    error.update(extra)
    return {"error": error}


class Recorder:
    """A Send API that answers from a script, then 200, and keeps every body."""

    def __init__(self, *script: httpx.Response | Exception) -> None:
        self.script = list(script)
        self.requests: list[httpx.Request] = []

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(request.content) for request in self.requests]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.script:
            answer = self.script.pop(0)
            if isinstance(answer, Exception):
                raise answer
            # A fresh copy: the same scripted answer may be served more than once.
            return httpx.Response(
                answer.status_code, headers=answer.headers, content=answer.content
            )
        return httpx.Response(200, json={"recipient_id": PSID, "message_id": "m_1"})


def test_channel_name_is_the_address_channel() -> None:
    assert client(Recorder()).name == "messenger"


async def test_send_posts_the_send_api_body() -> None:
    server = Recorder()
    reply = Reply(
        "Sent!", (QuickReply("Help", "HELP"), QuickReply("  A very long title indeed  ", "X"))
    )
    await client(server).send(PSID, reply, MessageKind.RESPONSE)
    (request,) = server.requests
    assert request.method == "POST"
    assert request.url.path == "/v26.0/me/messages"
    assert request.url.params["access_token"] == TOKEN
    assert server.bodies == [
        {
            "recipient": {"id": PSID},
            "messaging_type": "RESPONSE",
            "message": {
                "text": "Sent!",
                "quick_replies": [
                    {"content_type": "text", "title": "Help", "payload": "HELP"},
                    {"content_type": "text", "title": "A very long title in", "payload": "X"},
                ],
            },
        }
    ]


async def test_update_kind_and_no_quick_replies() -> None:
    server = Recorder()
    await client(server).send(PSID, Reply("Bob listened"), MessageKind.UPDATE)
    assert server.bodies[0]["messaging_type"] == "UPDATE"
    assert server.bodies[0]["message"] == {"text": "Bob listened"}


async def test_long_text_is_split_and_quick_replies_go_last() -> None:
    server = Recorder()
    paragraph = ("word " * 300).strip()  # 1,499 characters
    text = "\n\n".join([paragraph, paragraph, paragraph])
    await client(server).send(PSID, Reply(text, (QuickReply("OK", "OK"),)), MessageKind.RESPONSE)
    messages = [body["message"] for body in server.bodies]
    assert [message["text"] for message in messages] == [paragraph, paragraph, paragraph]
    assert [("quick_replies" in message) for message in messages] == [False, False, True]


def test_split_prefers_paragraphs_then_lines_then_words() -> None:
    assert split_text("short", MAX_TEXT) == ["short"]
    assert split_text("aaaa bbbb\n\ncccc", limit=10) == ["aaaa bbbb", "cccc"]
    assert split_text("aaaa\nbbbb cccc", limit=10) == ["aaaa\nbbbb", "cccc"]
    assert split_text("aaa bbb ccc ddd", limit=8) == ["aaa bbb", "ccc ddd"]
    assert split_text("x" * 25, limit=10) == ["x" * 10, "x" * 10, "x" * 5]


def test_split_keeps_every_word_and_respects_the_limit() -> None:
    text = " ".join(f"w{i}" * (i % 7 + 1) for i in range(2000))
    pieces = split_text(text, MAX_TEXT)
    assert len(pieces) > 1
    assert all(0 < len(piece) <= MAX_TEXT for piece in pieces)
    assert " ".join(pieces).split() == text.split()


async def test_empty_reply_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        await client(Recorder()).send(PSID, Reply("   "), MessageKind.RESPONSE)


# -- retries --


@pytest.mark.parametrize(
    "failure",
    [
        httpx.Response(500),
        httpx.Response(503, text="down"),
        httpx.Response(400, json=graph_error(2)),
        httpx.Response(400, json=graph_error(1200, is_transient=True)),
        httpx.Response(400, json=graph_error(613)),
        httpx.Response(400, json=graph_error(4)),
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("slow"),
    ],
    ids=["500", "503", "code-2", "is-transient", "613", "4", "connect", "timeout"],
)
async def test_transient_failure_is_retried_then_succeeds(
    failure: httpx.Response | Exception,
) -> None:
    server = Recorder(failure, failure)
    await client(server).send(PSID, Reply("hi"), MessageKind.RESPONSE)
    assert len(server.requests) == 3
    assert server.bodies[0] == server.bodies[2]


async def test_retries_exhausted_raise_transient_error() -> None:
    server = Recorder(*[httpx.Response(502)] * 5)
    with pytest.raises(TransientError) as caught:
        await client(server).send(PSID, Reply("hi"), MessageKind.RESPONSE)
    assert len(server.requests) == 3
    assert TOKEN not in str(caught.value)


async def test_network_failures_exhausted_hide_the_token() -> None:
    server = Recorder(*[httpx.ConnectError(f"cannot reach {GRAPH}?access_token={TOKEN}")] * 3)
    with pytest.raises(TransientError) as caught:
        await client(server).send(PSID, Reply("hi"), MessageKind.RESPONSE)
    assert TOKEN not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


async def test_throttling_exhausted_asks_the_caller_to_wait() -> None:
    server = Recorder(*[httpx.Response(400, json=graph_error(613))] * 3)
    with pytest.raises(RateLimited) as caught:
        await client(server).send(PSID, Reply("hi"), MessageKind.RESPONSE)
    assert len(server.requests) == 3
    assert caught.value.retry_after > 0


async def test_short_retry_after_is_honoured_here() -> None:
    server = Recorder(httpx.Response(429, headers={"Retry-After": "0"}))
    await client(server).send(PSID, Reply("hi"), MessageKind.RESPONSE)
    assert len(server.requests) == 2


async def test_long_retry_after_is_left_to_the_caller() -> None:
    server = Recorder(httpx.Response(429, headers={"Retry-After": "120"}))
    with pytest.raises(RateLimited) as caught:
        await client(server).send(PSID, Reply("hi"), MessageKind.RESPONSE)
    assert len(server.requests) == 1
    assert caught.value.retry_after == 120


# -- errors that retrying cannot fix --


@pytest.mark.parametrize(
    ("code", "subcode"),
    [(10, 2018278), (551, None), (551, 1545041), (200, 1545041), (100, 2018001)],
    ids=["24h-window", "unavailable", "unavailable-sub", "unavailable-200", "no-user"],
)
async def test_unreachable_recipient(code: int, subcode: int | None) -> None:
    server = Recorder(httpx.Response(400, json=graph_error(code, subcode)))
    with pytest.raises(RecipientUnreachable) as caught:
        await client(server).send(PSID, Reply("hi"), MessageKind.UPDATE)
    assert len(server.requests) == 1
    assert caught.value.explanation  # always a reason the sender can read
    assert TOKEN not in caught.value.explanation


async def explanation(code: int, subcode: int | None) -> str:
    server = Recorder(httpx.Response(400, json=graph_error(code, subcode)))
    with pytest.raises(RecipientUnreachable) as caught:
        await client(server).send(PSID, Reply("hi"), MessageKind.UPDATE)
    return caught.value.explanation


async def test_the_explanation_tells_the_window_from_an_unavailable_person() -> None:
    window = await explanation(10, 2018278)
    unavailable = await explanation(551, 1545041)
    assert window != unavailable
    assert "24 hours" in window
    assert "24 hours" not in unavailable and "right now" in unavailable
    # Graph's other ways of saying "this person isn't available" read the same.
    assert await explanation(551, None) == unavailable
    assert await explanation(200, 1545041) == unavailable


async def test_24_hour_window_error_as_graph_sends_it() -> None:
    body = {
        "error": {
            "message": "(#10) This message is sent outside of allowed window.",
            "type": "OAuthException",
            "code": 10,
            "error_subcode": 2018278,
            "fbtrace_id": "HxJb2yzS1Ih",
        }
    }
    with pytest.raises(RecipientUnreachable) as caught:
        await client(Recorder(httpx.Response(400, json=body))).send(
            PSID, Reply("Bob listened"), MessageKind.UPDATE
        )
    assert "outside of allowed window" in str(caught.value)


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(400, json=graph_error(100)),
        httpx.Response(400, json=graph_error(10)),  # permission, not the window
        httpx.Response(400, json=graph_error(100, 1545041)),  # unavailable subcode, other code
        httpx.Response(403, text="forbidden"),
    ],
    ids=["bad-param", "permission", "odd-pair", "no-body"],
)
async def test_other_client_errors_are_plain_service_errors(answer: httpx.Response) -> None:
    server = Recorder(answer)
    with pytest.raises(ServiceError) as caught:
        await client(server).send(PSID, Reply("hi"), MessageKind.RESPONSE)
    assert type(caught.value) is ServiceError
    assert len(server.requests) == 1
    assert TOKEN not in str(caught.value)


@pytest.mark.parametrize("subcode", [None, 460, 463], ids=["no-subcode", "460", "463"])
async def test_an_invalidated_page_token_keeps_the_message(subcode: int | None) -> None:
    server = Recorder(httpx.Response(401, json=graph_error(190, subcode)))
    with pytest.raises(ChannelUnavailable) as caught:
        await client(server).send(PSID, Reply("hi"), MessageKind.RESPONSE)
    assert TOKEN not in str(caught.value)


async def test_an_invalidated_page_token_is_not_blamed_on_the_recipient() -> None:
    server = Recorder(httpx.Response(401, json=graph_error(190)))
    with pytest.raises(ServiceError) as caught:
        await client(server).send(PSID, Reply("hi"), MessageKind.RESPONSE)
    assert not isinstance(caught.value, RecipientUnreachable | TransientError)
    assert len(server.requests) == 1
    assert TOKEN not in str(caught.value)


# -- profile --


async def test_profile_name() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"first_name": "Nick", "last_name": "Shmkl", "id": PSID})

    assert await client(handler).profile_name(PSID) == "Nick Shmkl"
    (request,) = seen
    assert request.method == "GET" and request.url.path == f"/v26.0/{PSID}"
    assert request.url.params["fields"] == "first_name,last_name"
    assert request.url.params["access_token"] == TOKEN


async def test_profile_name_with_first_name_only() -> None:
    answer = httpx.Response(200, json={"first_name": "Cher"})
    assert await client(lambda r: answer).profile_name(PSID) == "Cher"


@pytest.mark.parametrize(
    "answer",
    [
        lambda r: httpx.Response(400, json=graph_error(100, 33)),
        lambda r: httpx.Response(500),
        lambda r: httpx.Response(200, text="nope"),
        lambda r: httpx.Response(200, json=["x"]),
        lambda r: httpx.Response(200, json={"id": PSID}),
    ],
    ids=["graph-error", "500", "not-json", "array", "no-names"],
)
async def test_profile_name_is_none_on_any_failure(answer: Handler) -> None:
    assert await client(answer).profile_name(PSID) is None


async def test_profile_name_network_failure_and_odd_ids_give_none() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("down")

    assert await client(handler).profile_name(PSID) is None
    assert await client(handler).profile_name("../me/messages") is None


# -- against the sandbox, in-process --


async def test_sandbox_send_profile_and_window() -> None:
    config = SandboxConfig()
    transport = httpx.ASGITransport(app=create_sandbox_app(config))
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox.test") as http:
        messenger = MessengerClient(
            http,
            graph_url="http://sandbox.test/v26.0",
            page_access_token=config.page_access_token,
            backoff=0.0,
        )
        user = {"psid": PSID, "first_name": "Nick", "last_name": "Shmkl"}
        assert (await http.post("/_sandbox/messenger/users", json=user)).status_code == 200
        assert await messenger.profile_name(PSID) == "Nick Shmkl"
        assert await messenger.profile_name("1" * 16) is None

        text = "\n\n".join(["x" * 1500, "y" * 1500])
        await messenger.send(PSID, Reply(text, (QuickReply("Help", "HELP"),)), MessageKind.RESPONSE)
        sent = (await http.get("/_sandbox/messenger/messages", params={"psid": PSID})).json()
        assert [m["text"] for m in sent["messages"]] == ["x" * 1500, "y" * 1500]
        assert [bool(m["quick_replies"]) for m in sent["messages"]] == [False, True]

        await http.post(f"/_sandbox/messenger/users/{PSID}/window", json={"open": False})
        with pytest.raises(RecipientUnreachable) as closed:
            await messenger.send(PSID, Reply("Bob listened"), MessageKind.UPDATE)
        assert "24 hours" in closed.value.explanation

        await http.post("/_sandbox/faults", json={"path_prefix": "/v26.0/me", "status": 500})
        await http.post(f"/_sandbox/messenger/users/{PSID}/window", json={"open": True})
        await messenger.send(PSID, Reply("after a retry"), MessageKind.UPDATE)
        sent = (await http.get("/_sandbox/messenger/messages", params={"psid": PSID})).json()
        assert sent["messages"][-1]["text"] == "after a retry"


@pytest.mark.parametrize(
    ("code", "subcode"),
    [(4, None), (17, None), (32, None), (613, None), (80006, None), (-1, 2018012), (10, 1893063)],
)
async def test_throttling_and_passing_trouble_are_never_refusals(
    code: int, subcode: int | None
) -> None:
    from sendsongs.errors import TransientError

    def handler(request: httpx.Request) -> httpx.Response:
        error = {"message": "slow down", "type": "OAuthException", "code": code}
        if subcode is not None:
            error["error_subcode"] = subcode
        return httpx.Response(400, json={"error": error})

    client = MessengerClient(
        httpx.AsyncClient(transport=httpx.MockTransport(handler)),
        graph_url="https://graph.example/v26.0",
        page_access_token="token",
        attempts=1,
    )
    with pytest.raises(TransientError):
        await client.send("1", Reply("hi"), MessageKind.RESPONSE)


async def test_the_business_use_case_header_says_how_long_to_wait() -> None:
    from sendsongs.errors import RateLimited

    usage = '{"1984": [{"type": "messenger", "estimated_time_to_regain_access": 7}]}'

    def handler(request: httpx.Request) -> httpx.Response:
        body = {"error": {"message": "too many", "code": 80006}}
        return httpx.Response(400, json=body, headers={"X-Business-Use-Case-Usage": usage})

    client = MessengerClient(
        httpx.AsyncClient(transport=httpx.MockTransport(handler)),
        graph_url="https://graph.example/v26.0",
        page_access_token="token",
        attempts=1,
    )
    with pytest.raises(RateLimited) as limited:
        await client.send("1", Reply("hi"), MessageKind.RESPONSE)
    assert limited.value.retry_after == 7 * 60


async def test_every_graph_call_carries_the_appsecret_proof() -> None:
    import hashlib
    import hmac

    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.method == "GET":
            return httpx.Response(200, json={"first_name": "A"})
        return httpx.Response(200, json={"recipient_id": "1", "message_id": "m"})

    client = MessengerClient(
        httpx.AsyncClient(transport=httpx.MockTransport(handler)),
        graph_url="https://graph.example/v26.0",
        page_access_token="page-token",
        app_secret="app-secret",
    )
    await client.send("1", Reply("hi"), MessageKind.RESPONSE)
    await client.profile_name("1")
    proof = hmac.new(b"app-secret", b"page-token", hashlib.sha256).hexdigest()
    assert [r.url.params["appsecret_proof"] for r in seen] == [proof, proof]


async def test_when_part_two_fails_only_the_rest_is_owed() -> None:
    from sendsongs.errors import PartlyDelivered, TransientError

    posted: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        text = json.loads(request.content)["message"]["text"]
        if posted:  # part 2 onwards: Graph is down
            return httpx.Response(503, json={"error": {"message": "down", "code": 2}})
        posted.append(text)
        return httpx.Response(200, json={"recipient_id": "1", "message_id": "m"})

    client = MessengerClient(
        httpx.AsyncClient(transport=httpx.MockTransport(handler)),
        graph_url="https://graph.example/v26.0",
        page_access_token="token",
        attempts=1,
    )
    text = ("first part " * 150).strip() + "\n\n" + ("second part " * 100).strip()
    with pytest.raises(PartlyDelivered) as partly:
        await client.send("1", Reply(text), MessageKind.UPDATE)
    assert isinstance(partly.value.cause, TransientError)
    assert posted[0].startswith("first part") and "second" not in posted[0]
    assert partly.value.rest.text.startswith("second part")
    assert "first part" not in partly.value.rest.text
