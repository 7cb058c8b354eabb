"""Messenger webhook events as the page would deliver them: built, signed and posted."""

from __future__ import annotations

import hmac
import json
from typing import Any

import httpx

WEBHOOK_TIMEOUT = 30.0  # seconds; the bot should answer far sooner, as Messenger expects


def messaging(
    page_id: str,
    psid: str,
    mid: str,
    text: str | None,
    quick_reply_payload: str | None,
    now_ms: int,
    attachments: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """One `messaging` item: a person's message to the page, as Messenger shapes it
    (text and attachments are each present only when the message has them)."""
    message: dict[str, Any] = {"mid": mid}
    if text is not None:
        message["text"] = text
    if quick_reply_payload is not None:
        message["quick_reply"] = {"payload": quick_reply_payload}
    if attachments:
        message["attachments"] = attachments
    return {
        "sender": {"id": psid},
        "recipient": {"id": page_id},
        "timestamp": now_ms,
        "message": message,
    }


def page_event(
    page_id: str, items: list[dict[str, Any]], now_ms: int, one_entry: bool = False
) -> dict[str, Any]:
    """A `page` webhook body. Messenger may batch: several entries in one POST, or
    (`one_entry`) several messaging items in one entry."""
    if one_entry:
        entries = [{"id": page_id, "time": now_ms, "messaging": items}]
    else:
        entries = [{"id": page_id, "time": now_ms, "messaging": [item]} for item in items]
    return {"object": "page", "entry": entries}


def message_event(
    page_id: str,
    psid: str,
    mid: str,
    text: str,
    quick_reply_payload: str | None,
    now_ms: int,
) -> dict[str, Any]:
    """A `messages` webhook event with one message, shaped like a real delivery."""
    item = messaging(page_id, psid, mid, text, quick_reply_payload, now_ms)
    return page_event(page_id, [item], now_ms)


def encode(event: dict[str, Any]) -> bytes:
    # Messenger escapes non-ASCII characters as \uXXXX, so the signed bytes are ASCII;
    # half a surrogate pair (text cut inside an emoji) stays a lone `\ud83c` escape.
    return json.dumps(event, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def signature(body: bytes, app_secret: str, algorithm: str = "sha256") -> str:
    """The `X-Hub-Signature-256` (or, with sha1, `X-Hub-Signature`) header value for
    these exact bytes."""
    digest = hmac.new(app_secret.encode(), body, algorithm).hexdigest()
    return f"{algorithm}={digest}"


async def deliver(
    client: httpx.AsyncClient | None, url: str, body: bytes, app_secret: str
) -> tuple[int | None, str | None]:
    """POST the event; the webhook's status, or None and why it could not be reached."""
    headers = {
        "Content-Type": "application/json",
        "X-Hub-Signature-256": signature(body, app_secret),
        # Messenger still sends the legacy SHA-1 signature alongside.
        "X-Hub-Signature": signature(body, app_secret, "sha1"),
        "User-Agent": "facebookexternalua",
    }
    try:
        if client is not None:
            response = await client.post(url, content=body, headers=headers)
        else:
            async with httpx.AsyncClient(timeout=WEBHOOK_TIMEOUT) as own:
                response = await own.post(url, content=body, headers=headers)
    except httpx.HTTPError as error:
        return None, f"{type(error).__name__}: {error}"
    return response.status_code, None
