"""The demo page and its JSON: who the demo people are, their chats, and what became
of the songs they shared and were sent."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from sendsongs.config import Settings
from sendsongs.demo.conversation import Conversations
from sendsongs.demo.people import TELEGRAM, DemoPerson
from sendsongs.demo.timeline import Timelines
from sendsongs.ports import Stores

STATIC = Path(__file__).parent / "static"
MAX_TEXT = 2000  # characters one typed message may have; Messenger's own limit


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
        self.people = {person.key: person for person in people}
        self.settings = settings
        self.chats = Conversations(people, sandbox.state.messenger, sandbox.state.telegram)
        self.timelines = Timelines(stores, people)
        # the page's "phone": the sandbox's control routes, called in process
        self.phone = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=sandbox), base_url="http://sandbox", timeout=30
        )
        # lets the page tell this run from an earlier one it kept chats of
        self.run_id = secrets.token_hex(6)

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/", self.index, methods=["GET"]),
            Route("/favicon.ico", self.favicon, methods=["GET"]),
            Route("/demo/api/people", self.list_people, methods=["GET"]),
            Route("/demo/api/conversation", self.conversation, methods=["GET"]),
            Route("/demo/api/people/{key}/shares", self.shares, methods=["GET"]),
            Route("/demo/api/people/{key}/say", self.say, methods=["POST"]),
            Route("/demo/api/people/{key}/press", self.press, methods=["POST"]),
            Mount("/demo/static", app=StaticFiles(directory=STATIC), name="demo-static"),
        ]

    async def index(self, request: Request) -> Response:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    async def favicon(self, request: Request) -> Response:
        return FileResponse(STATIC / "favicon.svg", media_type="image/svg+xml")

    async def list_people(self, request: Request) -> Response:
        people = [
            {**person.to_json(), **await self.timelines.standing(person)}
            for person in self.people.values()
        ]
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

    async def conversation(self, request: Request) -> Response:
        """`?since=N`: every chat entry from index N on, and the `next` index to ask for."""
        try:
            since = int(request.query_params.get("since") or 0)
        except ValueError:
            return _error("since must be an entry index (a whole number)")
        entries = self.chats.since(since)
        return JSONResponse(
            {"entries": [e.to_json() for e in entries], "next": len(self.chats.entries)}
        )

    async def shares(self, request: Request) -> Response:
        person = self.people.get(request.path_params["key"])
        if person is None:
            return _unknown(request.path_params["key"])
        return JSONResponse({"key": person.key, **await self.timelines.of(person)})

    async def say(self, request: Request) -> Response:
        """`{"text"}`: the person types it to the bot. The answer says whether the
        bot's webhook took it (`delivered`) and, if not, why (`error`)."""
        person = self.people.get(request.path_params["key"])
        if person is None:
            return _unknown(request.path_params["key"])
        body = await _json_body(request)
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            return _error('"text" must be a non-empty string')
        if len(text) > MAX_TEXT:
            return _error(f'"text" is longer than {MAX_TEXT} characters')
        entry = self.chats.said(person, text)
        if person.channel == TELEGRAM:
            sent = {"user_id": int(person.chat_id), "text": text}
            entry.error = await self._post("/_sandbox/telegram/say", sent)
        else:
            sent = {"psid": person.chat_id, "text": text}
            entry.error = await self._post("/_sandbox/messenger/say", sent)
        return JSONResponse({"entry": entry.to_json(), "delivered": entry.error is None})

    async def press(self, request: Request) -> Response:
        """`{"payload", "title", "message_id"?}`: the person taps a button the bot sent.
        On Messenger a quick reply arrives as a message with its title; on Telegram a
        press is a callback query and shows nothing in the chat."""
        person = self.people.get(request.path_params["key"])
        if person is None:
            return _unknown(request.path_params["key"])
        body = await _json_body(request)
        payload, title = body.get("payload"), body.get("title")
        if not isinstance(payload, str) or not payload or not isinstance(title, str):
            return _error('"payload" and "title" must be strings')
        if person.channel == TELEGRAM:
            pressed: dict[str, Any] = {"user_id": int(person.chat_id), "data": payload}
            if isinstance(body.get("message_id"), int):
                pressed["message_id"] = body["message_id"]
            error = await self._post("/_sandbox/telegram/press", pressed)
            return JSONResponse({"entry": None, "delivered": error is None, "error": error})
        entry = self.chats.said(person, title)
        tapped = {"psid": person.chat_id, "text": title, "quick_reply_payload": payload}
        entry.error = await self._post("/_sandbox/messenger/say", tapped)
        return JSONResponse({"entry": entry.to_json(), "delivered": entry.error is None})

    async def _post(self, path: str, body: dict[str, Any]) -> str | None:
        """Call a sandbox control route; None when the bot's webhook answered 2xx,
        else what went wrong, in words for the chat."""
        answer = await self.phone.post(path, json=body)
        result = answer.json()
        if answer.status_code != 200:
            return f"not delivered ({result.get('error', answer.status_code)})"
        status = result.get("webhook_status")
        if status is None or not 200 <= status < 300:
            why = result.get("webhook_error") or f"the bot answered {status}"
            return f"not delivered ({why})"
        return None


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _error(message: str) -> Response:
    return JSONResponse({"error": message}, 400)


def _unknown(key: str) -> Response:
    return JSONResponse({"error": f"{key!r} is not one of the demo people"}, 404)
