"""Use cases of Send Songs over the ports: one method per thing a person or timer does."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from datetime import timedelta

import structlog

from sendsongs.delivery import Delivery, Sent
from sendsongs.domain import replies
from sendsongs.domain.commands import (
    Command,
    CommandError,
    Help,
    Register,
    RegisterWithCode,
    SendSong,
    parse,
)
from sendsongs.domain.links import find_track_id
from sendsongs.domain.models import IncomingMessage, MessageKind, Person, Reply, Share
from sendsongs.domain.schedule import Schedule
from sendsongs.errors import NotFound, ServiceError
from sendsongs.listen_checks import ListenChecks
from sendsongs.login import Login
from sendsongs.ports import Ports
from sendsongs.signing import Signer

log = structlog.get_logger(__name__)

INBOX_LEASE = timedelta(seconds=60)
INBOX_MEMORY = timedelta(days=7)  # handled message ids are kept this long to drop redeliveries
PICK_PREFIX = "pick:"  # quick-reply payload: a SendSong with the chosen recipient


class Service:
    """Every runtime (serve, demo, Lambda) drives the bot through this one class."""

    def __init__(self, ports: Ports, *, schedule: Schedule, signer: Signer, public_url: str):
        self.ports = ports
        self.schedule = schedule
        self.delivery = Delivery(ports.store, ports.chat, ports.clock)
        self.login = Login(ports, self.delivery, signer, public_url)
        self.checks = ListenChecks(ports, self.delivery, schedule)

    # -- the webhook side: store first, handle later --
    async def accept(self, messages: list[IncomingMessage]) -> int:
        """Durably store incoming messages; returns how many were new."""
        added = 0
        for message in messages:
            added += await self.ports.store.add_incoming(message)
        return added

    async def process_inbox(self, limit: int = 20) -> int:
        """Handle stored messages; each is finished even if handling fails, so one
        poisoned message cannot block the queue (the person is told)."""
        now = self.ports.clock.now()
        messages = await self.ports.store.claim_incoming(now, now + INBOX_LEASE, limit)
        by_sender: dict[str, list[IncomingMessage]] = defaultdict(list)
        for message in messages:
            by_sender[message.sender_id].append(message)
        # people are served side by side (one slow Spotify lookup holds up nobody
        # else); each person's own messages stay in the order they were written
        await asyncio.gather(*(self._handle_in_order(queue) for queue in by_sender.values()))
        return len(messages)

    async def _handle_in_order(self, messages: list[IncomingMessage]) -> None:
        for message in messages:
            try:
                await self.handle(message)
            except Exception:
                log.exception("message_failed", message_id=message.id)
                await self._reply(message, replies.internal_error())
            await self.ports.store.finish_incoming(message.id)

    async def housekeeping(self) -> int:
        """Forget long-handled messages and dead sign-up secrets; returns how many."""
        now = self.ports.clock.now()
        removed = await self.ports.store.purge(now - INBOX_MEMORY, now)
        if removed:
            log.info("purged", rows=removed)
        return removed

    async def handle(self, message: IncomingMessage) -> None:
        """One message from a person: answer it."""
        # a message from the person reopens Messenger's 24-hour window
        if await self.ports.store.release_held(message.sender_id):
            await self.delivery.deliver_outbox()
        command = _read(message)
        if isinstance(command, Reply):
            await self._reply(message, command)
        else:
            await self._dispatch(message, command)

    async def _dispatch(self, message: IncomingMessage, command: Command) -> None:
        log.info("command", kind=type(command).__name__, person=message.sender_id)
        match command:
            case Help():
                reply = replies.help_text()
            case Register():
                reply = await self.login.chat_link(message.sender_id, command.name)
            case RegisterWithCode():
                reply = await self.login.redeem_code(message.sender_id, command)
            case SendSong():
                reply = await self.send_song(message, command)
        await self._reply(message, reply)

    # -- sharing --
    async def send_song(self, message: IncomingMessage, command: SendSong) -> Reply:
        store = self.ports.store
        sender = await store.get_person(message.sender_id)
        if sender is None:
            return replies.not_registered()
        friends = await self._recipients(command)
        if not friends:
            return replies.nobody_called(command.name)
        if len(friends) > 1:
            payloads = [_pack_pick(command, friend) for friend in friends]
            return replies.which_one(command.name, friends, payloads)
        friend = friends[0]
        try:
            track = await self.ports.music.track(command.track_id)
        except NotFound:
            return replies.unknown_track(command.track_id)
        except ServiceError as error:  # transient or not, the sender can only try later
            log.warning("track_lookup_failed", error=str(error))
            return replies.music_unavailable()
        now = self.ports.clock.now()
        share = Share(
            id=f"share:{message.id}",  # a redelivered message cannot share twice
            sender_id=sender.id,
            recipient_id=friend.id,
            track=track,
            shared_at=now,
            next_check_at=self.schedule.first_check(now, track.duration_ms),
            pre=command.pre,
            post=command.post,
        )
        await store.add_share(share)
        log.info("shared", share=share.id, recipient=friend.id, track=track.uri)
        song = replies.share_for_friend(sender.name, command.pre, track)
        if await self.delivery.send(friend.id, song, MessageKind.UPDATE) is Sent.HELD:
            return replies.share_waiting(friend, track)
        return replies.share_sent(friend, track)

    async def _recipients(self, command: SendSong) -> list[Person]:
        if command.recipient_id is None:
            return await self.ports.store.find_people(command.name)
        person = await self.ports.store.get_person(command.recipient_id)
        # a pick must still match the typed name: payloads are not trusted blindly
        if person is None or person.name.casefold() != command.name.casefold():
            return []
        return [person]

    async def _reply(self, message: IncomingMessage, reply: Reply) -> None:
        await self.delivery.send(message.sender_id, reply, MessageKind.RESPONSE)


def _read(message: IncomingMessage) -> Command | Reply:
    """The command in a message, or the reply that says what is wrong with it."""
    if message.payload and (pick := _unpack_pick(message.payload)):
        return pick
    # a quick reply or button we don't know is read by its visible text
    text = message.text.strip()
    if not text:
        return replies.only_text(any(find_track_id(url) for url in message.attachments))
    try:
        return parse(text)
    except CommandError as error:
        return Reply(str(error))


def _pack_pick(command: SendSong, friend: Person) -> str:
    fields = {
        "name": command.name,
        "track_id": command.track_id,
        "pre": command.pre,
        "post": command.post,
        "recipient_id": friend.id,
    }
    return PICK_PREFIX + json.dumps(fields, separators=(",", ":"), ensure_ascii=False)


def _unpack_pick(payload: str) -> SendSong | None:
    if not payload.startswith(PICK_PREFIX):
        return None
    try:
        fields = json.loads(payload.removeprefix(PICK_PREFIX))
        return SendSong(
            name=str(fields["name"]),
            track_id=str(fields["track_id"]),
            pre=fields.get("pre"),
            post=fields.get("post"),
            recipient_id=str(fields["recipient_id"]),
        )
    except (ValueError, TypeError, KeyError, AttributeError):
        return None
