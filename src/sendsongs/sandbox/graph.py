"""The fake Graph API: the Send API (`POST /{version}/me/messages`) and user profiles.

Checks in Graph's order: the access token (the page's current one; see
`POST /_sandbox/messenger/config` to install a new one), then `appsecret_proof` when
the app requires it (HMAC-SHA256 of the token keyed with the app secret, hex; see
https://developers.facebook.com/docs/graph-api/securing-requests), then the message
(graph_message.py), the recipient and the 24-hour window. Every refused send is kept
apart from delivered ones (`GET /_sandbox/messenger/failed`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from sendsongs.sandbox.config import SandboxConfig
from sendsongs.sandbox.graph_errors import OUTSIDE_WINDOW, GraphError
from sendsongs.sandbox.graph_message import message_parts, param_error
from sendsongs.sandbox.messenger_world import HUMAN_AGENT_SECONDS, MessengerUser, MessengerWorld
from sendsongs.sandbox.traffic import Family, Traffic, api_route

MESSAGING_TYPES = ("RESPONSE", "UPDATE", "MESSAGE_TAG")
# The tags that let a Page notify someone outside the 24-hour window are gone since
# April 2026 (no public page states the refusal's wording, so it is refused as any
# bad parameter is: code 100). HUMAN_AGENT still answers within 7 days.
RETIRED_TAGS = ("ACCOUNT_UPDATE", "CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE")
MESSAGE_TAGS = ("HUMAN_AGENT",)
PROFILE_FIELDS = ("first_name", "last_name", "name", "id")
_VERSION = re.compile(r"v\d+\.\d+")


class GraphApi:
    """Route handlers over the page's people and the messages the bot sent."""

    def __init__(self, world: MessengerWorld, config: SandboxConfig) -> None:
        self.world = world
        self.config = config

    def routes(self, traffic: Traffic) -> list[Route]:
        page = self.config.page_id
        return [
            api_route(
                "/{version}/me/messages",
                self.send,
                ["POST"],
                traffic,
                Family.GRAPH,
                page_id=page,
                observe=self._note_refusal,
            ),
            api_route(
                "/{version}/{psid}", self.profile, ["GET"], traffic, Family.GRAPH, page_id=page
            ),
        ]

    def _check_token(self, request: Request, body: dict[str, Any] | None = None) -> None:
        token = request.query_params.get("access_token")
        auth = request.headers.get("authorization", "")
        if token is None and auth[:7].lower() == "bearer ":
            token = auth[7:].strip()
        if not token:
            raise GraphError(
                "An active access token must be used to query information about the current user.",
                2500,
            )
        if token != self.world.page_access_token:
            raise GraphError("Invalid OAuth access token - Cannot parse access token", 190)
        if self.world.require_appsecret_proof:
            self._check_proof(token, request, body)

    def _check_proof(self, token: str, request: Request, body: dict[str, Any] | None) -> None:
        proof = request.query_params.get("appsecret_proof")
        if proof is None and body is not None:
            proof = body.get("appsecret_proof")
        if not proof:
            raise GraphError(
                "API calls from the server require an appsecret_proof argument",
                100,
                error_type="GraphMethodException",
            )
        expected = hmac.new(
            self.config.app_secret.encode(), token.encode(), hashlib.sha256
        ).hexdigest()
        if not isinstance(proof, str) or not hmac.compare_digest(expected, proof.lower()):
            raise GraphError(
                "Invalid appsecret_proof provided in the API argument",
                100,
                error_type="GraphMethodException",
            )

    async def send(self, request: Request) -> Response:
        if not _VERSION.fullmatch(request.path_params["version"]):
            return PlainTextResponse("Not Found", status_code=404)
        try:
            body = await _json_body(request)
            self._check_token(request, body if isinstance(body, dict) else None)
            if not isinstance(body, dict):
                raise param_error(100, "The request body must be a JSON object")
            return JSONResponse(self._accept(body))
        except GraphError as error:
            return error.response()

    def _accept(self, body: dict[str, Any]) -> dict[str, Any]:
        if "sender_action" in body:
            return self._sender_action(body)
        messaging_type = body.get("messaging_type")
        if messaging_type not in MESSAGING_TYPES:
            raise param_error(
                100, "param messaging_type must be one of {RESPONSE, UPDATE, MESSAGE_TAG}"
            )
        tag = body.get("tag")
        if messaging_type == "MESSAGE_TAG":
            if tag in RETIRED_TAGS:
                raise param_error(
                    100,
                    f"param tag {tag} is deprecated: message tags can no longer send"
                    " messages outside the standard messaging window",
                )
            if tag not in MESSAGE_TAGS:
                raise param_error(100, "param tag must be one of {" + ", ".join(MESSAGE_TAGS) + "}")
        parts = message_parts(body.get("message"))
        user = self._recipient(body)
        # RESPONSE and UPDATE alike need the person to have written within 24 hours.
        self._check_window(user, HUMAN_AGENT_SECONDS if tag == "HUMAN_AGENT" else None)
        sent = self.world.record(
            user.psid,
            parts.text,
            parts.quick_replies,
            str(messaging_type),
            str(tag) if tag and messaging_type == "MESSAGE_TAG" else None,
            parts.attachment,
        )
        return {"recipient_id": user.psid, "message_id": sent.message_id}

    def _recipient(self, body: dict[str, Any]) -> MessengerUser:
        recipient = body.get("recipient")
        psid = recipient.get("id") if isinstance(recipient, dict) else None
        if not psid:
            raise param_error(100, "The parameter recipient is required")
        user = self.world.users.get(str(psid))
        if user is None:
            raise GraphError("(#100) No matching user found", 100, 2018001)
        return user

    def _check_window(self, user: MessengerUser, seconds: float | None = None) -> None:
        now = self.world.clock()
        if not (user.window_open(now) if seconds is None else user.window_open(now, seconds)):
            raise GraphError(OUTSIDE_WINDOW, 10, 2018278)

    def _sender_action(self, body: dict[str, Any]) -> dict[str, Any]:
        """typing_on / typing_off / mark_seen: checked like a message, never recorded."""
        if body.get("sender_action") not in ("typing_on", "typing_off", "mark_seen"):
            raise param_error(
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
                    raise param_error(
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

    async def _note_refusal(self, request: Request, response: Response) -> None:
        """Keep every refused send, injected or not, apart from delivered ones."""
        if response.status_code == 200:
            return
        try:
            body = json.loads(await request.body())
        except ValueError:
            body = None
        body = body if isinstance(body, dict) else {}
        recipient = body.get("recipient")
        psid = recipient.get("id") if isinstance(recipient, dict) else None
        message = body.get("message")
        text = message.get("text") if isinstance(message, dict) else None
        try:
            answer = json.loads(bytes(response.body))
        except ValueError:
            answer = None
        error = answer.get("error") if isinstance(answer, dict) else None
        self.world.record_failure(
            None if psid is None else str(psid),
            text if isinstance(text, str) else None,
            response.status_code,
            error if isinstance(error, dict) else {},
        )


async def _json_body(request: Request) -> object:
    try:
        body: object = json.loads(await request.body())
    except ValueError:
        return None
    return body
