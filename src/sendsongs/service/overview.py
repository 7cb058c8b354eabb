"""`status` and `cancel`: where a person's shares stand, and stopping one."""

from __future__ import annotations

from collections.abc import Sequence

from sendsongs.domain import replies
from sendsongs.domain import status_replies as said
from sendsongs.domain.commands import Cancel
from sendsongs.domain.models import IncomingMessage, Reply, Share, ShareStatus
from sendsongs.ports import Ports
from sendsongs.service import choices

RECENT_SHARES = 60  # rows read: a group send takes one per member
SHOWN = 8  # sends listed by status
OFFERED = 4  # other pending sends offered as buttons by cancel


class Overview:
    def __init__(self, ports: Ports) -> None:
        self._ports = ports

    async def status(self, message: IncomingMessage) -> Reply:
        stores, now = self._ports.stores, self._ports.clock.now()
        person = await stores.people.person_at(message.sender)
        if person is None:
            return replies.not_registered()
        sent = []
        for shares in (await self._sends(person.id))[:SHOWN]:
            if shares[0].group_send is not None:
                sent.append(said.group_line(shares, now))
            else:
                sent.append(
                    said.share_line(shares[0], await self._name(shares[0].recipient_id), now)
                )
        waiting = await stores.shares.pending_shares(person.id)
        received = [
            said.received_line(share, await self._name(share.sender_id), now)
            for share in reversed(waiting)
        ]
        return said.status(sent, received)

    async def cancel(self, message: IncomingMessage, command: Cancel) -> Reply:
        person = await self._ports.stores.people.person_at(message.sender)
        if person is None:
            return replies.not_registered()
        pending = [
            shares
            for shares in await self._sends(person.id)
            if any(s.status is ShareStatus.PENDING for s in shares)
        ]
        if command.send_key is None:
            if not pending:
                return said.nothing_to_cancel()
            chosen = pending[0]
        else:
            picked = [shares for shares in pending if shares[0].send_key == command.send_key]
            if not picked:
                return said.cancel_gone()
            chosen = picked[0]
        now = self._ports.clock.now()
        for share in chosen:
            await self._ports.stores.shares.cancel_share(share.id, now)
        others = [shares for shares in pending if shares is not chosen][:OFFERED]
        payloads = await choices.offer(
            self._ports, message.sender, [Cancel(shares[0].send_key) for shares in others]
        )
        titles = [await self._title(shares) for shares in others]
        return said.cancelled(
            chosen[0].track, await self._to(chosen), list(zip(titles, payloads, strict=True))
        )

    async def _sends(self, person_id: str) -> list[list[Share]]:
        """The person's recent sends, newest first: a group send's shares together."""
        sends: dict[str, list[Share]] = {}
        for share in await self._ports.stores.shares.shares_sent_by(person_id, RECENT_SHARES):
            sends.setdefault(share.send_key, []).append(share)
        return list(sends.values())

    async def _to(self, shares: Sequence[Share]) -> str:
        first = shares[0]
        if first.group_send is not None:
            return first.group_name or "the group"
        return await self._name(first.recipient_id)

    async def _title(self, shares: Sequence[Share]) -> str:
        return f"{shares[0].track.name[:10]} → {await self._to(shares)}"

    async def _name(self, person_id: str) -> str:
        person = await self._ports.stores.people.get_person(person_id)
        return person.name if person else "someone who left"
