"""`send_song`: look the track up, find the friend (or the group), store the shares,
deliver them. One message makes one share per recipient."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from math import ceil

import structlog

from sendsongs.domain import group_replies, replies
from sendsongs.domain.commands import SendSong
from sendsongs.domain.matching import is_same_track
from sendsongs.domain.models import (
    Group,
    IncomingMessage,
    MessageKind,
    Person,
    Reply,
    Share,
    Track,
)
from sendsongs.domain.schedule import Schedule
from sendsongs.errors import NotATrack, NotFound, RateLimited, ServiceError
from sendsongs.ports import Ports
from sendsongs.service import choices, namesakes
from sendsongs.service.delivery import Delivery, Sent
from sendsongs.service.groups import SIMILAR, Groups
from sendsongs.service.limits import Quotas, over_limit, share_key
from sendsongs.service.pauses import RATE_LIMIT_FLOOR, pause_source, paused_until

log = structlog.get_logger(__name__)

CHOICE_PREFIX = choices.CHOICE_PREFIX


@dataclass(frozen=True)
class _Shared:
    """One recipient's share, as it went."""

    friend: Person
    share: Share | None  # None: they already had this song from the sender, unplayed
    held: str | None = None  # why it could not be delivered yet
    readable: bool = True
    earlier: Share | None = None  # the pending share of the same recording, if any

    @property
    def waiting(self) -> bool:
        """Already pending, but that earlier share never reached them."""
        return self.earlier is not None and self.earlier.delivered_at is None


