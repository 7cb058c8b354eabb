"""Telegram updates into IncomingMessages; slash commands into the chat grammar."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from sendsongs.channels.telegram.slash import from_slash
from sendsongs.channels.telegram.updates import (
    Incoming,
    MalformedUpdate,
    MemberChange,
    parse_update,
    verify_secret,
)
from sendsongs.domain.commands import Help, Register, RegisterWithCode, SendSong, parse
from sendsongs.domain.models import Address

NOW = datetime(2026, 11, 1, tzinfo=UTC)
BOB = {"id": 7001, "is_bot": False, "first_name": "Bob", "last_name": "Jones"}
BOT = {"id": 123456, "is_bot": True, "first_name": "Send Songs", "username": "SendSongsBot"}
PRIVATE = {"id": 7001, "first_name": "Bob", "type": "private"}
GROUP = {"id": -100, "title": "Band", "type": "group"}
TRACK = "https://open.spotify.com/track/46X0dXeliHXD73sxexJx7d"


def message(text: str, chat: dict[str, Any] = PRIVATE, **extra: Any) -> bytes:
    body = {"message_id": 1, "from": BOB, "chat": chat, "date": 1795000000, "text": text}
    return json.dumps({"update_id": 493117202, "message": {**body, **extra}}).encode()


def parsed_text(text: str) -> str:
    found = parse_update(message(text), NOW)
    assert isinstance(found, Incoming)
    return found.message.text


def test_a_private_message_is_an_incoming_message_keyed_by_update_id() -> None:
    found = parse_update(message("help"), NOW)
    assert isinstance(found, Incoming)
    assert found.message.id == "telegram:493117202"
    assert found.message.sender == Address("telegram", "7001")
    assert found.message.text == "help"
    assert found.message.profile_name == "Bob Jones"  # first_name + last_name
    assert found.callback_query_id is None


def test_a_first_name_alone_is_the_profile_name() -> None:
    lone = {"id": 7002, "is_bot": False, "first_name": "Cher"}
    found = parse_update(message("help", **{"from": lone}), NOW)
    assert isinstance(found, Incoming) and found.message.profile_name == "Cher"


@pytest.mark.parametrize(
    ("typed", "command"),
    [
        ("/start", Help()),
        ("/help", Help()),
        ("/help@SendSongsBot", Help()),
        ("/register", Register()),
        ('/register name:"Bob J"', Register(name="Bob J")),
        ("/start register", Register()),
        ("/start code_ab12-CD_34", RegisterWithCode("ab12-CD_34", "Bob Jones")),
        ("/start nonsense!!", Help()),
        (f'/send_song name:"Alice" {TRACK}', SendSong(name="Alice", track_id=TRACK[-22:])),
        (f"/send_song@SendSongsBot {TRACK} to Alice", SendSong(name="Alice", track_id=TRACK[-22:])),
    ],
)  # fmt: skip
def test_slash_commands_read_as_the_seed_syntax(typed: str, command: object) -> None:
    assert parse(parsed_text(typed)) == command


def test_the_seed_syntax_is_untouched() -> None:
    typed = f'send_song name:"Alice" post:"/start" {TRACK}'
    assert parsed_text(typed) == typed


def test_slash_commands_the_grammar_learns_later_pass_through() -> None:
    assert from_slash("/status", None) == "status"
    assert from_slash('/cancel name:"Alice"', None) == 'cancel name:"Alice"'
    assert from_slash("/forget_me", None) == "forget me"


def test_a_code_deep_link_without_a_name_lets_the_grammar_ask_for_one() -> None:
    assert from_slash("/start code_abc", None) == 'register code:"abc"'


def test_links_in_entities_become_attachments() -> None:
    entities = [{"offset": 0, "length": 4, "type": "text_link", "url": TRACK}]
    found = parse_update(message("this", entities=entities), NOW)
    assert isinstance(found, Incoming) and found.message.attachments == (TRACK,)


def test_a_button_press_carries_its_token_and_its_label() -> None:
    markup = {"inline_keyboard": [[{"text": "1. Bob Jones", "callback_data": "c:tok"}]]}
    sent = {"message_id": 2, "from": BOT, "chat": PRIVATE, "date": 1, "text": "Which?",
            "reply_markup": markup}  # fmt: skip
    query = {"id": "4382716230190723411", "from": BOB, "message": sent,
             "chat_instance": "-28", "data": "c:tok"}  # fmt: skip
    found = parse_update(json.dumps({"update_id": 9, "callback_query": query}).encode(), NOW)
    assert isinstance(found, Incoming)
    assert found.callback_query_id == "4382716230190723411"
    assert found.message.id == "telegram:9"
    assert found.message.payload == "c:tok"
    assert found.message.text == "1. Bob Jones"
    assert found.message.sender == Address("telegram", "7001")


@pytest.mark.parametrize(("status", "blocked"), [("kicked", True), ("member", False)])
def test_my_chat_member_says_blocked_or_unblocked(status: str, blocked: bool) -> None:
    old = {"status": "member"} if blocked else {"status": "kicked", "until_date": 0}
    change = {"chat": PRIVATE, "from": BOB, "date": 1,
              "old_chat_member": {"user": BOT, **old},
              "new_chat_member": {"user": BOT, "status": status, "until_date": 0}}  # fmt: skip
    found = parse_update(json.dumps({"update_id": 5, "my_chat_member": change}).encode(), NOW)
    assert found == MemberChange(Address("telegram", "7001"), blocked=blocked)


@pytest.mark.parametrize(
    "body",
    [
        message("hi", chat=GROUP),
        json.dumps({"update_id": 3, "edited_message": json.loads(message("x", GROUP))["message"]}),
        json.dumps({"update_id": 4, "message_reaction_count": {"whatever": 1}}),
        json.dumps({"update_id": 5}),
    ],
    ids=["group", "edited-in-a-group", "unknown-type", "empty"],
)
def test_updates_the_bot_has_no_use_for_are_none(body: bytes | str) -> None:
    data = body if isinstance(body, bytes) else body.encode()
    assert parse_update(data, NOW) is None


def test_an_edited_private_message_is_read_as_an_edit() -> None:
    sent = json.loads(message("help"))["message"]
    body = json.dumps({"update_id": 6, "edited_message": {**sent, "edit_date": 2}}).encode()
    found = parse_update(body, NOW)
    assert isinstance(found, Incoming)
    assert found.message.edited and found.message.text == "help"
    assert found.message.sender == Address("telegram", "7001")


@pytest.mark.parametrize(
    "body",
    [b"{nope", b"[]", b'{"message": {}}', b'{"update_id": "7"}',
     b'{"update_id": 7, "message": "text"}', b'{"update_id": 7, "message": {"message_id": 1}}'],
)  # fmt: skip
def test_what_is_not_an_update_is_malformed(body: bytes) -> None:
    with pytest.raises(MalformedUpdate):
        parse_update(body, NOW)


def test_the_secret_header_must_match_exactly() -> None:
    assert verify_secret("s3cret", "s3cret")
    assert not verify_secret("s3cret", "s3cre")
    assert not verify_secret("s3cret", None)
    assert not verify_secret("", "")
