"""`send_song`: look the track up, find the friend, store the share, deliver it."""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from datetime import timedelta

import structlog

from sendsongs.domain import replies
from sendsongs.domain.commands import SendSong
from sendsongs.domain.models import (
    Choice,
    IncomingMessage,
    MessageKind,
    Person,
    Reply,
    Share,
)
from sendsongs.domain.schedule import Schedule
from sendsongs.errors import NotFound, ServiceError
from sendsongs.ports import Ports
from sendsongs.service.delivery import Delivery, Sent

log = structlog.get_logger(__name__)

CHOICE_PREFIX = "c:"  # a button payload: the token of a Choice kept server-side
CHOICE_VALID = timedelta(hours=1)


class Sharing:
    def __init__(self, ports: Ports, delivery: Delivery, schedule: Schedule) -> None:
        self._ports, self._delivery, self._schedule = ports, delivery, schedule

    async def send_song(self, message: IncomingMessage, command: SendSong) -> Reply:
        people = self._ports.stores.people
        sender = await people.person_at(message.sender)
        if sender is None:
            return replies.not_registered()
        friends = await self._recipients(command)
        if not friends:
            return replies.nobody_called(command.name)
        if len(friends) > 1:
            return await self._ask_which(message, command, friends)
        friend = friends[0]
        try:
            track = await self._ports.catalog.track(command.track_id)
        except NotFound:
            return replies.unknown_track(command.track_id)
        except ServiceError as error:  # transient or not, the sender can only try later
            log.warning("track_lookup_failed", error=str(error))
            return replies.music_unavailable()
        address = await people.address_of(friend.id)
        if address is None:
            return replies.nobody_called(command.name)
        now = self._ports.clock.now()
        share = Share(
            # a redelivered message cannot share twice, and one message may share
            # with several people
            id=f"share:{message.id}:{friend.id}",
            sender_id=sender.id,
            recipient_id=friend.id,
            track=track,
            shared_at=now,
            next_check_at=self._schedule.first_check(now, track.duration_ms),
            pre=command.pre,
            post=command.post,
        )
        await self._ports.stores.shares.add_share(share)
        log.info("shared", share=share.id, recipient=friend.id, track=track.uri)
        connection = await people.get_connection(friend.id)
        readable = connection is not None and connection.readable
        song = replies.share_for_friend(sender.name, command.pre, track)
        outcome = await self._delivery.send(address, song, MessageKind.UPDATE)
        if outcome.sent is Sent.HELD:
            return replies.share_waiting(friend, track, outcome.explanation, readable)
        return replies.share_sent(friend, track, readable)

    async def _recipients(self, command: SendSong) -> list[Person]:
        if command.recipient_id is None:
            return await self._ports.stores.people.find_people(command.name)
        person = await self._ports.stores.people.get_person(command.recipient_id)
        return [] if person is None else [person]

    async def _ask_which(
        self, message: IncomingMessage, command: SendSong, friends: Sequence[Person]
    ) -> Reply:
        """Namesakes: one button each, carrying only a short server-side token."""
        expires_at = self._ports.clock.now() + CHOICE_VALID
        payloads = []
        for friend in friends:
            token = secrets.token_urlsafe(12)
            fields = {
                "name": command.name,
                "track_id": command.track_id,
                "pre": command.pre,
                "post": command.post,
                "recipient_id": friend.id,
            }
            await self._ports.stores.secrets.save_choice(
                Choice(token, message.sender, json.dumps(fields), expires_at)
            )
            payloads.append(CHOICE_PREFIX + token)
        return replies.which_one(command.name, friends, payloads)


async def read_choice(ports: Ports, message: IncomingMessage) -> SendSong | Reply | None:
    """The command behind a pressed button; a Reply if it is spent or not theirs;
    None if the payload is not one of ours."""
    payload = message.payload or ""
    if not payload.startswith(CHOICE_PREFIX):
        return None
    token = payload.removeprefix(CHOICE_PREFIX)
    choice = await ports.stores.secrets.take_choice(token, ports.clock.now())
    if choice is None:
        return replies.choice_expired()
    if choice.address != message.sender:
        await ports.stores.secrets.save_choice(choice)  # still the asker's to use
        return replies.choice_expired()
    fields = json.loads(choice.payload)
    return SendSong(
        name=str(fields["name"]),
        track_id=str(fields["track_id"]),
        pre=fields.get("pre"),
        post=fields.get("post"),
        recipient_id=str(fields["recipient_id"]),
    )
