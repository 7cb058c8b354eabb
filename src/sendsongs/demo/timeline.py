"""What the page shows beside each chat: a person's standing, the songs they sent
(a group send as one item), the songs sent to them and not played yet, their groups."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sendsongs.demo.people import DemoPerson
from sendsongs.domain.models import Person, Share, ShareStatus, Track
from sendsongs.ports import Stores

SHARES_READ = 40  # shares read per sender: enough for a demo's worth of sends


class Timelines:
    def __init__(self, stores: Stores, people: Sequence[DemoPerson]) -> None:
        self.stores = stores
        self.people = people

    async def standing(self, person: DemoPerson) -> dict[str, Any]:
        """`registered`, `registered_as`, `source` (the history they connected) and
        `needs_reconnect`."""
        people = self.stores.people
        registered = await people.person_at(person.address)
        connection = await people.get_connection(registered.id) if registered else None
        return {
            "registered": registered is not None,
            "registered_as": registered.name if registered else None,
            "source": connection.source if connection else None,
            "needs_reconnect": bool(connection and not connection.readable),
        }

    async def of(self, person: DemoPerson) -> dict[str, Any]:
        """`sent` (newest first, one item per send), `received` (pending shares to
        them, newest first) and `groups`; all empty before they register."""
        me = await self.stores.people.person_at(person.address)
        if me is None:
            return {"sent": [], "received": [], "groups": []}
        sent = await self.stores.shares.shares_sent_by(me.id, SHARES_READ)
        received = await self.stores.shares.pending_shares(me.id)
        return {
            "sent": await self._sends(sent),
            "received": [
                await self._received(share)
                for share in sorted(received, key=lambda s: s.shared_at, reverse=True)
            ],
            "groups": await self._groups(me),
        }

    async def _sends(self, shares: list[Share]) -> list[dict[str, Any]]:
        sends: dict[str, list[Share]] = {}
        for share in shares:  # newest first, so sends keep that order
            sends.setdefault(share.send_key, []).append(share)
        return [await self._send(key, items) for key, items in sends.items()]

    async def _send(self, key: str, shares: list[Share]) -> dict[str, Any]:
        first = shares[0]
        recipients = [await self._recipient(share) for share in reversed(shares)]
        statuses = [share.status for share in shares]
        return {
            "id": key,
            "group": first.group_name,
            "track": _track(first.track),
            "pre": first.pre,
            "post": first.post,
            "shared_at": min(s.shared_at for s in shares).isoformat(),
            "status": _overall(statuses),
            "listened": statuses.count(ShareStatus.LISTENED),
            "recipients": recipients,
        }

    async def _recipient(self, share: Share) -> dict[str, Any]:
        return {
            **await self._who(share.recipient_id),
            "status": share.status.value,
            "delivered_at": _iso(share.delivered_at),
            "settled_at": _iso(share.settled_at),
        }

    async def _received(self, share: Share) -> dict[str, Any]:
        return {
            "id": share.id,
            "from": await self._who(share.sender_id),
            "group": share.group_name,
            "track": _track(share.track),
            "pre": share.pre,
            "shared_at": share.shared_at.isoformat(),
        }

    async def _groups(self, me: Person) -> list[dict[str, Any]]:
        groups = []
        for group in await self.stores.groups.groups_of(me.id):
            members = [await self._who(pid) for pid in group.members]
            groups.append(
                {
                    "id": group.id,
                    "name": group.name,
                    "owner": await self._who(group.owner_id),
                    "mine": group.owner_id == me.id,
                    "members": members,
                }
            )
        return groups

    async def _who(self, person_id: str) -> dict[str, Any]:
        """{"key": the demo person's key or None, "name"}."""
        person = await self.stores.people.get_person(person_id)
        address = await self.stores.people.address_of(person_id)
        key = next((p.key for p in self.people if address and p.address == address), None)
        return {"key": key, "name": person.name if person else "someone"}


def _overall(statuses: list[ShareStatus]) -> str:
    """One word for a send: pending while anyone's check goes on, then listened if
    everyone did, else how the first unlistened one ended."""
    if ShareStatus.PENDING in statuses:
        return "pending"
    unheard = [s for s in statuses if s is not ShareStatus.LISTENED]
    return unheard[0].value if unheard else "listened"


def _track(track: Track) -> dict[str, Any]:
    return {
        "id": track.uri.rsplit(":", 1)[-1],
        "name": track.name,
        "artists": list(track.artists),
        "url": track.url,
    }


def _iso(at: Any) -> str | None:
    return at.isoformat() if at is not None else None
