"""Control routes for the fake Telegram: people, what they say and press, blocking the
bot, redelivering an update, and what the bot sent and answered."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sendsongs.sandbox.control_io import ControlError, control, read_json, text_field
from sendsongs.sandbox.telegram_updates import (
    bot_message_json,
    callback_query_update,
    deliver,
    encode,
    message_update,
    my_chat_member_update,
    user_message_json,
)
from sendsongs.sandbox.telegram_world import SentUpdate, TelegramUser, TelegramWorld


class TelegramControl:
    """`/_sandbox/telegram/...` handlers."""

    def __init__(self, world: TelegramWorld, webhook_client: httpx.AsyncClient | None) -> None:
        self.world = world
        self.webhook_client = webhook_client

    def routes(self) -> list[Route]:
        return [
            Route("/telegram/users", control(self.list_users), methods=["GET"]),
            Route("/telegram/users", control(self.add_user), methods=["POST"]),
            Route("/telegram/users/{user_id}/block", control(self.block), methods=["POST"]),
            Route("/telegram/say", control(self.say), methods=["POST"]),
            Route("/telegram/press", control(self.press), methods=["POST"]),
            Route("/telegram/redeliver", control(self.redeliver), methods=["POST"]),
            Route("/telegram/messages", control(self.messages), methods=["GET"]),
            Route("/telegram/callback_queries", control(self.callback_queries), methods=["GET"]),
            Route("/telegram/updates", control(self.updates), methods=["GET"]),
            Route("/telegram/webhook", control(self.webhook), methods=["GET"]),
        ]

    def _user(self, raw: object) -> TelegramUser:
        user_id = _user_id(raw)
        user = self.world.users.get(user_id) if user_id is not None else None
        if user is None:
            raise ControlError(
                f"unknown user_id {raw!r}: create it with POST /_sandbox/telegram/users", 404
            )
        return user

    def _require_webhook(self) -> None:
        if not self.world.webhook.url:
            raise ControlError("no webhook is set: the bot has not called setWebhook", 409)

    async def _post(self, kind: str, update: dict[str, Any]) -> dict[str, Any]:
        """Record the update, post it if the webhook takes its type, and say how it went."""
        sent = SentUpdate(update["update_id"], kind, update)
        self.world.updates[sent.update_id] = sent
        return await self._deliver(sent)

    async def _deliver(self, sent: SentUpdate) -> dict[str, Any]:
        hook = self.world.webhook
        answer: dict[str, Any] = {"update_id": sent.update_id}
        if not hook.url:
            answer |= {"delivered": False, "webhook_status": None, "webhook_error": "no webhook"}
            return answer
        if not hook.wants(sent.kind):
            answer |= {
                "delivered": False,
                "webhook_status": None,
                "webhook_error": f"{sent.kind} is not in allowed_updates",
            }
            return answer
        status, error = await deliver(
            self.webhook_client, hook.url, encode(sent.body), hook.secret_token
        )
        sent.deliveries.append(status)
        if status is None or not 200 <= status < 300:
            hook.last_error_date = self.world.now()
            hook.last_error_message = (
                error if status is None else f"Wrong response from the webhook: {status}"
            )
        answer |= {"delivered": status is not None and 200 <= status < 300}
        answer["webhook_status"] = status
        if error is not None:
            answer["webhook_error"] = error
        return answer

    async def list_users(self, request: Request) -> Response:
        return JSONResponse({"users": [u.to_json() for u in self.world.users.values()]})

    async def add_user(self, request: Request) -> Response:
        body = await read_json(request)
        raw_id = body.get("id")
        user_id = _user_id(raw_id)
        if raw_id is not None and (user_id is None or user_id <= 0):
            raise ControlError("id must be a positive integer")
        started = body.get("started", False)
        if not isinstance(started, bool):
            raise ControlError("started must be true or false")
        user = self.world.add_user(
            user_id,
            text_field(body, "first_name") or "Sandbox",
            text_field(body, "last_name") or "",
            (text_field(body, "username") or "").lstrip("@"),
            started,
        )
        return JSONResponse(user.to_json())

    async def say(self, request: Request) -> Response:
        body = await read_json(request)
        user = self._user(body.get("user_id"))
        text = text_field(body, "text", required=True) or ""
        if user.blocked:
            raise ControlError("this user blocked the bot: unblock it first", 409)
        self._require_webhook()
        # Writing to the bot (or pressing Start, which sends /start) starts it.
        user.started = True
        message_id = user.take_message_id()
        update_id = self.world.take_update_id()
        message = user_message_json(user, message_id, text, self.world.now())
        answer = await self._post("message", message_update(update_id, message))
        return JSONResponse(answer | {"message_id": message_id})

    async def press(self, request: Request) -> Response:
        body = await read_json(request)
        user = self._user(body.get("user_id"))
        data = text_field(body, "data", required=True) or ""
        raw_message_id = body.get("message_id")
        if raw_message_id is None:
            message = self.world.latest_with_button(user.id, data)
        elif isinstance(raw_message_id, int) and not isinstance(raw_message_id, bool):
            message = self.world.find_message(user.id, raw_message_id)
        else:
            raise ControlError("message_id must be an integer")
        if message is None or data not in message.callback_data():
            raise ControlError(f"no message to this user has a button with data {data!r}", 404)
        self._require_webhook()
        query = self.world.new_callback_query(user, message, data)
        chat_instance = _chat_instance(self.world.bot_id, user.id)
        update = callback_query_update(
            self.world.take_update_id(),
            query.id,
            user,
            bot_message_json(self.world, user, message),
            chat_instance,
            data,
        )
        answer = await self._post("callback_query", update)
        return JSONResponse(answer | {"callback_query_id": query.id})

    async def block(self, request: Request) -> Response:
        body = await read_json(request)
        blocked = body.get("blocked", True)
        if not isinstance(blocked, bool):
            raise ControlError("blocked must be true or false")
        user = self._user(request.path_params["user_id"])
        answer: dict[str, Any] = {"update_id": None, "delivered": False}
        if user.blocked != blocked:
            user.blocked = blocked
            if not blocked:
                user.started = True  # unblocking restarts the bot
            update = my_chat_member_update(self.world.take_update_id(), self.world, user, blocked)
            answer = await self._post("my_chat_member", update)
        return JSONResponse(answer | {"user": user.to_json()})

    async def redeliver(self, request: Request) -> Response:
        body = await read_json(request)
        update_id = body.get("update_id")
        sent = self.world.updates.get(update_id) if isinstance(update_id, int) else None
        if sent is None:
            raise ControlError(f"no update with update_id {update_id!r} was sent", 404)
        self._require_webhook()
        return JSONResponse(await self._deliver(sent))

    async def messages(self, request: Request) -> Response:
        raw_user = request.query_params.get("user_id") or None
        chat_id = self._user(raw_user).id if raw_user is not None else None
        try:
            since = int(request.query_params.get("since") or 0)
        except ValueError:
            raise ControlError("since must be an integer index") from None
        sent = self.world.sent(chat_id, since)
        return JSONResponse(
            {"messages": [m.to_json() for m in sent], "next": len(self.world.messages)}
        )

    async def callback_queries(self, request: Request) -> Response:
        queries = self.world.callback_queries.values()
        return JSONResponse({"callback_queries": [q.to_json() for q in queries]})

    async def updates(self, request: Request) -> Response:
        return JSONResponse({"updates": [u.to_json() for u in self.world.updates.values()]})

    async def webhook(self, request: Request) -> Response:
        hook = self.world.webhook
        return JSONResponse(
            {
                "url": hook.url,
                "secret_token": hook.secret_token,
                "allowed_updates": hook.allowed_updates,
                "info": hook.info_json(),
            }
        )


def _user_id(raw: object) -> int | None:
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().isdigit():
        return int(raw)
    return None


def _chat_instance(bot_id: int, user_id: int) -> str:
    """A stable id for "this chat, seen by this bot", as callback queries carry."""
    digest = hashlib.sha256(f"{bot_id}:{user_id}".encode()).digest()
    return str(int.from_bytes(digest[:8], "big", signed=True))
