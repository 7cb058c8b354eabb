"""The Telegram UpdateReader: a stored, unread update read by parse_update's rules
into what the worker handles; a press acknowledged as it is read."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from sendsongs.channels.telegram import reader as reader_module
from sendsongs.channels.telegram.reader import TelegramReader
from sendsongs.domain.models import Address, IncomingMessage, Reachability
from sendsongs.errors import TransientError, UnreadableUpdate
from tests.recorded_logs import record_logs

NOW = datetime(2026, 11, 1, tzinfo=UTC)
BOB = {"id": 7001, "is_bot": False, "first_name": "Bob", "last_name": "Jones"}
BOT = {"id": 123456, "is_bot": True, "first_name": "Send Songs"}
PRIVATE = {"id": 7001, "first_name": "Bob", "type": "private"}


def stored(update: dict[str, Any] | str) -> IncomingMessage:
    text = update if isinstance(update, str) else json.dumps(update)
    return IncomingMessage("telegram:9", Address.unknown("telegram"), NOW, unread=text)


def said(text: str, chat: dict[str, Any] = PRIVATE) -> dict[str, Any]:
    message = {"message_id": 1, "from": BOB, "chat": chat, "date": 1795000000, "text": text}
    return {"update_id": 9, "message": message}


def pressed(query_id: str = "q-1") -> dict[str, Any]:
    sent = {"message_id": 2, "from": BOT, "chat": PRIVATE, "date": 1, "text": "Which?"}
    query = {"id": query_id, "from": BOB, "message": sent, "chat_instance": "-1", "data": "c:t"}
    return {"update_id": 9, "callback_query": query}


class Presses:
    def __init__(self, fail: Exception | None = None) -> None:
        self.answered: list[str] = []
        self.fail = fail

    async def __call__(self, query_id: str) -> None:
        self.answered.append(query_id)
        if self.fail is not None:
            raise self.fail


async def test_a_message_reads_as_the_incoming_message_of_its_sender() -> None:
    presses = Presses()
    read = await TelegramReader(presses).read(stored(said("help")))
    assert read == IncomingMessage(
        "telegram:9", Address("telegram", "7001"), NOW, "help", profile_name="Bob Jones"
    )
    assert presses.answered == []


async def test_a_press_is_answered_as_it_is_read() -> None:
    presses = Presses()
    read = await TelegramReader(presses).read(stored(pressed("q-7")))
    assert isinstance(read, IncomingMessage) and read.payload == "c:t"
    assert read.sender == Address("telegram", "7001")
    assert presses.answered == ["q-7"]


@pytest.mark.parametrize("fail", [TransientError("down"), RuntimeError("bug")])
async def test_a_press_whose_answer_fails_is_still_read_and_the_failure_logged(
    monkeypatch: pytest.MonkeyPatch, fail: Exception
) -> None:
    logs = record_logs(monkeypatch, reader_module)
    read = await TelegramReader(Presses(fail)).read(stored(pressed()))
    assert isinstance(read, IncomingMessage) and read.payload == "c:t"
    assert [e["event"] for e in logs] == ["telegram_callback_answer_failed"]


@pytest.mark.parametrize(("status", "reachable"), [("kicked", False), ("member", True)])
async def test_a_block_or_unblock_reads_as_reachability(status: str, reachable: bool) -> None:
    change = {"chat": PRIVATE, "from": BOB, "date": 1,
              "old_chat_member": {"user": BOT, "status": "left"},
              "new_chat_member": {"user": BOT, "status": status, "until_date": 0}}  # fmt: skip
    read = await TelegramReader(Presses()).read(stored({"update_id": 9, "my_chat_member": change}))
    assert read == Reachability(Address("telegram", "7001"), reachable)


async def test_a_group_message_means_nothing_to_answer() -> None:
    group = {"id": -100, "title": "Band", "type": "group"}
    assert await TelegramReader(Presses()).read(stored(said("help", group))) is None


@pytest.mark.parametrize(
    "update",
    ['{"update_id": 9, "message": "hello"}', '{"update_id": 9, "message": {"message_id": 1}}',
     json.dumps(said("help", {**PRIVATE, "id": "7001"})), "{oops"],
    ids=["string", "no-date", "chat-id-text", "not-json"],
)  # fmt: skip
async def test_what_no_update_is_made_of_is_unreadable(update: str) -> None:
    presses = Presses()
    with pytest.raises(UnreadableUpdate):
        await TelegramReader(presses).read(stored(update))
    assert presses.answered == []


async def test_a_message_read_already_is_returned_as_it_is() -> None:
    message = IncomingMessage("telegram:9", Address("telegram", "7001"), NOW, "help")
    assert await TelegramReader(Presses()).read(message) is message
