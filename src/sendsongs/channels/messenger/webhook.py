"""Messenger webhook intake: signature and subscription checks, event parsing (no I/O)."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

import structlog

from sendsongs.domain.models import Address, IncomingMessage
from sendsongs.domain.text import mend_surrogates

CHANNEL = "messenger"

log = structlog.get_logger(__name__)

_SIGNATURE_PREFIX = "sha256="


class MalformedEvent(ValueError):
    """The body is not a Messenger page event we can read."""


def verify_signature(app_secret: str, body: bytes, header: str | None) -> bool:
    """True when `X-Hub-Signature-256` is the HMAC-SHA256 of the raw body."""
    if not app_secret or not header or not header.startswith(_SIGNATURE_PREFIX):
        return False
    given = header[len(_SIGNATURE_PREFIX) :].strip().lower()
    if not given.isascii():
        return False
    expected = hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode(), given.encode())


def verify_subscription(
    mode: str | None, token: str | None, challenge: str | None, verify_token: str
) -> str | None:
    """The challenge to echo back when Messenger's subscription check is ours, else None."""
    if mode != "subscribe" or token is None or challenge is None or not verify_token:
        return None
    if not hmac.compare_digest(token.encode(), verify_token.encode()):
        return None
    return challenge


def parse_webhook(body: bytes, received_at: datetime) -> list[IncomingMessage]:
    """The messages and postbacks in one webhook POST, in delivery order.

    Echoes of our own messages, delivery and read receipts, reactions and other
    events are skipped; anything that is not a page event raises MalformedEvent.
    """
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise MalformedEvent("body is not JSON") from exc
    if not isinstance(data, dict) or data.get("object") != "page":
        raise MalformedEvent('not a page event (expected {"object": "page"})')
    entries = data.get("entry")
    if not isinstance(entries, list):
        raise MalformedEvent("page event without an entry list")
    messages: list[IncomingMessage] = []
    for event in _messaging_events(entries):
        try:
            message = _parse_event(event, received_at)
        except MalformedEvent as error:
            # one person's unreadable event must not cost the others theirs: a 400
            # for the whole body would have Messenger redeliver it all, forever
            log.warning("messenger_event_skipped", reason=str(error))
            continue
        if message is not None:
            messages.append(message)
    return messages


def _messaging_events(entries: list[Any]) -> Iterator[Mapping[str, Any]]:
    for entry in entries:
        if not isinstance(entry, dict):
            raise MalformedEvent("entry item is not an object")
        # Entries of other subscriptions (standby, changes) carry no messaging list.
        messaging = entry.get("messaging", [])
        if not isinstance(messaging, list):
            raise MalformedEvent("entry.messaging is not a list")
        for event in messaging:
            if not isinstance(event, dict):
                raise MalformedEvent("messaging item is not an object")
            yield event


def _parse_event(event: Mapping[str, Any], received_at: datetime) -> IncomingMessage | None:
    message = event.get("message")
    postback = event.get("postback")
    if isinstance(message, dict):
        if message.get("is_echo") is True:
            return None  # our own message, reflected back
        sender = _sender_id(event)
        return None if sender is None else _from_message(message, sender, received_at)
    if isinstance(postback, dict):
        sender = _sender_id(event)
        return None if sender is None else _from_postback(event, postback, sender, received_at)
    return None  # delivery, read, reaction, referral, optin …: nothing to answer


def _sender_id(event: Mapping[str, Any]) -> str | None:
    """The sender's page-scoped id; None for senders known only by a `user_ref`
    (checkbox plugin), whom the Send API cannot address by id."""
    sender = event.get("sender")
    if not isinstance(sender, dict):
        raise MalformedEvent("event without a sender")
    return _optional_id(sender.get("id"), "sender.id")


def _from_message(
    message: Mapping[str, Any], sender: str, received_at: datetime
) -> IncomingMessage:
    mid = _required_id(message.get("mid"), "message.mid")
    quick_reply = message.get("quick_reply")
    payload = quick_reply.get("payload") if isinstance(quick_reply, dict) else None
    return IncomingMessage(
        id=f"{CHANNEL}:{mid}",
        sender=Address(CHANNEL, sender),
        received_at=received_at,
        text=_text(message.get("text"), "message.text"),
        payload=payload if isinstance(payload, str) else None,
        attachments=_attachment_urls(message.get("attachments")),
    )


def _from_postback(
    event: Mapping[str, Any], postback: Mapping[str, Any], sender: str, received_at: datetime
) -> IncomingMessage:
    mid = _optional_id(postback.get("mid"), "postback.mid")
    if mid is None:
        # Older postbacks carry no mid; sender + timestamp still names one tap.
        timestamp = _required_id(event.get("timestamp"), "timestamp")
        mid = f"postback:{sender}:{timestamp}"
    payload = postback.get("payload")
    return IncomingMessage(
        id=f"{CHANNEL}:{mid}",
        sender=Address(CHANNEL, sender),
        received_at=received_at,
        text=_text(postback.get("title"), "postback.title"),
        payload=payload if isinstance(payload, str) else None,
    )


def _optional_id(value: object, field: str) -> str | None:
    # Webhook ids are documented as strings; numbers are accepted as the same id.
    if value is None:
        return None
    if isinstance(value, str) and value:
        if _has_lone_surrogate(value):
            raise MalformedEvent(f"{field} is not valid text")
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise MalformedEvent(f"{field} is not an id")


def _required_id(value: object, field: str) -> str:
    found = _optional_id(value, field)
    if found is None:
        raise MalformedEvent(f"{field} is missing")
    return found


def _text(value: object, field: str) -> str:
    """The text, with any half of a surrogate pair (JSON may escape one alone, e.g.
    "\\ud83c", which no UTF-8 store can hold) replaced by U+FFFD, so the message
    is kept and the person can be told part of it arrived broken."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise MalformedEvent(f"{field} is not a string")
    return mend_surrogates(value)


def _has_lone_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _attachment_urls(attachments: object) -> tuple[str, ...]:
    """Urls of shared links (`fallback` attachments keep theirs at the top level)
    and of media (in `payload.url`)."""
    if not isinstance(attachments, list):
        return ()
    urls: list[str] = []
    for attachment in attachments:
        if not isinstance(attachment, dict):
            continue
        payload = attachment.get("payload")
        for url in (
            attachment.get("url"),
            payload.get("url") if isinstance(payload, dict) else None,
        ):
            if isinstance(url, str) and url and url not in urls:
                urls.append(url)
    return tuple(urls)
