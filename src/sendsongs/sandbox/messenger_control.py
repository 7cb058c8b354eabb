"""Control routes for the fake page: people, their windows, what they say, what the bot sent."""

from __future__ import annotations

import secrets
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sendsongs.sandbox.config import SandboxConfig
from sendsongs.sandbox.control_io import ControlError, control, read_json, text_field
from sendsongs.sandbox.messenger_world import MessengerUser, MessengerWorld
from sendsongs.sandbox.webhook import deliver, encode, message_event


class MessengerControl:
    """`/_sandbox/messenger/...` handlers."""

    def __init__(
        self,
        world: MessengerWorld,
        config: SandboxConfig,
        webhook_client: httpx.AsyncClient | None,
    ) -> None:
        self.world = world
        self.config = config
        self.webhook_client = webhook_client

    def routes(self) -> list[Route]:
        return [
            Route("/messenger/users", control(self.list_users), methods=["GET"]),
            Route("/messenger/users", control(self.add_user), methods=["POST"]),
            Route("/messenger/users/{psid}/window", control(self.window), methods=["POST"]),
            Route("/messenger/say", control(self.say), methods=["POST"]),
            Route("/messenger/messages", control(self.messages), methods=["GET"]),
            Route("/messenger/config", control(self.get_config), methods=["GET"]),
            Route("/messenger/config", control(self.set_config), methods=["POST"]),
        ]

    def _user(self, psid: str | None) -> MessengerUser:
        user = self.world.users.get(psid or "")
        if user is None:
            raise ControlError(
                f"unknown psid {psid!r}: create it with POST /_sandbox/messenger/users", 404
            )
        return user

    async def list_users(self, request: Request) -> Response:
        now = self.world.clock()
        return JSONResponse({"users": [u.to_json(now) for u in self.world.users.values()]})

    async def add_user(self, request: Request) -> Response:
        body = await read_json(request)
        user = self.world.add_user(
            text_field(body, "psid"),
            text_field(body, "first_name") or "Sandbox",
            text_field(body, "last_name") or "User",
        )
        return JSONResponse(user.to_json(self.world.clock()))

    async def window(self, request: Request) -> Response:
        body = await read_json(request)
        open_ = body.get("open")
        if not isinstance(open_, bool):
            raise ControlError("open must be true or false")
        user = self._user(request.path_params["psid"])
        return JSONResponse(self.world.set_window(user.psid, open_).to_json(self.world.clock()))

    async def say(self, request: Request) -> Response:
        body = await read_json(request)
        user = self._user(text_field(body, "psid", required=True))
        text = text_field(body, "text")
        payload = text_field(body, "quick_reply_payload")
        if text is None and payload is None:
            raise ControlError("text or quick_reply_payload is required")
        if text is None and payload is not None:
            # Tapping a quick reply sends its title as the text, like the real client.
            text = self.world.quick_reply_title(user.psid, payload) or payload
        mid = text_field(body, "mid") or "m_" + secrets.token_urlsafe(32)
        # The window opens when the person writes, before the bot can answer.
        self.world.note_inbound(user.psid)
        now_ms = int(self.world.clock() * 1000)
        event = message_event(self.config.page_id, user.psid, mid, text or "", payload, now_ms)
        status, error = await deliver(
            self.webhook_client, self.world.webhook_url, encode(event), self.config.app_secret
        )
        answer: dict[str, Any] = {"mid": mid, "webhook_status": status}
        if error is not None:
            answer["webhook_error"] = error
        return JSONResponse(answer)

    async def messages(self, request: Request) -> Response:
        psid = request.query_params.get("psid") or None
        try:
            since = int(request.query_params.get("since") or 0)
        except ValueError:
            raise ControlError("since must be an integer index") from None
        sent = self.world.sent(psid, since)
        return JSONResponse(
            {"messages": [m.to_json() for m in sent], "next": len(self.world.messages)}
        )

    async def get_config(self, request: Request) -> Response:
        return JSONResponse({"webhook_url": self.world.webhook_url})

    async def set_config(self, request: Request) -> Response:
        body = await read_json(request)
        url = text_field(body, "webhook_url")
        if url is not None:
            if not url.startswith(("http://", "https://")):
                raise ControlError("webhook_url must be an http(s) URL")
            self.world.webhook_url = url
        return JSONResponse({"webhook_url": self.world.webhook_url})
