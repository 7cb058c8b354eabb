"""One boto3 DynamoDB client used from async code, and the item codec.

boto3 is synchronous; each call runs in a worker thread (asyncio.to_thread), so the
event loop keeps serving while DynamoDB answers. boto3 clients are thread-safe.
The client honours the usual AWS variables, `AWS_ENDPOINT_URL_DYNAMODB` included
(boto3 ≥ 1.28, "Service-specific endpoints"), which is how tests reach moto.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from sendsongs.errors import StoreError

Item = dict[str, Any]  # plain Python values (str, int, bool, dict, list, set)
Wire = dict[str, Any]  # DynamoDB's typed JSON ({"S": ...}, {"N": ...})

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_SERIALIZER = TypeSerializer()
_DESERIALIZER = TypeDeserializer()
# Enough sockets for the worker's concurrent checks and a claim's parallel conditional writes.
_CLIENT_CONFIG = Config(max_pool_connections=32, retries={"mode": "standard", "max_attempts": 5})


class ConditionFailed(Exception):
    """A conditional write found the item changed (ConditionalCheckFailedException)."""


class TableMissing(StoreError):
    """The table does not exist (ResourceNotFoundException)."""


class TransactionCanceled(Exception):
    """TransactWriteItems was refused; `reasons` holds one code per item ("None" if fine)."""

    def __init__(self, reasons: list[str]) -> None:
        super().__init__(", ".join(reasons))
        self.reasons = reasons


def micros(value: datetime) -> int:
    """Microseconds since the epoch; ValueError for a naive time (like every store)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("naive datetime given to the store")
    return (value - _EPOCH) // _MICROSECOND


def from_micros(value: int | Decimal) -> datetime:
    return _EPOCH + int(value) * _MICROSECOND


def epoch_seconds(value: datetime) -> int:
    """The form DynamoDB's TTL reads: whole seconds since the epoch."""
    return micros(value) // 1_000_000


def shard_of(key: str, shards: int) -> str:
    """A stable shard number ("0".."shards-1") for a key, so items spread evenly."""
    digest = hashlib.blake2b(key.encode("utf-8"), digest_size=4).digest()
    return str(int.from_bytes(digest, "big") % shards)


def to_wire(item: Mapping[str, Any]) -> Wire:
    """Plain values → DynamoDB JSON; None values are left out (no NULL attributes)."""
    return {k: _SERIALIZER.serialize(v) for k, v in item.items() if v is not None}


def from_wire(wire: Mapping[str, Any]) -> Item:
    return {k: _plain(_DESERIALIZER.deserialize(v)) for k, v in wire.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def values(**named: Any) -> Wire:
    """ExpressionAttributeValues from keyword arguments: values(now=3) → {":now": {...}}."""
    return {f":{k}": _SERIALIZER.serialize(v) for k, v in named.items()}


_SESSION_LOCK = threading.Lock()
_SESSIONS: list[boto3.session.Session] = []


def _session() -> boto3.session.Session:
    """One boto3 session per process: it loads the service description once."""
    if not _SESSIONS:
        _SESSIONS.append(boto3.session.Session())
    return _SESSIONS[0]


class Dynamo:
    """The tables of one prefix, reached through one lazily made client."""

    def __init__(self, prefix: str, region: str | None = None) -> None:
        self.prefix = prefix
        self._region = region
        self._client: Any = None

    def __repr__(self) -> str:
        return f"Dynamo({self.prefix!r})"

    def table(self, role: str) -> str:
        return f"{self.prefix}-{role}"

    @property
    def client(self) -> Any:
        with _SESSION_LOCK:  # first use may come from several threads; sessions aren't safe
            if self._client is None:
                session = _session()
                region = self._region or session.region_name or "us-east-1"
                self._client = session.client("dynamodb", region_name=region, config=_CLIENT_CONFIG)
            return self._client

    async def call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        """Run one API operation (snake_case name) in a thread; errors as our own."""
        return await asyncio.to_thread(self.call_sync, operation, **kwargs)

    def call_sync(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        try:
            result: dict[str, Any] = getattr(self.client, operation)(**kwargs)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code == "ConditionalCheckFailedException":
                raise ConditionFailed from None
            if code == "ResourceNotFoundException":
                raise TableMissing(f"DynamoDB table missing under {self.prefix!r}") from None
            if code == "TransactionCanceledException":
                reasons = [
                    str(reason.get("Code", "None"))
                    for reason in error.response.get("CancellationReasons", [])
                ]
                raise TransactionCanceled(reasons) from None
            message = error.response.get("Error", {}).get("Message", "")
            raise StoreError(f"DynamoDB {operation} ({self.prefix}): {code} {message}") from None
        except BotoCoreError as error:
            raise StoreError(f"DynamoDB {operation} ({self.prefix}): {error}") from None
        return result

    async def get(self, role: str, pk: str, sk: str) -> Item | None:
        """One item, read strongly consistent."""
        found = await self.call(
            "get_item", TableName=self.table(role), Key=key(pk, sk), ConsistentRead=True
        )
        return from_wire(found["Item"]) if "Item" in found else None

    async def get_many(self, role: str, keys: list[tuple[str, str]]) -> list[Item]:
        """Items by key (consistent, any order); missing ones are left out."""
        found: list[Item] = []
        for start in range(0, len(keys), 100):  # BatchGetItem takes 100 keys
            request: dict[str, Any] = {
                self.table(role): {
                    "Keys": [key(pk, sk) for pk, sk in keys[start : start + 100]],
                    "ConsistentRead": True,
                }
            }
            while request:
                answer = await self.call("batch_get_item", RequestItems=request)
                found += [from_wire(w) for w in answer["Responses"].get(self.table(role), [])]
                request = answer.get("UnprocessedKeys") or {}
        return found

    async def query(self, role: str, **kwargs: Any) -> list[Item]:
        """Every item a query matches (following pages unless a Limit is given)."""
        items: list[Item] = []
        kwargs = {"TableName": self.table(role), **kwargs}
        while True:
            answer = await self.call("query", **kwargs)
            items += [from_wire(w) for w in answer.get("Items", [])]
            last = answer.get("LastEvaluatedKey")
            if not last or "Limit" in kwargs:
                return items
            kwargs["ExclusiveStartKey"] = last

    async def transact(self, actions: list[Wire]) -> None:
        """TransactWriteItems: all of `actions` or none (at most 100 of them)."""
        if not actions:
            return
        if len(actions) > 100:
            raise StoreError(f"one step would write {len(actions)} items; DynamoDB allows 100")
        await self.call("transact_write_items", TransactItems=actions)


def key(pk: str, sk: str) -> Wire:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


CONFLICT_TRIES = 25


async def retry_on_conflict(step: Any, what: str) -> Any:
    """Run an optimistic read-then-conditional-write `step` again while another writer
    got in between (its condition failed); StoreError if that keeps happening."""
    for _ in range(CONFLICT_TRIES):
        try:
            return await step()
        except (ConditionFailed, TransactionCanceled):
            await asyncio.sleep(0)
    raise StoreError(f"DynamoDB: {what} kept conflicting with other writers")
