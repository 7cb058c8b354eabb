"""`send_song`: look the track up, find the friend, store the share, deliver it."""

from __future__ import annotations

import dataclasses
import json
import secrets
from collections.abc import Sequence
from datetime import timedelta
from math import ceil

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
    Track,
)
from sendsongs.domain.schedule import Schedule
from sendsongs.errors import NotFound, RateLimited, ServiceError
from sendsongs.ports import Ports
from sendsongs.service.delivery import Delivery, Sent
from sendsongs.service.pauses import RATE_LIMIT_FLOOR, pause_source, paused_until

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
        if command.short_link is not None:
            resolved = await self._resolve(command.short_link)
            if isinstance(resolved, Reply):
                return resolved
            command = dataclasses.replace(command, track_id=resolved, short_link=None)
        friends = await self._recipients(command)
        if not friends:
            return replies.nobody_called(command.name)
        if len(friends) > 1:
            return await self._ask_which(message, command, friends)
        friend = friends[0]
        track = await self._look_up(command.track_id)
        if isinstance(track, Reply):
            return track
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
        outcome = await self._delivery.send(address, song, MessageKind.UPDATE, message.sender)
        if outcome.sent is Sent.HELD:
            return replies.share_waiting(friend, track, outcome.explanation, readable)
        return replies.share_sent(friend, track, readable)

    async def _resolve(self, short_link: tuple[str, str]) -> str | Reply:
        """The track id behind a short link, or the reply that says why not."""
        host, code = short_link
        try:
            return await self._ports.catalog.resolve_short_link(host, code)
        except NotFound:
            return replies.short_link_not_a_track(f"https://{host}/{code}")
        except ServiceError as error:
            log.warning("short_link_failed", error=str(error))
            return replies.music_unavailable()

    async def _look_up(self, track_id: str) -> Track | Reply:
        """The track, unless the catalog's source is paused for every caller (Spotify
        limits the app, not the person) or cannot answer."""
        catalog, pauses, now = (
            self._ports.catalog,
            self._ports.stores.pauses,
            self._ports.clock.now(),
        )
        paused = await paused_until(pauses, catalog.source, now)
        if paused is not None:
            return replies.music_paused(ceil((paused - now).total_seconds() / 60))
        try:
            return await catalog.track(track_id)
        except NotFound:
            return replies.unknown_track(track_id)
        except RateLimited as error:
            until = await pause_source(pauses, catalog.source, error, now, RATE_LIMIT_FLOOR)
            return replies.music_paused(ceil((until - now).total_seconds() / 60))
        except ServiceError as error:  # transient or not, the sender can only try later
            log.warning("track_lookup_failed", error=str(error))
            return replies.music_unavailable()

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
