"""The demo page and its JSON: who the demo people are and what became of their shares."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from sendsongs.config import Settings
from sendsongs.demo.people import DemoPerson
from sendsongs.domain import replies
from sendsongs.domain.models import Address, Share
from sendsongs.ports import Stores
from sendsongs.sandbox.messenger_world import MessengerWorld, SentMessage

STATIC = Path(__file__).parent / "static"
TIMELINE_LIMIT = 20


class DemoApi:
    """`/` (the page), `/demo/static/*` and `/demo/api/*`."""

    def __init__(
        self,
        stores: Stores,
        sandbox: Starlette,
        people: tuple[DemoPerson, ...],
        settings: Settings,
    ) -> None:
        self.stores = stores
        self.messenger: MessengerWorld = sandbox.state.messenger
        self.people = {person.psid: person for person in people}
        self.settings = settings
        # lets the page tell this run from an earlier one it kept chats of
        self.run_id = secrets.token_hex(6)

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/", self.index, methods=["GET"]),
            Route("/demo/api/people", self.list_people, methods=["GET"]),
            Route("/demo/api/people/{psid}/shares", self.shares, methods=["GET"]),
            Mount("/demo/static", app=StaticFiles(directory=STATIC), name="demo-static"),
        ]

    async def index(self, request: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    async def list_people(self, request: Request) -> Response:
        people = []
        for person in self.people.values():
            registered = await self.stores.people.person_at(_messenger(person.psid))
            connection = (
                await self.stores.people.get_connection(registered.id) if registered else None
            )
            people.append(
                {
                    **person.to_json(),
                    "registered": registered is not None,
                    "registered_as": registered.name if registered else None,
                    "needs_reconnect": bool(connection and not connection.readable),
                }
            )
        settings = self.settings
        return JSONResponse(
            {
                "run": self.run_id,
                "people": people,
                "timing": {
                    "check_every": settings.fast_interval,
                    "first_check": settings.first_check,
                    "expire_after": settings.expire_after,
                },
            }
        )

    async def shares(self, request: Request) -> Response:
        psid = request.path_params["psid"]
        sender = self.people.get(psid)
        if sender is None:
            return JSONResponse({"error": f"{psid!r} is not one of the demo people"}, 404)
        people = self.stores.people
        registered = await people.person_at(_messenger(psid))
        if registered is None:
            return JSONResponse({"psid": psid, "shares": []})
        shares = await self.stores.shares.shares_sent_by(registered.id, TIMELINE_LIMIT)
        friends: dict[str, tuple[str, str]] = {}  # person id -> (psid, name)
        for share in shares:
            if share.recipient_id not in friends:
                friend = await people.get_person(share.recipient_id)
                address = await people.address_of(share.recipient_id)
                friends[share.recipient_id] = (
                    address.id if address else "",
                    friend.name if friend else "someone",
                )
        delivered = self._deliveries(registered.name, shares, friends)
        timeline = [
            _share_json(share, *friends[share.recipient_id], delivered.get(share.id))
            for share in shares
        ]
        return JSONResponse({"psid": psid, "shares": timeline})

    def _deliveries(
        self, sender: str, shares: list[Share], friends: dict[str, tuple[str, str]]
    ) -> dict[str, float]:
        """When the friend's copy of each share reached the sandbox's Send API: the
        first unclaimed message to them with exactly that text, oldest share first."""
        taken: set[int] = set()
        found: dict[str, float] = {}
        for share in sorted(shares, key=lambda s: s.shared_at):
            text = replies.share_for_friend(sender, share.pre, share.track).text
            since = share.shared_at.timestamp()
            to = friends[share.recipient_id][0]
            match = next(
                (m for m in self.messenger.messages if _is_copy(m, to, text, since, taken)),
                None,
            )
            if match is not None:
                taken.add(match.index)
                found[share.id] = match.sent_at
        return found


def _messenger(psid: str) -> Address:
    return Address("messenger", psid)


def _is_copy(message: SentMessage, to: str, text: str, since: float, taken: set[int]) -> bool:
    return (
        message.index not in taken
        and message.recipient_id == to
        and message.sent_at >= since
        and message.text == text
    )


def _share_json(
    share: Share, friend_psid: str, friend: str, delivered_at: float | None
) -> dict[str, Any]:
    return {
        "id": share.id,
        "recipient": {"psid": friend_psid, "name": friend},
        "track": {
            "name": share.track.name,
            "artists": list(share.track.artists),
            "url": share.track.url,
            "uri": share.track.uri,
        },
        "pre": share.pre,
        "post": share.post,
        "status": share.status.value,
        "shared_at": share.shared_at.isoformat(),
        "delivered_at": _iso(delivered_at),
        "settled_at": share.settled_at.isoformat() if share.settled_at else None,
        "next_check_at": share.next_check_at.isoformat(),
    }


def _iso(seconds: float | None) -> str | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC).isoformat()
