"""Groups: create, add, remove, leave, delete, list. The owner manages a group; a
member may leave it; each change a person did not make is told to them."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sendsongs.domain import group_replies as said
from sendsongs.domain import replies
from sendsongs.domain.commands import (
    AddToGroup,
    CreateGroup,
    DeleteGroup,
    LeaveGroup,
    RemoveFromGroup,
)
from sendsongs.domain.models import Group, IncomingMessage, MessageKind, Person, Reply
from sendsongs.domain.names import fold
from sendsongs.ports import Ports
from sendsongs.service import choices, namesakes
from sendsongs.service.delivery import Delivery

SIMILAR = 4  # close names offered as buttons


class Groups:
    def __init__(self, ports: Ports, delivery: Delivery) -> None:
        self._ports, self._delivery = ports, delivery

    async def create(self, message: IncomingMessage, command: CreateGroup) -> Reply:
        owner = await self._ports.stores.people.person_at(message.sender)
        if owner is None:
            return replies.not_registered()
        group = Group(uuid.uuid4().hex, owner.id, command.name, self._ports.clock.now())
        if not await self._ports.stores.groups.create_group(group):
            return said.already_have(command.name)
        return said.created(command.name)

    async def add(self, message: IncomingMessage, command: AddToGroup) -> Reply:
        owner = await self._ports.stores.people.person_at(message.sender)
        if owner is None:
            return replies.not_registered()
        group = await self._owned(owner, command.group)
        if isinstance(group, Reply):
            return group
        found = await self._person_for(message, command, owner.id)
        if isinstance(found, Reply):
            return found
        if found.id == owner.id:
            return said.owner_is_in(group.name)
        if not await self._ports.stores.groups.add_member(group.id, found.id):
            return said.already_member(found.name, group.name)
        await self._tell(found.id, said.you_were_added(owner.name, group.name))
        return said.added(found.name, group.name, len(group.members) + 2)

    async def remove(self, message: IncomingMessage, command: RemoveFromGroup) -> Reply:
        owner = await self._ports.stores.people.person_at(message.sender)
        if owner is None:
            return replies.not_registered()
        group = await self._owned(owner, command.group)
        if isinstance(group, Reply):
            return group
        members = [p for p in await self._people(group.members) if _same(p.name, command.name)]
        if not members:
            names = [p.name for p in await self._people(group.members)]
            return said.not_a_member(command.name, group.name, names)
        for member in members:  # namesakes in one group: both go, and both are told
            await self._ports.stores.groups.remove_member(group.id, member.id)
            await self._tell(member.id, said.you_were_removed(owner.name, group.name))
        return said.removed(members[0].name, group.name)

    async def leave(self, message: IncomingMessage, command: LeaveGroup) -> Reply:
        person = await self._ports.stores.people.person_at(message.sender)
        if person is None:
            return replies.not_registered()
        named = await self.named(person, command.group)
        joined = [g for g in named if g.owner_id != person.id]
        if not joined:
            if named:
                return said.owner_cannot_leave(named[0].name)
            return said.not_in_group(command.group)
        for group in joined:
            await self._ports.stores.groups.remove_member(group.id, person.id)
            await self._tell(group.owner_id, said.member_left(person.name, group.name))
        owner = await self._ports.stores.people.get_person(joined[0].owner_id)
        return said.left(joined[0].name, owner.name if owner else "its owner")

    async def delete(self, message: IncomingMessage, command: DeleteGroup) -> Reply:
        owner = await self._ports.stores.people.person_at(message.sender)
        if owner is None:
            return replies.not_registered()
        group = await self._owned(owner, command.group)
        if isinstance(group, Reply):
            return group
        await self._ports.stores.groups.delete_group(group.id)
        for member in group.members:
            await self._tell(member, said.group_deleted(owner.name, group.name))
        return said.deleted(group.name)

    async def list_groups(self, message: IncomingMessage) -> Reply:
        person = await self._ports.stores.people.person_at(message.sender)
        if person is None:
            return replies.not_registered()
        lines = []
        for group in await self._ports.stores.groups.groups_of(person.id):
            people = await self._people((group.owner_id, *group.members))
            told = await namesakes.labels(self._ports, person.id, people)
            names = ["you" if p.id == person.id else told[p.id] for p in people]
            owner = None if group.owner_id == person.id else people[0].name if people else "?"
            lines.append(said.group_line(group.name, names, owner))
        return said.your_groups(lines)

    async def named(self, person: Person, name: str) -> list[Group]:
        """The person's groups (owned first, then joined) called `name`."""
        mine = [
            g
            for g in await self._ports.stores.groups.groups_of(person.id)
            if g.name.casefold() == " ".join(name.casefold().split())
        ]
        return sorted(mine, key=lambda g: g.owner_id != person.id)

    async def _owned(self, owner: Person, name: str) -> Group | Reply:
        """The owner's group called `name`, or the refusal that says why not."""
        named = await self.named(owner, name)
        if named and named[0].owner_id == owner.id:
            return named[0]
        if named:  # someone else's group: only its owner manages it
            other = await self._ports.stores.people.get_person(named[0].owner_id)
            return said.not_the_owner(named[0].name, other.name if other else "its owner")
        return said.unknown_group(name, await self._names_of_groups(owner))

    async def _person_for(
        self, message: IncomingMessage, command: AddToGroup, owner_id: str
    ) -> Person | Reply:
        people = self._ports.stores.people
        if command.person_id is not None:
            picked = await people.get_person(command.person_id)
            return picked if picked is not None else replies.choice_expired("add_to_group")
        found = await namesakes.find_people(self._ports, command.name)
        if len(found) == 1:
            return found[0]
        candidates = (found or await people.find_similar(command.name, SIMILAR))[:SIMILAR]
        if not candidates:
            return replies.nobody_called(command.name)
        picks = [AddToGroup(command.group, p.name, person_id=p.id) for p in candidates]
        payloads = await choices.offer(self._ports, message.sender, picks)
        hints = await namesakes.namesakes(self._ports, owner_id, candidates)
        if found:  # namesakes: told apart as send_song does
            return replies.which_one(command.name, hints, payloads)
        return replies.did_you_mean(command.name, hints, payloads)

    async def _names_of_groups(self, person: Person) -> list[str]:
        return [g.name for g in await self._ports.stores.groups.groups_of(person.id)]

    async def _people(self, person_ids: Sequence[str]) -> list[Person]:
        people = [await self._ports.stores.people.get_person(pid) for pid in person_ids]
        return [p for p in people if p is not None]

    async def _tell(self, person_id: str, reply: Reply) -> None:
        address = await self._ports.stores.people.address_of(person_id)
        if address is not None:
            await self._delivery.send(address, reply, MessageKind.UPDATE)


def _same(a: str, b: str) -> bool:
    return fold(a) == fold(b)
