"""TelegramClient over MockTransport: sendMessage bodies, splitting, keyboards, and
every Bot API refusal translated into sendsongs.errors."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from sendsongs.channels.telegram.client import MAX_TEXT, TelegramClient
from sendsongs.domain.models import MessageKind, QuickReply, Reply
from sendsongs.errors import (
    ChannelUnavailable,
    RateLimited,
    RecipientUnreachable,
    ServiceError,
    TransientError,
)

API = "https://api.telegram.test"
TOKEN = "123456:bot-token-secret"
CHAT = "7001"


class BotApi:
    """Answers from a script, then `{"ok": true}`, and keeps every request."""

    def __init__(self, *script: httpx.Response | Exception) -> None:
        self.script = list(script)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.script:
            step = self.script.pop(0)
            if isinstance(step, Exception):
                raise step
            return step
        return httpx.Response(200, json={"ok": True, "result": {"message_id": 1}})

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(request.content) for request in self.requests]

    def client(self) -> TelegramClient:
        http = httpx.AsyncClient(transport=httpx.MockTransport(self))
        # backoff 0 and a ceiling of 0: tests never sleep, stated waits go to the outbox
        return TelegramClient(http, api_url=API, bot_token=TOKEN, backoff=0.0, max_wait=0.0)


def refusal(code: int, description: str, **parameters: Any) -> httpx.Response:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return httpx.Response(code, json=body)


async def test_a_reply_is_one_send_message_call_to_the_chat() -> None:
    api = BotApi()
    await api.client().send(CHAT, Reply("hello"), MessageKind.UPDATE)
    assert api.requests[0].url == f"{API}/bot{TOKEN}/sendMessage"
    assert api.bodies == [{"chat_id": CHAT, "text": "hello"}]


async def test_buttons_are_an_inline_keyboard_of_choice_tokens() -> None:
    api = BotApi()
    buttons = (QuickReply("1. Bob Jones", "c:AAAAAAAAAAAAAAAA"), QuickReply("2. Bob", "c:B"))
    await api.client().send(CHAT, Reply("Which one?", buttons), MessageKind.RESPONSE)
    assert api.bodies[0]["reply_markup"] == {
        "inline_keyboard": [
            [{"text": "1. Bob Jones", "callback_data": "c:AAAAAAAAAAAAAAAA"}],
            [{"text": "2. Bob", "callback_data": "c:B"}],
        ]
    }


async def test_a_payload_over_64_bytes_never_reaches_telegram() -> None:
    api = BotApi()
    buttons = (QuickReply("ok", "c:short"), QuickReply("too long", "🎵" * 17))  # 68 bytes
    await api.client().send(CHAT, Reply("Pick", buttons), MessageKind.RESPONSE)
    assert api.bodies[0]["reply_markup"]["inline_keyboard"] == [
        [{"text": "ok", "callback_data": "c:short"}]
    ]


async def test_long_replies_are_cut_at_4096_characters_buttons_on_the_last() -> None:
    api = BotApi()
    text = ("word " * 1000 + "\n\n") * 2  # about 10,000 characters
    await api.client().send(CHAT, Reply(text, (QuickReply("Yes", "c:y"),)), MessageKind.UPDATE)
    assert len(api.bodies) == 3
    assert all(len(body["text"]) <= MAX_TEXT for body in api.bodies)
    assert " ".join(b["text"] for b in api.bodies).split() == text.split()
    assert [("reply_markup" in body) for body in api.bodies] == [False, False, True]


async def test_429_is_rate_limited_for_the_stated_retry_after() -> None:
    api = BotApi(refusal(429, "Too Many Requests: retry after 7", retry_after=7))
    with pytest.raises(RateLimited) as caught:
        await api.client().send(CHAT, Reply("hi"), MessageKind.UPDATE)
    assert caught.value.retry_after == 7
    assert len(api.requests) == 1  # the outbox waits, not this call


async def test_a_short_429_is_waited_out_in_the_call() -> None:
    api = BotApi(refusal(429, "Too Many Requests: retry after 0", retry_after=0))
    await api.client().send(CHAT, Reply("hi"), MessageKind.UPDATE)
    assert len(api.requests) == 2


async def test_429_without_parameters_still_backs_off() -> None:
    api = BotApi(refusal(429, "Too Many Requests"))
    with pytest.raises(RateLimited) as caught:
        await api.client().send(CHAT, Reply("hi"), MessageKind.UPDATE)
    assert caught.value.retry_after > 0


async def test_a_blocked_bot_is_an_unreachable_recipient_with_an_honest_reason() -> None:
    api = BotApi(refusal(403, "Forbidden: bot was blocked by the user"))
    with pytest.raises(RecipientUnreachable) as caught:
        await api.client().send(CHAT, Reply("hi"), MessageKind.UPDATE)
    assert "blocked" in caught.value.explanation
    assert "unblock" in caught.value.explanation
    assert "Messenger" not in caught.value.explanation


async def test_a_person_who_never_started_the_bot_is_unreachable() -> None:
    api = BotApi(refusal(403, "Forbidden: bot can't initiate conversation with a user"))
    with pytest.raises(RecipientUnreachable) as caught:
        await api.client().send(CHAT, Reply("hi"), MessageKind.UPDATE)
    assert "started a chat" in caught.value.explanation


async def test_chat_not_found_is_an_unreachable_recipient() -> None:
    api = BotApi(refusal(400, "Bad Request: chat not found"))
    with pytest.raises(RecipientUnreachable) as caught:
        await api.client().send(CHAT, Reply("hi"), MessageKind.UPDATE)
    assert "Telegram" in caught.value.explanation


@pytest.mark.parametrize(
    "answer", [refusal(401, "Unauthorized"), refusal(404, "Not Found")], ids=["401", "404"]
)
async def test_a_refused_bot_token_makes_the_channel_unavailable(answer: httpx.Response) -> None:
    api = BotApi(answer)
    with pytest.raises(ChannelUnavailable) as caught:
        await api.client().send(CHAT, Reply("hi"), MessageKind.UPDATE)
    assert TOKEN not in str(caught.value)


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("peer closed connection"),
    ],
    ids=["connect", "timeout", "dropped"],
)
async def test_network_errors_are_transient_and_keep_the_token_out(failure: Exception) -> None:
    api = BotApi(failure, failure, failure)
    with pytest.raises(TransientError) as caught:
        await api.client().send(CHAT, Reply("hi"), MessageKind.UPDATE)
    assert len(api.requests) == 3  # retried, then left to the outbox
    assert not isinstance(caught.value, RateLimited)
    assert TOKEN not in str(caught.value)
    assert caught.value.__cause__ is None and caught.value.__suppress_context__


@pytest.mark.parametrize("status", [500, 502])
async def test_server_errors_are_transient(status: int) -> None:
    api = BotApi(refusal(status, "Bad Gateway"))
    await api.client().send(CHAT, Reply("hi"), MessageKind.UPDATE)  # the retry gets through
    api = BotApi(*[refusal(status, "Bad Gateway")] * 3)
    with pytest.raises(TransientError):
        await api.client().send(CHAT, Reply("hi"), MessageKind.UPDATE)


async def test_other_bad_requests_are_refused_for_good() -> None:
    api = BotApi(refusal(400, "Bad Request: message text is empty"))
    with pytest.raises(ServiceError) as caught:
        await api.client().send(CHAT, Reply("hi"), MessageKind.UPDATE)
    assert not isinstance(caught.value, TransientError | RecipientUnreachable)


async def test_answering_a_press_names_the_query_and_swallows_refusals() -> None:
    api = BotApi(refusal(400, "Bad Request: query is too old"))
    await api.client().answer_callback_query("4382716230190723411")
    assert api.requests[0].url.path.endswith("/answerCallbackQuery")
    assert api.bodies == [{"callback_query_id": "4382716230190723411"}]


async def test_set_webhook_sends_url_secret_and_only_the_handled_updates() -> None:
    api = BotApi(httpx.Response(200, json={"ok": True, "result": True}))
    await api.client().set_webhook("https://bot.example/telegram/webhook", "s3cret", ["message"])
    assert api.bodies == [
        {
            "url": "https://bot.example/telegram/webhook",
            "secret_token": "s3cret",
            "allowed_updates": ["message"],
        }
    ]


async def test_profile_name_reads_get_chat_and_is_none_when_refused() -> None:
    chat = {"id": 7001, "type": "private", "first_name": "Bob", "last_name": "Jones"}
    api = BotApi(httpx.Response(200, json={"ok": True, "result": chat}), refusal(404, "Not Found"))
    client = api.client()
    assert await client.profile_name(CHAT) == "Bob Jones"
    assert await client.profile_name(CHAT) is None
