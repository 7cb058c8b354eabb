"""Updates a webhook stored unread: read by their channel's reader in the worker
before people's lanes are formed, each row finished once, a reader's bug losing
nothing."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pytest

from sendsongs.domain.models import (
    Address,
    IncomingMessage,
    Outgoing,
    Reachability,
    ReadUpdate,
    Reply,
)
from sendsongs.errors import UnreadableUpdate
from sendsongs.ports import Ports
from sendsongs.service import Service, conversation
from sendsongs.service.conversation import INBOX_LEASE
from sendsongs.signing import Signer
from tests.fakes import FakeClock, MemoryStore
from tests.recorded_logs import record_logs
from tests.service.conftest import CHANNEL, SCHEDULE, RecordingChat, ScriptedMusic, at


@dataclass
class ScriptedReader:
    """Reads `<person id>|<text>` as that person saying that; `!` is unreadable,
    `?` means nothing to answer, `boom` is a bug in the reader."""

    name: str = CHANNEL
    read_ids: list[str] = field(default_factory=list)

    async def read(self, stored: IncomingMessage) -> ReadUpdate:
        assert stored.unread is not None
        self.read_ids.append(stored.id)
        if stored.unread == "!":
            raise UnreadableUpdate("chat.id is not an integer")
        if stored.unread == "?":
            return None
        if stored.unread == "boom":
            raise RuntimeError("a bug")
        person, _, text = stored.unread.partition("|")
        return IncomingMessage(stored.id, at(person), stored.received_at, text)


@dataclass
class Bot:
    service: Service
    memory: MemoryStore
    chat: RecordingChat
    clock: FakeClock
    reader: ScriptedReader

    async def store(self, mid: str, unread: str) -> None:
        row = IncomingMessage(mid, Address.unknown(CHANNEL), self.clock.now(), unread=unread)
        assert await self.service.conversation.accept([row]) == 1

    def unfinished(self) -> list[str]:
        return [mid for mid, (_, state) in self.memory.inbox.items() if not state.done]


def make_bot(reader: ScriptedReader | None = None, readers: bool = True) -> Bot:
    clock = FakeClock()
    memory, chat, music = MemoryStore(), RecordingChat(clock), ScriptedMusic(clock)
    reader = reader or ScriptedReader()
    ports = Ports(
        stores=memory.roles(),
        channels={CHANNEL: chat},
        catalog=music,
        histories={"spotify": music},
        account_links={"spotify": music},
        clock=clock,
        readers={CHANNEL: reader} if readers else {},
    )
    signer = Signer("a-test-secret-key-of-some-length", clock)
    service = Service(ports, schedule=SCHEDULE, signer=signer, public_url="https://bot.example")
    return Bot(service, memory, chat, clock, reader)


@pytest.fixture
def bot() -> Bot:
    return make_bot()


async def test_read_updates_are_answered_in_order_beside_messages_read_at_intake(
    bot: Bot,
) -> None:
    await bot.store("u1", "psid-a|status")
    read = IncomingMessage("m2", at("psid-a"), bot.clock.now(), "help")
    await bot.service.conversation.accept([read])  # a channel that reads at intake
    await bot.store("u3", "psid-b|help")
    await bot.store("u4", "psid-a|nonsense words")
    assert await bot.service.conversation.process_inbox() == 4
    assert bot.reader.read_ids == ["u1", "u3", "u4"]
    answers = bot.chat.texts("psid-a")
    assert len(answers) == 3
    assert "Send Songs tells you" in answers[1]  # help, between status and the nonsense
    assert "Send Songs tells you" not in answers[0] + answers[2]
    assert len(bot.chat.texts("psid-b")) == 1
    assert bot.unfinished() == []


async def test_unreadable_and_nothing_to_answer_are_finished_unanswered(
    monkeypatch: pytest.MonkeyPatch, bot: Bot
) -> None:
    await bot.store("u1", "!")
    await bot.store("u2", "?")
    logs = record_logs(monkeypatch, conversation)
    await bot.service.conversation.process_inbox()
    assert bot.chat.sent == [] and bot.unfinished() == []
    [unreadable] = [e for e in logs if e["event"] == "update_unreadable"]
    assert unreadable["log_level"] == "warning" and unreadable["message_id"] == "u1"
    assert unreadable["reason"] == "chat.id is not an integer"
    assert [e["message_id"] for e in logs if e["event"] == "update_ignored"] == ["u2"]


async def test_without_a_reader_for_the_channel_the_row_is_finished_and_logged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bot = make_bot(readers=False)
    await bot.store("u1", "psid-a|help")
    logs = record_logs(monkeypatch, conversation)
    await bot.service.conversation.process_inbox()
    assert bot.chat.sent == [] and bot.unfinished() == []
    [error] = [e for e in logs if e["event"] == "update_reader_missing"]
    assert error["log_level"] == "error" and error["channel"] == CHANNEL


async def test_a_reader_bug_loses_nothing_the_update_is_read_again_later(
    monkeypatch: pytest.MonkeyPatch, bot: Bot
) -> None:
    await bot.store("u1", "boom")
    await bot.store("u2", "psid-b|help")
    logs = record_logs(monkeypatch, conversation)
    await bot.service.conversation.process_inbox()
    assert [e["event"] for e in logs if e["log_level"] == "error"] == ["update_read_failed"]
    assert bot.unfinished() == ["u1"]  # still there, leased
    assert len(bot.chat.texts("psid-b")) == 1  # nobody else waits on it
    assert await bot.service.conversation.process_inbox() == 0  # not before its lease ends
    stored, lease = bot.memory.inbox["u1"]
    fixed = replace(stored, unread="psid-a|help")  # as if the bug were fixed
    bot.memory.inbox["u1"] = (fixed, lease)
    bot.clock.advance(INBOX_LEASE.total_seconds())
    assert await bot.service.conversation.process_inbox() == 1
    assert "Send Songs tells you" in bot.chat.texts("psid-a")[0]
    assert bot.unfinished() == []


async def test_a_queue_named_update_is_read_then_handled(bot: Bot) -> None:
    await bot.store("u1", "psid-a|help")
    await bot.store("u2", "!")
    assert await bot.service.conversation.process_message("u1")
    assert "Send Songs tells you" in bot.chat.texts("psid-a")[0]
    assert await bot.service.conversation.process_message("u2")  # taken, and finished
    assert not await bot.service.conversation.process_message("u2")
    assert bot.unfinished() == []


class Reachabilities(ScriptedReader):
    """Reads `<person id>|blocked` or `<person id>|unblocked`."""

    async def read(self, stored: IncomingMessage) -> ReadUpdate:
        assert stored.unread is not None
        person, _, change = stored.unread.partition("|")
        return Reachability(at(person), reachable=change == "unblocked")


async def test_a_block_holds_and_an_unblock_delivers_what_was_held() -> None:
    bot = make_bot(Reachabilities())
    held = Outgoing("o-1", at("psid-a"), Reply("Alice: a song"), bot.clock.now())
    await bot.memory.add_outgoing([held])
    await bot.memory.hold_outgoing("o-1")
    await bot.store("u1", "psid-a|blocked")
    await bot.service.conversation.process_inbox()
    assert bot.chat.sent == [] and bot.unfinished() == []
    await bot.store("u2", "psid-a|unblocked")
    await bot.service.conversation.process_inbox()
    assert bot.chat.texts("psid-a") == ["Alice: a song"]
    assert bot.unfinished() == []
