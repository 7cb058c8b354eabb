"""The fake Telegram Bot API: `/bot{token}/METHOD` for getMe, the webhook methods,
sendMessage and answerCallbackQuery.

Requests and answers as https://core.telegram.org/bots/api#making-requests describes:
GET or POST, parameters in the query string, a form or a JSON body; method names are
case-insensitive; every answer is `{"ok": true, "result": ...}` or `{"ok": false,
"error_code": N, "description": "..."}` with N as the HTTP status.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sendsongs.sandbox.paths import route_path
from sendsongs.sandbox.telegram_text import (
    BadRequest,
    check_reply_markup,
    check_text,
    json_object,
)
from sendsongs.sandbox.telegram_updates import bot_message_json
from sendsongs.sandbox.telegram_world import TelegramUser, TelegramWorld
from sendsongs.sandbox.traffic import Call, Family, Traffic, injected

Params = dict[str, Any]
Method = Callable[[Params], Awaitable[Response]]

MAX_CALLBACK_ANSWER = 200  # characters of answerCallbackQuery's `text`
_TOKEN_SHAPE = re.compile(r"\d+:[A-Za-z0-9_-]+")
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
UPDATE_TYPES = frozenset(
    {
        "message", "edited_message", "channel_post", "edited_channel_post",
        "business_connection", "business_message", "edited_business_message",
        "deleted_business_messages", "message_reaction", "message_reaction_count",
        "inline_query", "chosen_inline_result", "callback_query", "shipping_query",
        "pre_checkout_query", "purchased_paid_media", "poll", "poll_answer",
        "my_chat_member", "chat_member", "chat_join_request", "chat_boost",
        "removed_chat_boost",
    }
)  # fmt: skip


class BotApiError(Exception):
    """A refusal: `{"ok": false, "error_code": status, "description": ...}`."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description

    def response(self) -> Response:
        body = {"ok": False, "error_code": self.status, "description": self.description}
        return JSONResponse(body, status_code=self.status)


def bad_request(description: str) -> BotApiError:
    return BotApiError(400, f"Bad Request: {description}")


def ok(result: Any, description: str | None = None) -> Response:
    body: dict[str, Any] = {"ok": True, "result": result}
    if description is not None:
        body["description"] = description
    return JSONResponse(body)


