"""The chat side: store incoming messages first, then read and answer them."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from datetime import timedelta

import structlog

from sendsongs.domain import replies
from sendsongs.domain.commands import (
    MAX_NAME,
    AddToGroup,
    Cancel,
    Command,
    CommandError,
    CreateGroup,
    DeleteGroup,
    ForgetMe,
    Help,
    LeaveGroup,
    ListGroups,
    Register,
    RegisterUserName,
    RegisterWithCode,
    RemoveFromGroup,
    SendSong,
    Status,
    UnknownCommand,
    Yes,
    parse,
    shared_link,
)
from sendsongs.domain.models import (
    Address,
    IncomingMessage,
    MessageKind,
    Reachability,
    Reply,
)
from sendsongs.errors import UnreadableUpdate
from sendsongs.ports import Ports
from sendsongs.service import namesakes
from sendsongs.service.choices import read_choice
from sendsongs.service.delivery import Delivery
from sendsongs.service.forgetting import Forgetting
from sendsongs.service.groups import Groups
from sendsongs.service.name_registration import NameRegistration
from sendsongs.service.overview import Overview
from sendsongs.service.registration import Registration
from sendsongs.service.sharing import Sharing

log = structlog.get_logger(__name__)

INBOX_LEASE = timedelta(seconds=60)
BROKEN_CHARACTER = "\ufffd"  # what a channel puts where the text arrived broken

_Item = tuple[str, IncomingMessage | Reachability]  # an inbox row's id, and what it means


def _address(meaning: IncomingMessage | Reachability) -> Address:
    return meaning.address if isinstance(meaning, Reachability) else meaning.sender


class Conversation:
    def __init__(
        self,
        ports: Ports,
        delivery: Delivery,
        registration: Registration,
        name_registration: NameRegistration,
        sharing: Sharing,
        groups: Groups,
        overview: Overview,
        forgetting: Forgetting,
    ) -> None:
        self._ports, self._delivery = ports, delivery
        self._registration, self._sharing = registration, sharing
        self._groups, self._overview = groups, overview
        self._name_registration = name_registration
        self._forgetting = forgetting

    async def accept(self, messages: Sequence[IncomingMessage]) -> int:
        """Durably store incoming messages; returns how many were new."""
        if not messages:
            return 0
        return await self._ports.stores.inbox.add_incoming(messages)

    async def reachable_again(self, address: Address) -> int:
        """The channel says the person can be written to again (they unblocked the
        bot): what was held for them becomes deliverable; returns how many."""
        released = await self._ports.stores.outbox.release_held(address)
        log.info("address_reachable_again", address=str(address), released=released)
        return released

    async def process_inbox(self, limit: int = 20) -> int:
        """Handle stored messages; each is finished even if handling fails, so one
        poisoned message cannot block the queue (the person is told)."""
        now = self._ports.clock.now()
        inbox = self._ports.stores.inbox
        messages = await inbox.claim_incoming(now, now + INBOX_LEASE, limit)
        # read first: who sent an update stored unread is known only then
        read = await asyncio.gather(*(self._read_update(message) for message in messages))
        by_sender: dict[str, list[_Item]] = defaultdict(list)
        for message, meaning in zip(messages, read, strict=True):
            if meaning is not None:
                by_sender[str(_address(meaning))].append((message.id, meaning))
        # people are served side by side (one slow look-up holds up nobody else);
        # each person's own messages stay in the order they were written
        await asyncio.gather(*(self._handle_in_order(queue) for queue in by_sender.values()))
        return len(messages)

    async def process_message(self, message_id: str) -> bool:
        """Handle one stored message a queue named; False if it was handled already
        (a redelivery), is unknown, or is in another worker's hands."""
        now = self._ports.clock.now()
        message = await self._ports.stores.inbox.claim_message(message_id, now, now + INBOX_LEASE)
        if message is None:
            return False
        meaning = await self._read_update(message)
        if meaning is not None:
            await self._handle_in_order([(message.id, meaning)])
        return True

    async def stale_messages(
        self, older_than: timedelta, limit: int = 100
    ) -> list[IncomingMessage]:
        """Unhandled messages nobody has held for `older_than` (on DynamoDB, where
        arrival counts as the first lease: waiting that long since arrival), whose
        hand-over to a queue was lost. Their leases end now, so whoever they are handed
        to takes them; handing one over twice is harmless (claim_message)."""
        now = self._ports.clock.now()
        return await self._ports.stores.inbox.claim_incoming(now - older_than, now, limit)

    async def _read_update(self, stored: IncomingMessage) -> IncomingMessage | Reachability | None:
        """What a claimed row means, read by its channel's UpdateReader if it was
        stored unread. None when there is nothing to do: the row is finished (an
        update with nothing to answer, or unreadable), or left for a later try (the
        reader failed unexpectedly: the update stays stored, and is claimed again
        once its lease runs out)."""
        if stored.unread is None:
            return stored
        channel = stored.sender.channel
        reader = self._ports.readers.get(channel)
        if reader is None:
            log.error("update_reader_missing", channel=channel, message_id=stored.id)
            await self._ports.stores.inbox.finish_incoming(stored.id)
            return None
        try:
            meaning = await reader.read(stored)
        except UnreadableUpdate as error:
            log.warning("update_unreadable", message_id=stored.id, reason=str(error))
            await self._ports.stores.inbox.finish_incoming(stored.id)
            return None
        except Exception:
            log.exception("update_read_failed", message_id=stored.id)
            return None
        if meaning is None:
            log.info("update_ignored", message_id=stored.id)
            await self._ports.stores.inbox.finish_incoming(stored.id)
        return meaning

    async def _handle_in_order(self, items: list[_Item]) -> None:
        for row_id, meaning in items:
            try:
                if isinstance(meaning, Reachability):
                    await self._reachability(meaning)
                else:
                    await self.handle(meaning)
            except Exception:
                log.exception("message_failed", message_id=row_id)
                if isinstance(meaning, IncomingMessage):
                    await self._reply(meaning, replies.internal_error())
            await self._ports.stores.inbox.finish_incoming(row_id)

    async def _reachability(self, change: Reachability) -> None:
        """A block is only noted; an unblock releases what was held (a send that
        fails now is retried by the outbox as any other)."""
        if not change.reachable:
            # nothing to do: each message to them is refused and held until they
            # unblock, which the channel announces with the opposite update
            log.info("address_blocked_bot", address=str(change.address))
            return
        if await self.reachable_again(change.address):
            await self._delivery.deliver_outbox()

    async def handle(self, message: IncomingMessage) -> None:
        """One message from a person: answer it."""
        # a message from the person reopens the channel's window for what was held
        if await self._ports.stores.outbox.release_held(message.sender):
            await self._delivery.deliver_outbox()
        if message.edited:
            await self._reply(message, replies.edit_not_followed())
            return
        command = await self._read(message)
        if isinstance(command, Reply):
            await self._reply(message, command)
        else:
            await self._reply(message, await self._dispatch(message, command))

    async def _read(self, message: IncomingMessage) -> Command | Reply:
        """The command in a message, or the reply that says what is wrong with it."""
        choice = await read_choice(self._ports, message)
        if choice is not None:
            return choice
        # a quick reply or button we don't know is read by its visible text
        text = message.text.strip()
        # a song shared from an app arrives as an attachment (maybe wrapped in a
        # redirector), often with its title as the text
        attached = next(filter(None, map(shared_link, message.attachments)), None)
        if not text:
            return replies.only_text(attached)
        if BROKEN_CHARACTER in text:
            return replies.broken_text()
        try:
            return parse(text)
        except UnknownCommand as error:
            if attached is None and (named := await self._someone_named(text)) is not None:
                return replies.send_to_whom(named)
            if attached is None or shared_link(text) is not None:
                return Reply(str(error))
        except CommandError as error:
            if attached is None or shared_link(text) is not None:
                return Reply(str(error))
        try:  # the command was written around the attached song: read them together
            command = parse(f"{text} {attached}")
        except CommandError:
            return replies.only_text(attached)
        return command if isinstance(command, SendSong) else replies.only_text(attached)

    async def _someone_named(self, text: str) -> str | None:
        """The name of a known person when the whole message is just that name."""
        if len(text) > MAX_NAME:
            return None
        found = await namesakes.find_people(self._ports, text)
        return found[0].name if found else None

    async def _dispatch(self, message: IncomingMessage, command: Command) -> Reply:
        log.info("command", kind=type(command).__name__, address=str(message.sender))
        match command:
            case Help():
                return await self._help(message)
            case Register():
                return await self._registration.chat_link(
                    message.sender, command.name, message.profile_name
                )
            case RegisterWithCode():
                return await self._registration.redeem_code(message.sender, command)
            case RegisterUserName():
                return await self._name_registration.register(
                    message.sender, command, message.profile_name
                )
            case SendSong():
                return await self._sharing.send_song(message, command)
            case CreateGroup():
                return await self._groups.create(message, command)
            case AddToGroup():
                return await self._groups.add(message, command)
            case RemoveFromGroup():
                return await self._groups.remove(message, command)
            case LeaveGroup():
                return await self._groups.leave(message, command)
            case DeleteGroup():
                return await self._groups.delete(message, command)
            case ListGroups():
                return await self._groups.list_groups(message)
            case Status():
                return await self._overview.status(message)
            case Cancel():
                return await self._overview.cancel(message, command)
            case ForgetMe():
                if command.confirmed:  # the button under the question
                    return await self._forgetting.confirmed(message)
                return await self._forgetting.ask(message.sender)
            case Yes():
                return await self._forgetting.confirm(message)

    async def _help(self, message: IncomingMessage) -> Reply:
        """What the bot understands, with the sources it offers and the one in use."""
        people = self._ports.stores.people
        person = await people.person_at(message.sender)
        connection = await people.get_connection(person.id) if person else None
        current = connection.source if connection else None
        return replies.help_text(self._name_registration.offered, current)

    async def _reply(self, message: IncomingMessage, reply: Reply) -> None:
        await self._delivery.send(message.sender, reply, MessageKind.RESPONSE)
