"""SQS: the FIFO inbox queue and the recipient check queue.

Each body names what to do, never carries it: an inbox message holds the stored
message's id (the store keeps the text), a check holds the claim. boto3 is synchronous,
so calls run in a worker thread. SendMessageBatch takes at most 10 entries (SQS API
reference, SendMessageBatch); FIFO de-duplication ids and group ids allow 128
characters of alphanumerics and punctuation (SQS API reference, SendMessage).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import threading
from collections.abc import Sequence
from typing import Any

import boto3

from sendsongs.domain.models import IncomingMessage, RecipientCheck

BATCH = 10
_FIFO_ID = re.compile(r"^[!-~]{1,128}$")  # printable ASCII without space


class QueueError(Exception):
    """SQS refused some messages; the caller's retry path takes over."""


def fifo_id(value: str) -> str:
    """`value` if SQS takes it as a group or de-duplication id, else its SHA-256."""
    return value if _FIFO_ID.match(value) else hashlib.sha256(value.encode()).hexdigest()


def check_body(check: RecipientCheck) -> str:
    return json.dumps(
        {"recipient_id": check.recipient_id, "claim": check.claim, "version": check.version}
    )


def check_from_body(body: str) -> RecipientCheck:
    """The check an SQS body names; ValueError if it names none."""
    try:
        data = json.loads(body)
        return RecipientCheck(str(data["recipient_id"]), str(data["claim"]), int(data["version"]))
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"not a recipient check: {body[:80]!r}") from error


def message_id_from_body(body: str) -> str:
    try:
        return str(json.loads(body)["id"])
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"not an inbox message: {body[:80]!r}") from error


class SqsQueues:
    """The inbox notifier and the check queue over two queue URLs."""

    def __init__(self, inbox_url: str | None, check_url: str | None) -> None:
        self._inbox_url, self._check_url = inbox_url, check_url
        self._client: Any = None
        self._lock = threading.Lock()

    def _sqs(self) -> Any:
        with self._lock:
            if self._client is None:
                self._client = boto3.session.Session().client("sqs")
            return self._client

    async def notify(self, messages: Sequence[IncomingMessage]) -> None:
        if self._inbox_url is None:
            raise QueueError("SENDSONGS_INBOX_QUEUE_URL is not set")
        entries = [
            {
                "Id": str(number),
                "MessageBody": json.dumps({"id": message.id}),
                # one group per sender: SQS hands out a group's messages in order
                "MessageGroupId": fifo_id(str(message.sender)),
                "MessageDeduplicationId": fifo_id(message.id),
            }
            for number, message in enumerate(messages)
        ]
        await self._send(self._inbox_url, entries)

    async def send_checks(self, checks: Sequence[RecipientCheck]) -> None:
        if self._check_url is None:
            raise QueueError("SENDSONGS_CHECK_QUEUE_URL is not set")
        entries = [
            {"Id": str(number), "MessageBody": check_body(check)}
            for number, check in enumerate(checks)
        ]
        await self._send(self._check_url, entries)

    async def _send(self, url: str, entries: list[dict[str, str]]) -> None:
        batches = [entries[i : i + BATCH] for i in range(0, len(entries), BATCH)]
        await asyncio.gather(*(asyncio.to_thread(self._send_batch, url, b) for b in batches))

    def _send_batch(self, url: str, entries: list[dict[str, str]]) -> None:
        answer = self._sqs().send_message_batch(QueueUrl=url, Entries=entries)
        failed = answer.get("Failed", [])
        if failed:
            codes = sorted({str(f.get("Code")) for f in failed})
            raise QueueError(f"SQS refused {len(failed)} of {len(entries)} messages: {codes}")
