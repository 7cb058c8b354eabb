"""The fake Graph API: the Send API (`POST /{version}/me/messages`) and user profiles."""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from sendsongs.sandbox.config import SandboxConfig
from sendsongs.sandbox.messenger_world import MessengerUser, MessengerWorld
from sendsongs.sandbox.traffic import Family, Traffic, api_route, graph_error_body

MAX_TEXT = 2000
MAX_QUICK_REPLIES = 13
MAX_QUICK_REPLY_TITLE = 20
MESSAGING_TYPES = ("RESPONSE", "UPDATE", "MESSAGE_TAG")
MESSAGE_TAGS = ("ACCOUNT_UPDATE", "CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE", "HUMAN_AGENT")
PROFILE_FIELDS = ("first_name", "last_name", "name", "id")
_VERSION = re.compile(r"v\d+\.\d+")


class GraphError(Exception):
    """A refusal the Graph API would answer with `400 {"error": {...}}`."""

    def __init__(
        self,
        message: str,
        code: int,
        subcode: int | None = None,
        error_type: str = "OAuthException",
    ) -> None:
        super().__init__(message)
        self.body = graph_error_body(message, code, subcode, error_type)

    def response(self) -> Response:
        return JSONResponse({"error": self.body}, status_code=400)


def _param(code: int, text: str) -> GraphError:
    return GraphError(f"(#{code}) {text}", code)


class GraphApi:
    """Route handlers over the page's people and the messages the bot sent."""

    def __init__(self, world: MessengerWorld, config: SandboxConfig) -> None:
        self.world = world
        self.config = config

    def routes(self, traffic: Traffic) -> list[Route]:
        return [
            api_route("/{version}/me/messages", self.send, ["POST"], traffic, Family.GRAPH),
            api_route("/{version}/{psid}", self.profile, ["GET"], traffic, Family.GRAPH),
        ]

    def _check_token(self, request: Request) -> None:
        token = request.query_params.get("access_token")
        auth = request.headers.get("authorization", "")
        if token is None and auth[:7].lower() == "bearer ":
            token = auth[7:].strip()
        if not token:
            raise GraphError(
                "An active access token must be used to query information about the current user.",
                2500,
            )
        if token != self.config.page_access_token:
            raise GraphError("Invalid OAuth access token - Cannot parse access token", 190)

    async def send(self, request: Request) -> Response:
        if not _VERSION.fullmatch(request.path_params["version"]):
            return PlainTextResponse("Not Found", status_code=404)
        try:
            self._check_token(request)
            body = await _json_object(request)
            return JSONResponse(self._accept(body))
        except GraphError as error:
            return error.response()

    def _accept(self, body: dict[str, Any]) -> dict[str, Any]:
        if "sender_action" in body:
            return self._sender_action(body)
        messaging_type = body.get("messaging_type")
        if messaging_type not in MESSAGING_TYPES:
            raise _param(100, "param messaging_type must be one of {RESPONSE, UPDATE, MESSAGE_TAG}")
        tag = body.get("tag")
        if messaging_type == "MESSAGE_TAG" and tag not in MESSAGE_TAGS:
            raise _param(100, "param tag must be one of {" + ", ".join(MESSAGE_TAGS) + "}")
        user = self._recipient(body)
        text, quick_replies = _message_parts(body.get("message"))
        if messaging_type != "MESSAGE_TAG":
            self._check_window(user)
        sent = self.world.record(
            user.psid, text, quick_replies, str(messaging_type), tag if tag else None
        )
        return {"recipient_id": user.psid, "message_id": sent.message_id}

    def _recipient(self, body: dict[str, Any]) -> MessengerUser:
        recipient = body.get("recipient")
        psid = recipient.get("id") if isinstance(recipient, dict) else None
        if not psid:
            raise _param(100, "The parameter recipient is required")
        user = self.world.users.get(str(psid))
        if user is None:
            raise GraphError("(#100) No matching user found", 100, 2018001)
        return user

    def _check_window(self, user: MessengerUser) -> None:
        if not user.window_open(self.world.clock()):
            raise GraphError(
                "(#10) This message is sent outside of allowed window. Learn more about the"
                " new policy here: https://developers.facebook.com/docs/messenger-platform/"
                "policy-overview",
                10,
                2018278,
            )

    def _sender_action(self, body: dict[str, Any]) -> dict[str, Any]:
        """typing_on / typing_off / mark_seen: checked like a message, never recorded."""
        if body.get("sender_action") not in ("typing_on", "typing_off", "mark_seen"):
            raise _param(
                100, "param sender_action must be one of {typing_on, typing_off, mark_seen}"
            )
        user = self._recipient(body)
        self._check_window(user)
        return {"recipient_id": user.psid}

    async def profile(self, request: Request) -> Response:
        if not _VERSION.fullmatch(request.path_params["version"]):
            return PlainTextResponse("Not Found", status_code=404)
        psid = request.path_params["psid"]
        try:
            self._check_token(request)
            fields = request.query_params.get("fields") or "first_name,last_name"
            wanted = [f.strip() for f in fields.split(",") if f.strip()]
            for name in wanted:
                if name not in PROFILE_FIELDS:
                    raise _param(
                        100, f"Tried accessing nonexisting field ({name}) on node type (User)"
                    )
            user = self.world.users.get(psid)
            if user is None:
                raise GraphError(
                    f"Unsupported get request. Object with ID '{psid}' does not exist, cannot"
                    " be loaded due to missing permissions, or does not support this"
                    " operation. Please read the Graph API documentation at"
                    " https://developers.facebook.com/docs/graph-api",
                    100,
                    33,
                    "GraphMethodException",
                )
        except GraphError as error:
            return error.response()
        values = {
            "first_name": user.first_name,
            "last_name": user.last_name,
            "name": f"{user.first_name} {user.last_name}".strip(),
        }
        answer: dict[str, Any] = {name: values[name] for name in wanted if name in values}
        answer["id"] = user.psid
        return JSONResponse(answer)


