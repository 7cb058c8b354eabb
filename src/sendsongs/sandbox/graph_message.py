"""What a Send API `message` may hold, checked against the limits Graph enforces.

Limits (https://developers.facebook.com/docs/messenger-platform/reference/send-api/,
.../send-messages/quick-replies): text at most 2,000 characters; at most 13 quick
replies; a quick reply's title at most 20 characters and its payload at most 1,000;
a message needs text or an attachment. The wording of the empty-message, text-length
and missing title/payload refusals is Graph's own, as bot developers recorded it; the
others follow Graph's `(#100) param ...` pattern.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sendsongs.sandbox.graph_errors import GraphError

MAX_TEXT = 2000
MAX_QUICK_REPLIES = 13
MAX_QUICK_REPLY_TITLE = 20
MAX_PAYLOAD = 1000


def param_error(code: int, text: str, subcode: int | None = None) -> GraphError:
    return GraphError(f"(#{code}) {text}", code, subcode)


@dataclass(frozen=True)
class MessageParts:
    text: str
    quick_replies: list[dict[str, Any]]
    attachment: dict[str, Any] | None


def message_parts(message: object) -> MessageParts:
    """The text, quick replies and attachment of a Send API `message`, validated."""
    if not isinstance(message, dict):
        raise param_error(100, "The parameter message is required")
    text = message.get("text")
    attachment = _attachment(message.get("attachment"))
    if text is not None and not isinstance(text, str):
        raise param_error(100, "param message[text] must be a UTF-8 encoded string")
    if not text and attachment is None:
        raise param_error(
            100, "Message cannot be empty, must provide valid attachment or text", 2018034
        )
    if text and len(text) > MAX_TEXT:
        raise param_error(
            100, f"Length of param message[text] must be less than or equal to {MAX_TEXT}"
        )
    return MessageParts(text or "", _quick_replies(message.get("quick_replies")), attachment)


def _attachment(raw: object) -> dict[str, Any] | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise param_error(100, "param message[attachment] must be an object")
    if not raw.get("type"):
        raise param_error(100, "The parameter message[attachment][type] is required")
    if raw.get("payload") is None:
        raise param_error(100, "The parameter message[attachment][payload] is required")
    return raw


def _quick_replies(raw: object) -> list[dict[str, Any]]:
    raw_replies = raw or []
    if not isinstance(raw_replies, list):
        raise param_error(100, "param message[quick_replies] must be an array")
    if len(raw_replies) > MAX_QUICK_REPLIES:
        raise param_error(
            100, f"param message[quick_replies] must have at most {MAX_QUICK_REPLIES} elements"
        )
    return [_quick_reply(i, reply) for i, reply in enumerate(raw_replies)]


def _quick_reply(i: int, reply: object) -> dict[str, Any]:
    where = f"message[quick_replies][{i}]"
    content_type = reply.get("content_type") if isinstance(reply, dict) else None
    if content_type in ("user_phone_number", "user_email"):
        return {"content_type": content_type}
    if not isinstance(reply, dict) or content_type != "text":
        raise param_error(
            100,
            f"param {where}[content_type] must be one of {{text, user_phone_number, user_email}}",
        )
    title, payload = reply.get("title"), reply.get("payload")
    if title is None or title == "":
        raise param_error(100, "Title is required for this quick reply content type", 2018098)
    if not isinstance(title, str):
        raise param_error(100, f"param {where}[title] must be a non-empty UTF-8 encoded string")
    if len(title) > MAX_QUICK_REPLY_TITLE:
        raise param_error(
            100, f"param {where}[title] must be at most {MAX_QUICK_REPLY_TITLE} characters"
        )
    if payload is None or payload == "":
        raise param_error(100, "Payload is required for this quick reply content type", 2018099)
    if not isinstance(payload, str | int) or isinstance(payload, bool):
        raise param_error(100, f"param {where}[payload] must be a UTF-8 encoded string")
    if len(str(payload)) > MAX_PAYLOAD:
        raise param_error(
            100, f"Length of param {where}[payload] must be less than or equal to {MAX_PAYLOAD}"
        )
    reply_json: dict[str, Any] = {"content_type": "text", "title": title, "payload": str(payload)}
    if isinstance(reply.get("image_url"), str):
        reply_json["image_url"] = reply["image_url"]
    return reply_json
