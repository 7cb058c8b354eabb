"""Control routes for the fake page: people, their windows, what they say, what the bot sent.

Under `/_sandbox` (docs/sandbox-messenger.md has examples):

- `GET /messenger/users`; `POST /messenger/users {"psid"?, "first_name"?, "last_name"?}`
- `POST /messenger/users/{psid}/window {"open": bool}`
- `POST /messenger/say`: one person `{"psid", "text" | "text_json" |
  "quick_reply_payload" | "attachments", "mid"?}` → `{"mid", "webhook_status"}`;
  several in one signed POST `{"events": [...], "one_entry"?}` → `{"mids", ...}`;
  the same bytes again `{"redeliver": mid}` → `{"mid", "redelivered": true, ...}`
- `GET /messenger/messages?psid=&since=` → delivered sends `{"messages", "next"}`
- `GET /messenger/failed?psid=&since=` → refused sends `{"failed", "next"}`
- `GET|POST /messenger/config {"webhook_url"?, "page_access_token"?,
  "require_appsecret_proof"?}`: a new page token replaces the old one
"""

from __future__ import annotations

import json
import secrets
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sendsongs.sandbox.config import SandboxConfig
from sendsongs.sandbox.control_io import ControlError, control, read_json, text_field
from sendsongs.sandbox.messenger_world import MessengerUser, MessengerWorld
from sendsongs.sandbox.webhook import deliver, encode, messaging, page_event


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
            Route("/messenger/failed", control(self.failed), methods=["GET"]),
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
        if body.get("redeliver") is not None:
            return await self._redeliver(text_field(body, "redeliver") or "")
        now_ms = int(self.world.clock() * 1000)
        raw_events = body.get("events")
        if raw_events is None:
            item = self._item(body, now_ms)
            event = page_event(self.config.page_id, [item], now_ms)
            return await self._post(event, [item["message"]["mid"]], single=True)
        if not isinstance(raw_events, list) or not raw_events:
            raise ControlError("events must be a non-empty list of say bodies")
        items = [self._item(_object(raw), now_ms) for raw in raw_events]
        one_entry = body.get("one_entry", False)
        if not isinstance(one_entry, bool):
            raise ControlError("one_entry must be true or false")
        event = page_event(self.config.page_id, items, now_ms, one_entry)
        return await self._post(event, [i["message"]["mid"] for i in items], single=False)

    def _item(self, body: dict[str, Any], now_ms: int) -> dict[str, Any]:
        """One person's message, from a say body."""
        user = self._user(text_field(body, "psid", required=True))
        text = _text(body)
        payload = text_field(body, "quick_reply_payload")
        attachments = _attachments(body.get("attachments"))
        if text is None and payload is None and not attachments:
            raise ControlError("text, text_json, quick_reply_payload or attachments is required")
        if text is None and payload is not None:
            # Tapping a quick reply sends its title as the text, like the real client.
            text = self.world.quick_reply_title(user.psid, payload) or payload
        mid = text_field(body, "mid") or "m_" + secrets.token_urlsafe(32)
        # The window opens when the person writes, before the bot can answer.
        self.world.note_inbound(user.psid)
        return messaging(self.config.page_id, user.psid, mid, text, payload, now_ms, attachments)

    async def _post(self, event: dict[str, Any], mids: list[str], single: bool) -> Response:
        raw = encode(event)
        for mid in mids:
            self.world.deliveries[mid] = raw
        answer: dict[str, Any] = {"mid": mids[0]} if single else {"mids": mids}
        return JSONResponse(answer | await self._deliver(raw))

    async def _redeliver(self, mid: str) -> Response:
        """Messenger retries a delivery it thinks failed with the very same body."""
        raw = self.world.deliveries.get(mid)
        if raw is None:
            raise ControlError(f"no earlier delivery carried mid {mid!r}", 404)
        return JSONResponse({"mid": mid, "redelivered": True} | await self._deliver(raw))

    async def _deliver(self, raw: bytes) -> dict[str, Any]:
        status, error = await deliver(
            self.webhook_client, self.world.webhook_url, raw, self.config.app_secret
        )
        answer: dict[str, Any] = {"webhook_status": status}
        if error is not None:
            answer["webhook_error"] = error
        return answer

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

    async def failed(self, request: Request) -> Response:
        psid = request.query_params.get("psid") or None
        try:
            since = int(request.query_params.get("since") or 0)
        except ValueError:
            raise ControlError("since must be an integer index") from None
        failed = self.world.failed(psid, since)
        return JSONResponse(
            {"failed": [f.to_json() for f in failed], "next": len(self.world.failures)}
        )

    def _config_json(self) -> dict[str, Any]:
        return {
            "webhook_url": self.world.webhook_url,
            "page_access_token": self.world.page_access_token,
            "require_appsecret_proof": self.world.require_appsecret_proof,
        }

    async def get_config(self, request: Request) -> Response:
        return JSONResponse(self._config_json())

    async def set_config(self, request: Request) -> Response:
        body = await read_json(request)
        url = text_field(body, "webhook_url")
        token = text_field(body, "page_access_token")
        require = body.get("require_appsecret_proof")
        if url is not None and not url.startswith(("http://", "https://")):
            raise ControlError("webhook_url must be an http(s) URL")
        if require is not None and not isinstance(require, bool):
            raise ControlError("require_appsecret_proof must be true or false")
        if url is not None:
            self.world.webhook_url = url
        if token is not None:
            # A new page token: the old one stops working (a session_invalidated fault
            # stays bound to it), the new one is accepted from now on.
            self.world.page_access_token = token
        if require is not None:
            self.world.require_appsecret_proof = require
        return JSONResponse(self._config_json())


def _object(raw: object) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise ControlError("each event must be a JSON object")
    return raw


def _text(body: dict[str, Any]) -> str | None:
    """`text`, or `text_json`: the text as it would sit between the quotes of a JSON
    string, so a caller can send what its own JSON encoder refuses, such as half a
    surrogate pair (`hi \\ud83c`)."""
    escaped = body.get("text_json")
    if escaped is None:
        return text_field(body, "text")
    if not isinstance(escaped, str):
        raise ControlError("text_json must be a string")
    try:
        text = json.loads(f'"{escaped}"')
    except ValueError:
        raise ControlError("text_json must be the inside of a JSON string") from None
    if not isinstance(text, str):
        raise ControlError("text_json must be the inside of a JSON string")
    return text


def _attachments(raw: object) -> list[dict[str, Any]] | None:
    """Attachments as Messenger delivers them, passed through as given, e.g.
    `{"type": "fallback", "title": ..., "payload": null, "url": ...}` or
    `{"type": "share", "payload": {"url": ...}}`."""
    if raw is None:
        return None
    if not isinstance(raw, list) or not all(isinstance(a, dict) and a.get("type") for a in raw):
        raise ControlError("attachments must be a list of objects with a type")
    return raw
