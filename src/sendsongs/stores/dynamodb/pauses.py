"""App-wide source pauses in the `pauses` table (pk `<source>`, sk `pause`)."""

from __future__ import annotations

from datetime import datetime

from sendsongs.stores.dynamodb.client import (
    ConditionFailed,
    Dynamo,
    from_micros,
    key,
    micros,
    values,
)

TABLE = "pauses"


class DynamoPauses:
    def __init__(self, dynamo: Dynamo) -> None:
        self._db = dynamo

    async def pause(self, source: str, until: datetime) -> None:
        try:
            await self._db.call(
                "update_item",
                TableName=self._db.table(TABLE),
                Key=key(source, "pause"),
                UpdateExpression="SET #u = :u",
                # a later pause wins: an earlier one changes nothing
                ConditionExpression="attribute_not_exists(#u) OR #u < :u",
                ExpressionAttributeNames={"#u": "until"},
                ExpressionAttributeValues=values(u=micros(until)),
            )
        except ConditionFailed:
            return

    async def paused_until(self, source: str) -> datetime | None:
        item = await self._db.get(TABLE, source, "pause")
        return from_micros(item["until"]) if item else None