async def _json_object(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body())
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise _param(100, "The request body must be a JSON object")
    return body


def _message_parts(message: object) -> tuple[str, list[dict[str, Any]]]:
    """The text and quick replies of a Send API `message`, validated as Graph does."""
    if not isinstance(message, dict):
        raise _param(100, "The parameter message is required")
    text = message.get("text")
    if not isinstance(text, str) or not text:
        raise _param(100, "param message must contain text or an attachment")
    if len(text) > MAX_TEXT:
        raise _param(100, f"Length of param message[text] must be less than or equal to {MAX_TEXT}")
    raw_replies = message.get("quick_replies") or []
    if not isinstance(raw_replies, list):
        raise _param(100, "param message[quick_replies] must be an array")
    if len(raw_replies) > MAX_QUICK_REPLIES:
        raise _param(
            100, f"param message[quick_replies] must have at most {MAX_QUICK_REPLIES} elements"
        )
    replies: list[dict[str, Any]] = []
    for i, reply in enumerate(raw_replies):
        where = f"message[quick_replies][{i}]"
        content_type = reply.get("content_type") if isinstance(reply, dict) else None
        if content_type in ("user_phone_number", "user_email"):
            replies.append({"content_type": content_type})
            continue
        if not isinstance(reply, dict) or content_type != "text":
            raise _param(
                100,
                f"param {where}[content_type] must be one of {{text,"
                " user_phone_number, user_email}",
            )
        title, payload = reply.get("title"), reply.get("payload")
        if not isinstance(title, str) or not title:
            raise _param(100, f"param {where}[title] must be a non-empty UTF-8 encoded string")
        if len(title) > MAX_QUICK_REPLY_TITLE:
            raise _param(
                100, f"param {where}[title] must be at most {MAX_QUICK_REPLY_TITLE} characters"
            )
        if not isinstance(payload, str | int) or payload == "":
            raise _param(100, f"param {where}[payload] must be a non-empty string")
        replies.append({"content_type": "text", "title": title, "payload": str(payload)})
    return text, replies