class Sharing:
    def __init__(
        self,
        ports: Ports,
        delivery: Delivery,
        schedule: Schedule,
        groups: Groups,
        quotas: Quotas,
    ) -> None:
        self._ports, self._delivery, self._schedule = ports, delivery, schedule
        self._groups, self._quotas = groups, quotas

    async def send_song(self, message: IncomingMessage, command: SendSong) -> Reply:
        sender = await self._ports.stores.people.person_at(message.sender)
        if sender is None:
            return replies.not_registered()
        if command.short_link is not None:
            resolved = await self._resolve(command.short_link)
            if isinstance(resolved, Reply):
                return resolved
            command = dataclasses.replace(command, track_id=resolved, short_link=None)
        if command.group is not None or command.group_id is not None:
            return await self._to_group(message, sender, command)
        friend = await self._friend(message, sender, command)
        if isinstance(friend, Reply):
            return friend
        track = await self._within_limit(sender) or await self._look_up(command.track_id)
        if isinstance(track, Reply):
            return track
        shared = await self._share_with(message, sender, friend, track, command, None)
        if shared.earlier is not None:
            return replies.already_pending(friend, shared.earlier.track, shared.waiting)
        if shared.held is not None:
            return replies.share_waiting(friend, track, shared.held, shared.readable)
        return replies.share_sent(friend, track, shared.readable)

    async def _friend(
        self, message: IncomingMessage, sender: Person, command: SendSong
    ) -> Person | Reply:
        """The one friend meant, or the reply that asks or says why not."""
        people = self._ports.stores.people
        if command.recipient_id is not None:
            picked = await people.get_person(command.recipient_id)
            return picked if picked is not None else replies.nobody_called(command.name)
        found = await namesakes.find_people(self._ports, command.name)
        others = [p for p in found if p.id != sender.id]
        if found and not others:
            return replies.not_to_yourself(sender.name)
        if len(others) == 1:
            return others[0]
        if others:
            return await self._ask_which(message, sender, command, others)
        similar = [
            p for p in await people.find_similar(command.name, SIMILAR + 1) if p.id != sender.id
        ]
        if not similar:
            return replies.nobody_called(command.name)
        picks = [
            dataclasses.replace(command, name=p.name, recipient_id=p.id) for p in similar[:SIMILAR]
        ]
        payloads = await choices.offer(self._ports, message.sender, picks)
        hints = await namesakes.namesakes(self._ports, sender.id, similar[:SIMILAR])
        return replies.did_you_mean(command.name, hints, payloads)

    async def _share_with(
        self,
        message: IncomingMessage,
        sender: Person,
        friend: Person,
        track: Track,
        command: SendSong,
        group: Group | None,
    ) -> _Shared:
        """Store and deliver one recipient's share (unless they have it pending)."""
        stores = self._ports.stores
        # a redelivered message cannot share twice, and one message may share
        # with several people
        share_id = f"share:{message.id}:{friend.id}"
        for pending in await stores.shares.pending_shares(friend.id):
            if (
                pending.sender_id == sender.id
                and pending.id != share_id
                and is_same_track(pending.track, track)
            ):
                return _Shared(friend, None, earlier=pending)
        now = self._ports.clock.now()
        share = Share(
            id=share_id,
            sender_id=sender.id,
            recipient_id=friend.id,
            track=track,
            shared_at=now,
            next_check_at=self._schedule.first_check(now, track.duration_ms),
            pre=command.pre,
            post=command.post,
            group_send=None if group is None else message.id,
            group_name=None if group is None else group.name,
        )
        await stores.shares.add_share(share)
        log.info("shared", share=share.id, recipient=friend.id, track=track.uri)
        connection = await stores.people.get_connection(friend.id)
        readable = connection is not None and connection.readable
        address = await stores.people.address_of(friend.id)
        if address is None:
            return _Shared(friend, share, "I have no way to reach them", readable)
        song = replies.share_for_friend(sender.name, command.pre, track)
        outcome = await self._delivery.send(
            address, song, MessageKind.UPDATE, message.sender, share_id=share.id
        )
        if outcome.sent in (Sent.HELD, Sent.QUEUED):  # "Sent" only when it arrived
            return _Shared(friend, share, outcome.explanation, readable)
        if outcome.sent is Sent.DELIVERED:
            await stores.shares.mark_delivered(share.id, self._ports.clock.now())
        return _Shared(friend, share, None, readable)

    async def _to_group(self, message: IncomingMessage, sender: Person, command: SendSong) -> Reply:
        group = await self._group(message, sender, command)
        if isinstance(group, Reply):
            return group
        people = self._ports.stores.people
        members = [await people.get_person(pid) for pid in (group.owner_id, *group.members)]
        friends = [p for p in members if p is not None and p.id != sender.id]
        if not friends:
            return group_replies.empty_group(group.name)
        track = await self._within_limit(sender) or await self._look_up(command.track_id)
        if isinstance(track, Reply):
            return track
        outcomes = [
            await self._share_with(message, sender, friend, track, command, group)
            for friend in friends
        ]
        told = await namesakes.labels(self._ports, sender.id, friends)
        fresh = [o for o in outcomes if o.share is not None]
        had = [told[o.friend.id] for o in outcomes if o.earlier is not None and not o.waiting]
        waiting = [told[o.friend.id] for o in outcomes if o.waiting]
        if not fresh:
            return group_replies.all_pending(group.name, track, had, waiting)
        return group_replies.group_sent(
            group.name,
            track,
            delivered=[told[o.friend.id] for o in fresh if o.held is None],
            held=[(told[o.friend.id], o.held) for o in fresh if o.held is not None],
            unreadable=[told[o.friend.id] for o in fresh if not o.readable],
            pending=had,
            waiting=waiting,
        )

    async def _group(
        self, message: IncomingMessage, sender: Person, command: SendSong
    ) -> Group | Reply:
        """The group meant: only its owner and members may send to it."""
        name = command.group or ""
        if command.group_id is not None:
            picked = await self._ports.stores.groups.get_group(command.group_id)
            if picked is None or not picked.includes(sender.id):
                return group_replies.not_in_group(name)
            return picked
        named = await self._groups.named(sender, name)
        if not named:
            return group_replies.unknown_group(
                name, [g.name for g in await self._ports.stores.groups.groups_of(sender.id)]
            )
        if len(named) == 1 or named[0].owner_id == sender.id:
            return named[0]
        # several friends made a group by this name and the sender is in each
        picks = [dataclasses.replace(command, group_id=g.id) for g in named[:SIMILAR]]
        payloads = await choices.offer(self._ports, message.sender, picks)
        owners = [await self._ports.stores.people.get_person(g.owner_id) for g in named]
        return replies.which_group(name, [o.name if o else "?" for o in owners[:SIMILAR]], payloads)

    async def _within_limit(self, sender: Person) -> Reply | None:
        """Counted before the look-up, which is what spends the app's Spotify quota;
        a group send counts once. None: go ahead."""
        return await over_limit(self._ports, share_key(sender.id), self._quotas.shares, "songs")

    async def _resolve(self, short_link: tuple[str, str]) -> str | Reply:
        """The track id behind a short link, or the reply that says why not."""
        host, code = short_link
        try:
            return await self._ports.catalog.resolve_short_link(host, code)
        except NotATrack:
            return replies.short_link_not_a_track(f"https://{host}/{code}")
        except NotFound:
            return replies.short_link_dead(f"https://{host}/{code}")
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

    async def _ask_which(
        self,
        message: IncomingMessage,
        sender: Person,
        command: SendSong,
        friends: Sequence[Person],
    ) -> Reply:
        """Namesakes: one button each, told apart by channel, date and history."""
        hints = await namesakes.namesakes(self._ports, sender.id, friends)
        picks = [dataclasses.replace(command, recipient_id=p.id) for p in friends]
        payloads = await choices.offer(self._ports, message.sender, picks)
        return replies.which_one(command.name, hints, payloads)