class BotApi:
    """Route handlers over the fake Telegram world, for the one bot whose token the
    sandbox was configured with."""

    def __init__(self, world: TelegramWorld) -> None:
        self.world = world
        self.methods: dict[str, tuple[str, Method]] = {
            name.lower(): (name, handler)
            for name, handler in (
                ("getMe", self.get_me),
                ("setWebhook", self.set_webhook),
                ("deleteWebhook", self.delete_webhook),
                ("getWebhookInfo", self.get_webhook_info),
                ("sendMessage", self.send_message),
                ("answerCallbackQuery", self.answer_callback_query),
            )
        }

    def routes(self, traffic: Traffic) -> list[Route]:
        async def guarded(request: Request) -> Response:
            name = request.path_params["method"]
            known = self.methods.get(name.lower())
            # Counted per method, under its documented spelling.
            template = f"/bot{{token}}/{known[0] if known else name}"
            traffic.calls[f"{request.method} {template}"] += 1
            params = await _params(request)
            chat_id = _chat_key(params.get("chat_id"))
            fault = traffic.take(
                Call(route_path(request), template, Family.TELEGRAM, chat_id=chat_id)
            )
            if fault is not None:
                return await injected(fault, Family.TELEGRAM)
            return await self.call(request.path_params["token"], known, params)

        return [Route("/bot{token}/{method}", guarded, methods=["GET", "POST"])]

    async def call(self, token: str, known: tuple[str, Method] | None, params: Params) -> Response:
        try:
            if not _TOKEN_SHAPE.fullmatch(token):
                raise BotApiError(404, "Not Found")
            if token != self.world.token:
                raise BotApiError(401, "Unauthorized")
            if known is None:
                raise BotApiError(404, "Not Found")
            try:
                return await known[1](params)
            except BadRequest as error:
                raise bad_request(str(error)) from None
        except BotApiError as error:
            return error.response()

    async def get_me(self, params: Params) -> Response:
        me = self.world.bot_json() | {
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        return ok(me)

    async def set_webhook(self, params: Params) -> Response:
        url = _text(params.get("url")) or ""
        if not url:
            return await self.delete_webhook(params)
        if not url.startswith(("http://", "https://")):
            # Telegram wants HTTPS on 443, 80, 88 or 8443; the sandbox also takes plain
            # HTTP on any port, so a bot on localhost can receive updates.
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = _text(params.get("secret_token"))
        if secret is not None and not _SECRET_TOKEN.fullmatch(secret):
            raise bad_request("secret token contains unallowed characters")
        allowed = _allowed_updates(params.get("allowed_updates"))
        max_connections = _integer(params.get("max_connections"))
        hook = self.world.webhook
        unchanged = hook.url == url and hook.secret_token == secret
        hook.url, hook.secret_token = url, secret
        if allowed is not None:  # "If not specified, the previous setting will be used."
            hook.allowed_updates = allowed
        if max_connections is not None:
            hook.max_connections = max(1, min(100, max_connections))
        hook.last_error_date = hook.last_error_message = None
        return ok(True, "Webhook is already set" if unchanged else "Webhook was set")

    async def delete_webhook(self, params: Params) -> Response:
        hook = self.world.webhook
        if not hook.url:
            return ok(True, "Webhook is already deleted")
        hook.url, hook.secret_token = "", None
        hook.last_error_date = hook.last_error_message = None
        return ok(True, "Webhook was deleted")

    async def get_webhook_info(self, params: Params) -> Response:
        return ok(self.world.webhook.info_json())

    async def send_message(self, params: Params) -> Response:
        chat_id = params.get("chat_id")
        if chat_id is None or chat_id == "":
            raise bad_request("chat_id is empty")
        raw_text = _text(params.get("text"))
        parse_mode = _text(params.get("parse_mode"))
        text = check_text(raw_text, parse_mode)
        markup = check_reply_markup(params.get("reply_markup"))
        preview = json_object(
            params.get("link_preview_options"), "can't parse link preview options JSON object"
        )
        user = self._chat(chat_id)
        if user.blocked:
            raise BotApiError(403, "Forbidden: bot was blocked by the user")
        if not user.started:
            raise BotApiError(403, "Forbidden: bot can't initiate conversation with a user")
        sent = self.world.record_message(user, text, raw_text or "", parse_mode, markup, preview)
        return ok(bot_message_json(self.world, user, sent))

    def _chat(self, chat_id: object) -> TelegramUser:
        key = _chat_key(chat_id)
        user = self.world.users.get(int(key)) if key is not None else None
        if user is None:
            raise bad_request("chat not found")
        return user

    async def answer_callback_query(self, params: Params) -> Response:
        query = self.world.callback_queries.get(_text(params.get("callback_query_id")) or "")
        if query is None or query.answered:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        text = _text(params.get("text"))
        if text is not None and len(text) > MAX_CALLBACK_ANSWER:
            raise bad_request("MESSAGE_TOO_LONG")
        query.answered = True
        query.answer = {
            "text": text,
            "show_alert": _flag(params.get("show_alert")),
            "url": _text(params.get("url")),
            "cache_time": _integer(params.get("cache_time")) or 0,
        }
        return ok(True)


async def _params(request: Request) -> Params:
    """The call's parameters: query string, then a JSON or form body over it."""
    params: Params = dict(request.query_params)
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/json":
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            body = None
        if isinstance(body, dict):
            params.update(body)
    elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.form()
        params.update({k: v for k, v in form.items() if isinstance(v, str)})
    return params


def _chat_key(chat_id: object) -> str | None:
    """A private chat's id as text; None for what cannot be one (an @channel name)."""
    if isinstance(chat_id, bool):
        return None
    if isinstance(chat_id, int):
        return str(chat_id)
    if isinstance(chat_id, str) and re.fullmatch(r"-?\d+", chat_id.strip()):
        return str(int(chat_id))
    return None


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


def _integer(value: object) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value):
        return int(value)
    return None


def _flag(value: object) -> bool:
    return value is True or (isinstance(value, str) and value.lower() in ("true", "1"))


def _allowed_updates(value: object) -> list[str] | None:
    """`allowed_updates`, a JSON array (serialized when form-encoded); unknown names are
    dropped as Telegram drops them."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            raise bad_request("can't parse allowed updates JSON object") from None
    if not isinstance(value, list):
        raise bad_request("can't parse allowed updates JSON object")
    return [name for name in value if isinstance(name, str) and name in UPDATE_TYPES]
