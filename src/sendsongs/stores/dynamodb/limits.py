"""Per-person attempt counters (`limits` table) and erasure receipts (`erasures`).

    limits    pk <key>     sk limit     counted: the expiry (µs) of each attempt still
                                        in its window; rev; expires_at (TTL)
    erasures  pk <code>    sk erasure   erased_at (µs)

A key's counter is one item, changed only by a conditional write on its revision, so
two workers can never both take the last slot. Attempts that left their window are
dropped at the next take; TTL removes a counter once its last attempt has left.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime, timedelta

from sendsongs.stores.dynamodb.client import (
    ConditionFailed,
    Dynamo,
    epoch_seconds,
    from_micros,
    key,
    micros,
    retry_on_conflict,
    to_wire,
    values,
)

LIMITS, ERASURES = "limits", "erasures"


class DynamoLimits:
    def __init__(self, dynamo: Dynamo) -> None:
        self._db = dynamo

    async def take(self, key: str, now: datetime, window: timedelta, limit: int) -> datetime | None:
        now_value, until = micros(now), now + window

        async def step() -> datetime | None:
            item = await self._db.get(LIMITS, key, "limit")
            counted = sorted(e for e in (item or {}).get("counted", []) if e > now_value)
            if len(counted) >= limit:
                return from_micros(counted[0])  # nothing counted: nothing written
            kept = [*counted, micros(until)]
            guard = (
                {"ConditionExpression": "attribute_not_exists(pk)"}
                if item is None
                else {
                    "ConditionExpression": "rev = :rev",
                    "ExpressionAttributeValues": values(rev=item["rev"]),
                }
            )
            row = {
                "pk": key,
                "sk": "limit",
                "counted": kept,
                "rev": (item["rev"] + 1) if item else 1,
                "expires_at": epoch_seconds(from_micros(max(kept))) + 1,
            }
            await self._db.call(
                "put_item", TableName=self._db.table(LIMITS), Item=to_wire(row), **guard
            )
            return None

        free_at: datetime | None = await retry_on_conflict(step, "counting an attempt")
        return free_at

    async def forget(self, keys: Sequence[str]) -> None:
        await asyncio.gather(
            *(
                self._db.call("delete_item", TableName=self._db.table(LIMITS), Key=key(k, "limit"))
                for k in set(keys)
            )
        )


class DynamoErasures:
    def __init__(self, dynamo: Dynamo) -> None:
        self._db = dynamo

    async def record_erasure(self, code: str, erased_at: datetime) -> None:
        item = {"pk": code, "sk": "erasure", "erased_at": micros(erased_at)}
        try:  # a receipt is never rewritten
            await self._db.call(
                "put_item",
                TableName=self._db.table(ERASURES),
                Item=to_wire(item),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ConditionFailed:
            return

    async def erased_at(self, code: str) -> datetime | None:
        item = await self._db.get(ERASURES, code, "erasure")
        return from_micros(item["erased_at"]) if item else None
