"""The inbox and the outbox: items claimed by lease through the sparse `queue` index.

    inbox   pk <message id>      sk message       queue todo#<n> / done#<n>, due (µs)
                                                  unread: an update as sent, until read
    outbox  pk <message id>      sk outgoing      queue ready#<n> / held#<n>, due (µs)
    outbox  pk held#<address>    sk <message id>  marks a message held for that address

`queue` + `due` form the `queue` index; `address` and `on_behalf_of` the sparse
`by_address` and `by_behalf` indexes (pk as sort key), where an erasure finds a
person's messages. A waiting item sits in one of a few shards
(`todo#<n>`, `ready#<n>`) with `due` = when it may be taken: its time of arrival, the
end of a lease, or a retry's not-before. A claim reads due items from every shard and
takes each with a conditional write on its revision, so two claimers never share one.
Handled inbox items move to `done#<n>` (purge finds them there; TTL drops them after a
week); held outbox items wait in `held#<n>` by creation (drop_held finds the old ones
there), each with a marker under its address (release_held reads those, strongly
consistent) until that address writes again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sendsongs.domain.models import (
    Address,
    IncomingMessage,
    MessageKind,
    Outgoing,
    QuickReply,
    Reply,
)
from sendsongs.stores.dynamodb.client import (
    ConditionFailed,
    Dynamo,
    Item,
    TransactionCanceled,
    from_micros,
    from_wire,
    key,
    micros,
    retry_on_conflict,
    shard_of,
    to_wire,
    values,
)

INBOX, OUTBOX = "inbox", "outbox"
QUEUE_SHARDS = 4
HANDLED_MEMORY = timedelta(days=7)  # handled ids are kept to drop redeliveries, then TTL
HELD_MEMORY = timedelta(days=28)  # a message held this long is stale news: TTL drops it
_NAMES = {"#q": "queue", "#d": "due"}


async def _claim(
    db: Dynamo,
    role: str,
    prefix: str,
    now: datetime,
    lease_until: datetime,
    limit: int,
    order: Callable[[Item], Any],
) -> list[Item]:
    """Lease up to `limit` items due at `now` from the shards `<prefix><n>`."""
    if limit <= 0:
        return []
    now_value, lease = micros(now), micros(lease_until)
    claimed: list[Item] = []
    tried: set[str] = set()
    while len(claimed) < limit:
        want = limit - len(claimed) + len(tried)
        pages = await asyncio.gather(
            *(
                db.query(
                    role,
                    IndexName="queue",
                    KeyConditionExpression="#q = :q AND #d <= :now",
                    ExpressionAttributeNames=_NAMES,
                    ExpressionAttributeValues=values(q=f"{prefix}{shard}", now=now_value),
                    Limit=want,
                )
                for shard in range(QUEUE_SHARDS)
            )
        )
        found = sorted((i for p in pages for i in p if i["pk"] not in tried), key=order)
        if not found:
            break
        batch = found[: limit - len(claimed)]
        tried.update(item["pk"] for item in batch)
        won = await asyncio.gather(*(_lease(db, role, item, now_value, lease) for item in batch))
        claimed += [item for item, ok in zip(batch, won, strict=True) if ok]
        if all(len(page) < want for page in pages) and all(won) and len(batch) == len(found):
            break  # every due item was seen and taken: no need to look again
    return sorted(claimed, key=order)


async def _lease(db: Dynamo, role: str, item: Item, now: int, lease: int) -> bool:
    try:
        await db.call(
            "update_item",
            TableName=db.table(role),
            Key=key(item["pk"], item["sk"]),
            UpdateExpression="SET #d = :lease ADD rev :one",
            ConditionExpression="rev = :rev AND #q = :q AND #d <= :now",
            ExpressionAttributeNames=_NAMES,
            ExpressionAttributeValues=values(
                lease=lease, one=1, rev=item["rev"], q=item["queue"], now=now
            ),
        )
    except ConditionFailed:
        return False
    return True


async def _update(db: Dynamo, role: str, pk: str, sk: str, **request: Any) -> bool:
    """One conditional update; False if its condition did not hold."""
    try:
        await db.call("update_item", TableName=db.table(role), Key=key(pk, sk), **request)
    except ConditionFailed:
        return False
    return True


def _incoming_item(message: IncomingMessage) -> Item:
    received = micros(message.received_at)
    shard = shard_of(message.id, QUEUE_SHARDS)
    return {
        "pk": message.id,
        "sk": "message",
        "sender": str(message.sender),
        "text": message.text,
        "payload": message.payload,
        "attachments": list(message.attachments),
        "profile_name": message.profile_name,
        "unread": message.unread,
        "received": received,
        "queue": f"todo#{shard}",
        "done_queue": f"done#{shard}",
        "due": received,
        "rev": 0,
    }


def _incoming(item: Item) -> IncomingMessage:
    unread = item.get("unread")
    return IncomingMessage(
        id=item["pk"],
        sender=_sender(item["sender"], unread is not None),
        received_at=from_micros(item["received"]),
        text=item.get("text", ""),
        payload=item.get("payload"),
        attachments=tuple(item.get("attachments", [])),
        profile_name=item.get("profile_name"),
        unread=unread,
    )


def _sender(value: str, unread: bool) -> Address:
    """The stored sender: `<channel>:`, with no id, while the update is unread."""
    if unread and value.endswith(":"):
        return Address.unknown(value.removesuffix(":"))
    return Address.parse(value)


def _by_arrival(item: Item) -> tuple[int, str]:
    return (item["received"], item["pk"])


class DynamoInbox:
    def __init__(self, dynamo: Dynamo) -> None:
        self._db = dynamo

    async def add_incoming(self, messages: Sequence[IncomingMessage]) -> int:
        items: dict[str, Item] = {}
        for message in messages:  # all checked before any is written
            items.setdefault(message.id, _incoming_item(message))
        added = await asyncio.gather(*(self._put_new(item) for item in items.values()))
        return sum(added)

    async def _put_new(self, item: Item) -> bool:
        try:  # de-duplication by conditional put: a known id is a redelivery
            await self._db.call(
                "put_item",
                TableName=self._db.table(INBOX),
                Item=to_wire(item),
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ConditionFailed:
            return False
        return True

    async def claim_incoming(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> list[IncomingMessage]:
        items = await _claim(self._db, INBOX, "todo#", now, lease_until, limit, _by_arrival)
        return [_incoming(item) for item in items]

    async def claim_message(
        self, message_id: str, now: datetime, lease_until: datetime
    ) -> IncomingMessage | None:
        try:
            answer = await self._db.call(
                "update_item",
                TableName=self._db.table(INBOX),
                Key=key(message_id, "message"),
                UpdateExpression="SET #d = :lease ADD rev :one",
                ConditionExpression="begins_with(#q, :todo) AND #d <= :now",
                ExpressionAttributeNames=_NAMES,
                ExpressionAttributeValues=values(
                    lease=micros(lease_until), one=1, todo="todo#", now=micros(now)
                ),
                ReturnValues="ALL_NEW",
            )
        except ConditionFailed:
            return None  # handled, unknown, or in another worker's hands
        return _incoming(from_wire(answer["Attributes"]))

    async def finish_incoming(self, message_id: str) -> None:
        forget = int(time.time() + HANDLED_MEMORY.total_seconds())
        await _update(
            self._db,
            INBOX,
            message_id,
            "message",
            # only the id (redeliveries) and the arrival (purge) stay: nothing personal
            UpdateExpression="SET #q = done_queue, #d = received, expires_at = :ttl"
            " REMOVE #s, #t, payload, attachments, profile_name, unread",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames={**_NAMES, "#s": "sender", "#t": "text"},
            ExpressionAttributeValues=values(ttl=forget),
        )

    async def purge_handled(self, handled_before: datetime) -> None:
        pages = await asyncio.gather(
            *(
                self._db.query(
                    INBOX,
                    IndexName="queue",
                    KeyConditionExpression="#q = :q AND #d < :before",
                    ExpressionAttributeNames=_NAMES,
                    ExpressionAttributeValues=values(
                        q=f"done#{shard}", before=micros(handled_before)
                    ),
                )
                for shard in range(QUEUE_SHARDS)
            )
        )
        for item in (i for page in pages for i in page):
            try:
                await self._db.call(
                    "delete_item",
                    TableName=self._db.table(INBOX),
                    Key=key(item["pk"], "message"),
                    ConditionExpression="begins_with(#q, :done)",
                    ExpressionAttributeNames={"#q": "queue"},
                    ExpressionAttributeValues=values(done="done#"),
                )
            except ConditionFailed:
                continue


def outgoing_item(message: Outgoing) -> Item:
    created = micros(message.created_at)
    return {
        "pk": message.id,
        "sk": "outgoing",
        "address": str(message.address),
        "text": message.reply.text,
        "quick_replies": [
            {"title": q.title, "payload": q.payload} for q in message.reply.quick_replies
        ],
        "kind": message.kind.value,
        "created": created,
        "queue": f"ready#{shard_of(message.id, QUEUE_SHARDS)}",
        "ready_queue": f"ready#{shard_of(message.id, QUEUE_SHARDS)}",
        "held_queue": f"held#{shard_of(message.id, QUEUE_SHARDS)}",
        "due": created,
        "rev": 0,
        "on_behalf_of": None if message.on_behalf_of is None else str(message.on_behalf_of),
    }


def outgoing_put(db: Dynamo, message: Outgoing) -> dict[str, Any]:
    """The TransactWriteItems action that adds `message` (refused if its id exists)."""
    return {
        "Put": {
            "TableName": db.table(OUTBOX),
            "Item": to_wire(outgoing_item(message)),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }


async def unknown_outgoing(db: Dynamo, ids: Sequence[str]) -> set[str]:
    """Those of `ids` the outbox does not hold (an id already there is kept as it is)."""
    if not ids:
        return set()
    found = await db.get_many(OUTBOX, [(i, "outgoing") for i in ids])
    return set(ids) - {item["pk"] for item in found}


def _outgoing(item: Item) -> Outgoing:
    return Outgoing(
        id=item["pk"],
        address=Address.parse(item["address"]),
        reply=Reply(
            item["text"],
            tuple(QuickReply(q["title"], q["payload"]) for q in item.get("quick_replies", [])),
        ),
        created_at=from_micros(item["created"]),
        kind=MessageKind(item["kind"]),
        on_behalf_of=Address.parse(item["on_behalf_of"]) if item.get("on_behalf_of") else None,
    )


def _by_creation(item: Item) -> tuple[int, str]:
    return (item["created"], item["pk"])


class DynamoOutbox:
    def __init__(self, dynamo: Dynamo) -> None:
        self._db = dynamo

    async def add_outgoing(self, messages: Sequence[Outgoing]) -> None:
        puts: dict[str, dict[str, Any]] = {}
        for message in messages:  # all checked before any is written
            puts.setdefault(message.id, outgoing_put(self._db, message))
        await asyncio.gather(*(self._put_new(put) for put in puts.values()))

    async def _put_new(self, put: dict[str, Any]) -> None:
        try:
            await self._db.call("put_item", **put["Put"])
        except ConditionFailed:
            return

    async def claim_outgoing(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> list[Outgoing]:
        items = await _claim(self._db, OUTBOX, "ready#", now, lease_until, limit, _by_creation)
        return [_outgoing(item) for item in items]

    async def finish_outgoing(self, message_id: str) -> None:
        await self._db.call(
            "delete_item", TableName=self._db.table(OUTBOX), Key=key(message_id, "outgoing")
        )

    async def retry_outgoing(self, message_id: str, not_before: datetime) -> None:
        # a held message stays held: its release makes it go at once anyway
        await _update(
            self._db,
            OUTBOX,
            message_id,
            "outgoing",
            UpdateExpression="SET #d = :after ADD rev :one",
            ConditionExpression="begins_with(#q, :ready)",
            ExpressionAttributeNames=_NAMES,
            ExpressionAttributeValues=values(after=micros(not_before), one=1, ready="ready#"),
        )

    async def hold_outgoing(self, message_id: str) -> None:
        forget = int(time.time() + HELD_MEMORY.total_seconds())

        async def step() -> None:
            item = await self._db.get(OUTBOX, message_id, "outgoing")
            if item is None:
                return
            await self._db.transact(
                [
                    {
                        "Update": {
                            "TableName": self._db.table(OUTBOX),
                            "Key": key(message_id, "outgoing"),
                            "UpdateExpression": "SET #q = held_queue, #d = created,"
                            " expires_at = :ttl ADD rev :one",
                            "ConditionExpression": "rev = :rev",
                            "ExpressionAttributeNames": _NAMES,
                            "ExpressionAttributeValues": values(ttl=forget, one=1, rev=item["rev"]),
                        }
                    },
                    {
                        "Put": {
                            "TableName": self._db.table(OUTBOX),
                            "Item": to_wire({"pk": f"held#{item['address']}", "sk": message_id}),
                        }
                    },
                ]
            )

        await retry_on_conflict(step, "holding a message")

    async def release_held(self, address: Address) -> int:
        markers = await self._markers(str(address))
        released = await asyncio.gather(
            *(
                self._unhold(
                    marker,
                    "SET #q = ready_queue, #d = created ADD rev :one REMOVE expires_at",
                )
                for marker in markers
            )
        )
        return sum(released)

    async def drop_held(self, created_before: datetime) -> list[Outgoing]:
        pages = await asyncio.gather(
            *(
                self._db.query(
                    OUTBOX,
                    IndexName="queue",
                    KeyConditionExpression="#q = :q AND #d < :before",
                    ExpressionAttributeNames=_NAMES,
                    ExpressionAttributeValues=values(
                        q=f"held#{shard}", before=micros(created_before)
                    ),
                )
                for shard in range(QUEUE_SHARDS)
            )
        )
        held = [item for page in pages for item in page]
        dropped = await asyncio.gather(
            *(self._unhold({"pk": f"held#{i['address']}", "sk": i["pk"]}, None) for i in held)
        )
        kept = [item for item, gone in zip(held, dropped, strict=True) if gone]
        return [_outgoing(item) for item in sorted(kept, key=_by_creation)]

    async def erase_to(self, addresses: Sequence[Address]) -> int:
        wanted = sorted({str(address) for address in addresses})
        # by_address and by_behalf are GSIs (eventually consistent): a message added in
        # the very same moment may be missed. The held markers are read consistently.
        pages = await asyncio.gather(
            *(self._by("by_address", "address", a) for a in wanted),
            *(self._by("by_behalf", "on_behalf_of", a) for a in wanted),
            *(self._markers(a) for a in wanted),
        )
        found = [item for page in pages for item in page]
        ids = sorted(
            {item["sk"] if item["pk"].startswith("held#") else item["pk"] for item in found}
        )
        deleted = await asyncio.gather(*(self._delete(i) for i in ids))
        gone = [item for item in deleted if item is not None]
        markers = {(i["pk"], i["sk"]) for i in found if i["pk"].startswith("held#")}
        markers |= {
            (f"held#{i['address']}", i["pk"]) for i in gone if i["queue"].startswith("held#")
        }
        await asyncio.gather(
            *(
                self._db.call("delete_item", TableName=self._db.table(OUTBOX), Key=key(pk, sk))
                for pk, sk in sorted(markers)
            )
        )
        return len(gone)

    async def _by(self, index: str, attribute: str, address: str) -> list[Item]:
        return await self._db.query(
            OUTBOX,
            IndexName=index,
            KeyConditionExpression="#a = :a",
            ExpressionAttributeNames={"#a": attribute},
            ExpressionAttributeValues=values(a=address),
        )

    async def _markers(self, address: str) -> list[Item]:
        return await self._db.query(
            OUTBOX,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues=values(pk=f"held#{address}"),
            ConsistentRead=True,
        )

    async def _delete(self, message_id: str) -> Item | None:
        """Delete one message; the item as it was, or None if it was not there."""
        answer = await self._db.call(
            "delete_item",
            TableName=self._db.table(OUTBOX),
            Key=key(message_id, "outgoing"),
            ReturnValues="ALL_OLD",
        )
        return from_wire(answer["Attributes"]) if "Attributes" in answer else None

    async def _unhold(self, marker: Item, update: str | None) -> bool:
        """Release (`update`) or drop (None) one held message and remove its marker,
        in one step; False if it was no longer held."""
        message_key = key(marker["sk"], "outgoing")
        change: dict[str, Any] = (
            {"Delete": {"Key": message_key}}
            if update is None
            else {"Update": {"Key": message_key, "UpdateExpression": update}}
        )
        operation = next(iter(change.values()))
        operation.update(
            TableName=self._db.table(OUTBOX),
            ConditionExpression="begins_with(#q, :held)",
            ExpressionAttributeNames={"#q": "queue"} if update is None else _NAMES,
            ExpressionAttributeValues=values(
                held="held#", **({} if update is None else {"one": 1})
            ),
        )
        drop_marker = {
            "Delete": {"TableName": self._db.table(OUTBOX), "Key": key(marker["pk"], marker["sk"])}
        }
        try:
            await self._db.transact([change, drop_marker])
        except TransactionCanceled:
            await self._db.transact([drop_marker])  # the message went another way
            return False
        return True
