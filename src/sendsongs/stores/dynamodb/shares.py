"""Shares (`shares` table) and the per-recipient check schedule (`checks` table).

    shares  pk share#<id>          sk share   the share; sender_id + sent_key → by_sender,
                                              recipient_id + sent_key → by_recipient
    checks  pk recipient#<id>      sk check   shard + next_check_at → the `due` index;
                                              claim, version, rev, and `pending`:
                                              {share id: its next check, µs}

The check item is the one place a recipient's schedule lives, so every change to it
is a conditional write on its revision (`rev`): add_share, a claim and a settle can
never overwrite each other. `pending` names the recipient's pending shares and holds
their next checks, so reading them is strongly consistent (GetItem + BatchGetItem),
and a settle writes only the shares whose status changes, the notifications they
cause (the outbox rows) and the check item, all in one TransactWriteItems.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sendsongs.domain.models import Outgoing, RecipientCheck, Share, ShareStatus, Track
from sendsongs.stores.dynamodb.client import (
    ConditionFailed,
    Dynamo,
    Item,
    TransactionCanceled,
    epoch_seconds,
    from_micros,
    from_wire,
    key,
    micros,
    retry_on_conflict,
    shard_of,
    to_wire,
    values,
)
from sendsongs.stores.dynamodb.queues import outgoing_put, unknown_outgoing

SHARES, CHECKS = "shares", "checks"
# The `due` index's partition key is one of this many shards, so the sweep's reads and
# the index's writes spread over partitions instead of one hot one.
CHECK_SHARDS = 8
SETTLED_RETENTION = timedelta(days=90)  # finished shares are garbage after this (TTL)


def _share_pk(share_id: str) -> str:
    return f"share#{share_id}"


def _check_pk(recipient_id: str) -> str:
    return f"recipient#{recipient_id}"


def share_item(share: Share) -> Item:
    """The share as stored; ValueError (before anything is written) for a naive time."""
    shared = micros(share.shared_at)
    settled = None if share.settled_at is None else micros(share.settled_at)
    return {
        "pk": _share_pk(share.id),
        "sk": "share",
        "id": share.id,
        "sender_id": share.sender_id,
        "recipient_id": share.recipient_id,
        "sent_key": f"{shared:020d}#{share.id}",
        "track_uri": share.track.uri,
        "track_name": share.track.name,
        "track_artists": list(share.track.artists),
        "track_duration_ms": share.track.duration_ms,
        "track_url": share.track.url,
        "track_isrc": share.track.isrc,
        "pre": share.pre,
        "post": share.post,
        "shared_at": shared,
        "next_check_at": micros(share.next_check_at),
        "status": share.status.value,
        "settled_at": settled,
        "expires_at": None if share.settled_at is None else _garbage_after(share.settled_at),
        "group_send": share.group_send,
        "group_name": share.group_name,
        "delivered_at": None if share.delivered_at is None else micros(share.delivered_at),
        "unread": True if share.unread else None,  # absent on most shares
    }


def _garbage_after(settled_at: datetime) -> int:
    return epoch_seconds(settled_at + SETTLED_RETENTION)


def _share(item: Item, pending: dict[str, int] | None = None) -> Share:
    due = item["next_check_at"]
    if pending and item["id"] in pending and item["status"] == ShareStatus.PENDING.value:
        due = pending[item["id"]]  # a pending share's schedule lives in its check
    settled = item.get("settled_at")
    delivered = item.get("delivered_at")
    return Share(
        id=item["id"],
        sender_id=item["sender_id"],
        recipient_id=item["recipient_id"],
        track=Track(
            uri=item["track_uri"],
            name=item["track_name"],
            artists=tuple(item["track_artists"]),
            duration_ms=item["track_duration_ms"],
            url=item["track_url"],
            isrc=item.get("track_isrc"),
        ),
        shared_at=from_micros(item["shared_at"]),
        next_check_at=from_micros(due),
        pre=item.get("pre"),
        post=item.get("post"),
        status=ShareStatus(item["status"]),
        settled_at=None if settled is None else from_micros(settled),
        group_send=item.get("group_send"),
        group_name=item.get("group_name"),
        delivered_at=None if delivered is None else from_micros(delivered),
        unread=bool(item.get("unread", False)),
    )


class DynamoShares:
    def __init__(self, dynamo: Dynamo, *, shards: int = CHECK_SHARDS) -> None:
        self._db, self._shards = dynamo, shards
        self._checks = dynamo.table(CHECKS)

    async def add_share(self, share: Share) -> None:
        item = share_item(share)
        put = {
            "Put": {
                "TableName": self._db.table(SHARES),
                "Item": to_wire(item),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
        if share.status is not ShareStatus.PENDING:
            try:
                await self._db.call("put_item", **put["Put"])
            except ConditionFailed:
                return
            return

        async def step() -> None:
            check = await self._check(share.recipient_id)
            due = item["next_check_at"]
            if check is None:
                updated = self._new_check(share.recipient_id, due)
            else:
                # While the check is claimed, next_check_at holds the lease: keep it, so
                # nobody else claims mid-flight; the version tells the settle to look again.
                claimed = "claim" in check
                updated = {
                    **check,
                    "next_check_at": check["next_check_at"]
                    if claimed
                    else min(check["next_check_at"], due),
                    "version": check["version"] + 1,
                }
            updated["pending"] = {**updated.get("pending", {}), share.id: due}
            try:
                await self._db.transact([put, self._put_check(updated, check)])
            except TransactionCanceled:
                if await self._db.get(SHARES, _share_pk(share.id), "share") is not None:
                    return  # the id exists: re-adding a share changes nothing at all
                raise

        await retry_on_conflict(step, "adding a share")

    async def get_share(self, share_id: str) -> Share | None:
        item = await self._db.get(SHARES, _share_pk(share_id), "share")
        return None if item is None else await self._with_schedule(item)

    async def pending_shares(self, recipient_id: str) -> list[Share]:
        check = await self._check(recipient_id)
        pending: dict[str, int] = check.get("pending", {}) if check else {}
        items = await self._db.get_many(SHARES, [(_share_pk(i), "share") for i in pending])
        shares = [
            _share(item, pending)
            for item in items
            if item["status"] == ShareStatus.PENDING.value and item["recipient_id"] == recipient_id
        ]
        return sorted(shares, key=lambda s: (s.shared_at, s.id))

    async def shares_sent_by(self, sender_id: str, limit: int) -> list[Share]:
        if limit <= 0:
            return []
        items = await self._db.query(
            SHARES,
            IndexName="by_sender",
            KeyConditionExpression="sender_id = :sender",
            ExpressionAttributeValues=values(sender=sender_id),
            ScanIndexForward=False,
            Limit=limit,
        )
        return [_share(item) for item in items]

    async def shares_of_send(self, group_send: str) -> list[Share]:
        items = await self._db.query(
            SHARES,
            IndexName="by_send",
            KeyConditionExpression="group_send = :send",
            ExpressionAttributeValues=values(send=group_send),
        )
        return [await self._with_schedule(item) for item in items]

    async def mark_delivered(self, share_id: str, at: datetime) -> None:
        try:  # the first time counts
            await self._db.call(
                "update_item",
                TableName=self._db.table(SHARES),
                Key=key(_share_pk(share_id), "share"),
                UpdateExpression="SET delivered_at = :at",
                ConditionExpression="attribute_exists(pk) AND attribute_not_exists(delivered_at)",
                ExpressionAttributeValues=values(at=micros(at)),
            )
        except ConditionFailed:
            return

    async def cancel_share(self, share_id: str, at: datetime) -> bool:
        try:
            answer = await self._db.call(
                "update_item",
                TableName=self._db.table(SHARES),
                Key=key(_share_pk(share_id), "share"),
                UpdateExpression="SET #s = :cancelled, settled_at = :at, expires_at = :garbage",
                ConditionExpression="#s = :pending",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues=values(
                    cancelled=ShareStatus.CANCELLED.value,
                    at=micros(at),
                    garbage=_garbage_after(at),
                    pending=ShareStatus.PENDING.value,
                ),
                ReturnValues="ALL_NEW",
            )
        except ConditionFailed:
            return False
        recipient = answer["Attributes"]["recipient_id"]["S"]
        # the check no longer waits for it (it would find it settled anyway)
        with contextlib.suppress(ConditionFailed):
            await self._db.call(
                "update_item",
                TableName=self._checks,
                Key=key(_check_pk(recipient), "check"),
                UpdateExpression="REMOVE pending.#id ADD rev :one",
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeNames={"#id": share_id},
                ExpressionAttributeValues=values(one=1),
            )
        return True

    async def _with_schedule(self, item: Item) -> Share:
        if item["status"] != ShareStatus.PENDING.value:
            return _share(item)
        check = await self._check(item["recipient_id"])
        return _share(item, check.get("pending") if check else None)

    async def claim_due_checks(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> list[RecipientCheck]:
        if limit <= 0:
            return []
        now_value, lease = micros(now), micros(lease_until)
        claimed: list[RecipientCheck] = []
        tried: set[str] = set()
        while len(claimed) < limit:
            want = limit - len(claimed) + len(tried)
            candidates, exhausted = await self._due(now_value, want, tried)
            if not candidates:
                break
            candidates = candidates[: limit - len(claimed)]
            tried.update(item["pk"] for item in candidates)
            won = await asyncio.gather(
                *(self._claim(item, now_value, lease) for item in candidates)
            )
            claimed += [check for check in won if check is not None]
            if exhausted and all(won):
                break  # every due check was seen and taken: no need to look again
        return claimed

    async def _due(self, now: int, want: int, tried: set[str]) -> tuple[list[Item], bool]:
        """Due checks from every shard of the `due` index, earliest first; and whether
        that was all of them."""
        pages = await asyncio.gather(
            *(
                self._db.query(
                    CHECKS,
                    IndexName="due",
                    KeyConditionExpression="shard = :shard AND next_check_at <= :now",
                    ExpressionAttributeValues=values(shard=str(shard), now=now),
                    Limit=want,
                )
                for shard in range(self._shards)
            )
        )
        found = [item for page in pages for item in page if item["pk"] not in tried]
        exhausted = all(len(page) < want for page in pages)
        return sorted(found, key=lambda i: (i["next_check_at"], i["recipient_id"])), exhausted

    async def _claim(self, item: Item, now: int, lease: int) -> RecipientCheck | None:
        """Take one due check, unless someone changed it since the index showed it."""
        token = secrets.token_hex(16)
        try:
            await self._db.call(
                "update_item",
                TableName=self._checks,
                Key=key(item["pk"], "check"),
                UpdateExpression="SET next_check_at = :lease, claim = :token ADD rev :one",
                ConditionExpression="rev = :rev AND next_check_at <= :now",
                ExpressionAttributeValues=values(
                    lease=lease, token=token, one=1, rev=item["rev"], now=now
                ),
            )
        except ConditionFailed:
            return None
        return RecipientCheck(item["recipient_id"], token, item["version"])

    async def settle_check(
        self,
        check: RecipientCheck,
        shares: Sequence[Share],
        next_check_at: datetime | None,
        outgoing: Sequence[Outgoing] = (),
    ) -> bool:
        if any(share.recipient_id != check.recipient_id for share in shares):
            raise ValueError("settle_check got a share of another recipient")
        given: dict[str, Share] = {}
        for share in shares:
            share_item(share)  # refuses naive times before anything is written
            given.setdefault(share.id, share)  # the first word on a share wins
        due_given = None if next_check_at is None else micros(next_check_at)
        puts = [outgoing_put(self._db, message) for message in outgoing]

        async def step() -> bool:
            item = await self._check(check.recipient_id)
            if item is None or item.get("claim") != check.claim:
                return False  # another worker took over, or the claim is spent
            stored = await self._db.get_many(SHARES, [(_share_pk(i), "share") for i in given])
            pending = dict(item.get("pending", {}))
            actions = []
            for current in stored:
                if current["status"] != ShareStatus.PENDING.value:
                    continue  # a check decides only where a pending share stands
                share = given[current["id"]]
                if share.status is ShareStatus.PENDING:
                    pending[share.id] = micros(share.next_check_at)
                else:
                    pending.pop(share.id, None)
                    actions.append(self._settle_share(share))
            due = due_given
            if item["version"] != check.version:  # shares were added since the claim
                due = min([v for v in [due, *pending.values()] if v is not None], default=None)
            if due is None:
                actions.append(self._delete_check(item))
            else:
                rest = {k: v for k, v in item.items() if k != "claim"}  # the claim is spent
                actions.append(
                    self._put_check({**rest, "next_check_at": due, "pending": pending}, item)
                )
            known = await unknown_outgoing(self._db, [m.id for m in outgoing])
            actions += [put for put, m in zip(puts, outgoing, strict=True) if m.id in known]
            await self._db.transact(actions)
            return True

        settled: bool = await retry_on_conflict(step, "settling a check")
        return settled

    async def next_check_at(self, recipient_id: str) -> datetime | None:
        check = await self._check(recipient_id)
        return from_micros(check["next_check_at"]) if check else None

    async def erase_shares_of(self, person_id: str) -> list[Share]:
        # Their check goes first, so a claim in flight finds it gone and cannot settle.
        own = await self._check(person_id)
        schedules: dict[str, dict[str, int]] = {person_id: own.get("pending", {}) if own else {}}
        if own is not None:
            await self._db.call("delete_item", TableName=self._checks, Key=key(own["pk"], "check"))
        # The indexes are eventually consistent; the check names the pending shares to
        # them for certain (a share they sent a moment ago could still be missed).
        sent, received = await asyncio.gather(
            self._by_party("by_sender", "sender_id", person_id),
            self._by_party("by_recipient", "recipient_id", person_id),
        )
        ids = {item["id"] for item in [*sent, *received]} | set(schedules[person_id])
        deleted = await asyncio.gather(*(self._delete_share(i) for i in sorted(ids)))
        gone = [item for item in deleted if item is not None]
        for item in gone:  # pending to someone else: their check no longer waits for it
            recipient = item["recipient_id"]
            if recipient != person_id and item["status"] == ShareStatus.PENDING.value:
                before = await self._forget_pending(recipient, item["id"])
                schedules.setdefault(recipient, before)  # the first read names them all
        shares = [_share(item, schedules.get(item["recipient_id"])) for item in gone]
        return sorted(shares, key=lambda s: (s.shared_at, s.id))

    async def _by_party(self, index: str, attribute: str, person_id: str) -> list[Item]:
        return await self._db.query(
            SHARES,
            IndexName=index,
            KeyConditionExpression="#p = :p",
            ExpressionAttributeNames={"#p": attribute},
            ExpressionAttributeValues=values(p=person_id),
        )

    async def _delete_share(self, share_id: str) -> Item | None:
        """Delete one share; the item as it was, or None if it was not there."""
        answer = await self._db.call(
            "delete_item",
            TableName=self._db.table(SHARES),
            Key=key(_share_pk(share_id), "share"),
            ReturnValues="ALL_OLD",
        )
        return from_wire(answer["Attributes"]) if "Attributes" in answer else None

    async def _forget_pending(self, recipient_id: str, share_id: str) -> dict[str, int]:
        """Drop a share from the recipient's check; the schedule it held before."""
        try:
            answer = await self._db.call(
                "update_item",
                TableName=self._checks,
                Key=key(_check_pk(recipient_id), "check"),
                UpdateExpression="REMOVE pending.#id ADD rev :one",
                ConditionExpression="attribute_exists(pending)",
                ExpressionAttributeNames={"#id": share_id},
                ExpressionAttributeValues=values(one=1),
                ReturnValues="ALL_OLD",
            )
        except ConditionFailed:
            return {}
        pending: dict[str, int] = from_wire(answer["Attributes"]).get("pending", {})
        return pending

    async def _check(self, recipient_id: str) -> Item | None:
        return await self._db.get(CHECKS, _check_pk(recipient_id), "check")

    def _new_check(self, recipient_id: str, due: int) -> Item:
        return {
            "pk": _check_pk(recipient_id),
            "sk": "check",
            "recipient_id": recipient_id,
            "shard": shard_of(recipient_id, self._shards),
            "next_check_at": due,
            "version": 1,
            "rev": 0,
        }

    def _put_check(self, item: Item, old: Item | None) -> dict[str, Any]:
        guard: dict[str, Any] = (
            {"ConditionExpression": "attribute_not_exists(pk)"}
            if old is None
            else {
                "ConditionExpression": "rev = :rev",
                "ExpressionAttributeValues": values(rev=old["rev"]),
            }
        )
        return {
            "Put": {
                "TableName": self._checks,
                "Item": to_wire({**item, "rev": item["rev"] + 1}),
                **guard,
            }
        }

    def _delete_check(self, old: Item) -> dict[str, Any]:
        return {
            "Delete": {
                "TableName": self._checks,
                "Key": key(old["pk"], "check"),
                "ConditionExpression": "rev = :rev",
                "ExpressionAttributeValues": values(rev=old["rev"]),
            }
        }

    def _settle_share(self, share: Share) -> dict[str, Any]:
        item = share_item(share)
        fields = {
            name: item[name]
            for name in ("status", "next_check_at", "settled_at", "expires_at", "unread")
        }
        names = {f"#{name}": name for name in fields}
        expression = "SET " + ", ".join(f"#{n} = :{n}" for n, v in fields.items() if v is not None)
        absent = [f"#{n}" for n, v in fields.items() if v is None]
        if absent:
            expression += " REMOVE " + ", ".join(absent)
        given = {n: v for n, v in fields.items() if v is not None}
        return {
            "Update": {
                "TableName": self._db.table(SHARES),
                "Key": key(_share_pk(share.id), "share"),
                "UpdateExpression": expression,
                "ConditionExpression": "#status = :was",
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values(was=ShareStatus.PENDING.value, **given),
            }
        }
