"""The inbox and the outbox in SQLite: tables whose rows are claimed by lease."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from sendsongs.domain.models import Address, IncomingMessage, Outgoing
from sendsongs.stores.sqlite.db import SqliteDatabase, fetchall
from sendsongs.stores.sqlite.group_commit import InboxWriter
from sendsongs.stores.sqlite.schema import (
    incoming_from,
    outgoing_from,
    outgoing_values,
    to_db_time,
)


@dataclass(frozen=True)
class _Queue:
    """A table whose rows are claimed by lease, oldest first."""

    table: str
    waiting: str  # the condition of a row still to be claimed (`:now` is bound)
    order: str


_INBOX = _Queue("inbox", "done = 0", "received_at")
_OUTBOX = _Queue("outbox", "held = 0 AND (not_before IS NULL OR not_before <= :now)", "created_at")


async def _lease(
    db: SqliteDatabase, queue: _Queue, now: datetime, lease_until: datetime, limit: int
) -> list[sqlite3.Row]:
    """Lease the oldest claimable rows of a queue table, atomically."""
    if limit <= 0:
        return []  # SQLite reads LIMIT -1 as "no limit"
    async with db.session(write=True) as conn:
        rows = await fetchall(
            conn,
            # the names come from the two _Queue constants, never from input
            f"UPDATE {queue.table} SET lease_until = :until WHERE id IN (SELECT id FROM"  # noqa: S608
            f" {queue.table} WHERE {queue.waiting} AND (lease_until IS NULL OR"
            f" lease_until <= :now) ORDER BY {queue.order}, rowid LIMIT :limit)"
            " RETURNING rowid AS seq, *",
            {"until": to_db_time(lease_until), "now": to_db_time(now), "limit": limit},
        )
    # RETURNING promises no order; restore the subquery's oldest-first.
    rows.sort(key=lambda row: (row[queue.order], row["seq"]))
    return rows


class SqliteInbox:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db
        self._writer = InboxWriter(db)

    async def add_incoming(self, messages: Sequence[IncomingMessage]) -> int:
        # All or nothing per webhook body, committed before this returns; bodies
        # arriving together share one commit (group_commit.py).
        if not messages:
            return 0
        return await self._writer.add(messages)

    async def claim_incoming(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> list[IncomingMessage]:
        rows = await _lease(self._db, _INBOX, now, lease_until, limit)
        return [incoming_from(row) for row in rows]

    async def claim_message(
        self, message_id: str, now: datetime, lease_until: datetime
    ) -> IncomingMessage | None:
        async with self._db.session(write=True) as db:
            rows = await fetchall(
                db,
                "UPDATE inbox SET lease_until = :until WHERE id = :id AND done = 0"
                " AND (lease_until IS NULL OR lease_until <= :now) RETURNING *",
                {"until": to_db_time(lease_until), "now": to_db_time(now), "id": message_id},
            )
        return incoming_from(rows[0]) if rows else None

    async def finish_incoming(self, message_id: str) -> None:
        # keep only the id (redeliveries) and the time (purge): nothing personal
        await self._db.write(
            "UPDATE inbox SET done = 1, lease_until = NULL, sender = '', text = '',"
            " payload = NULL, attachments = '[]', profile_name = NULL, unread = NULL"
            " WHERE id = ?",
            (message_id,),
        )


class SqliteOutbox:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def add_outgoing(self, messages: Sequence[Outgoing]) -> None:
        async with self._db.session(write=True) as db:
            await insert_outgoing(db, messages)

    async def claim_outgoing(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> list[Outgoing]:
        rows = await _lease(self._db, _OUTBOX, now, lease_until, limit)
        return [outgoing_from(row) for row in rows]

    async def finish_outgoing(self, message_id: str) -> None:
        await self._db.write("DELETE FROM outbox WHERE id = ?", (message_id,))

    async def retry_outgoing(self, message_id: str, not_before: datetime) -> None:
        await self._db.write(
            "UPDATE outbox SET not_before = ?, lease_until = NULL WHERE id = ?",
            (to_db_time(not_before), message_id),
        )

    async def hold_outgoing(self, message_id: str) -> None:
        await self._db.write(
            "UPDATE outbox SET held = 1, lease_until = NULL WHERE id = ?", (message_id,)
        )

    async def drop_held(self, created_before: datetime) -> list[Outgoing]:
        async with self._db.session(write=True) as db:
            rows = await fetchall(
                db,
                "DELETE FROM outbox WHERE held = 1 AND created_at < ? RETURNING *",
                (to_db_time(created_before),),
            )
        return sorted((outgoing_from(row) for row in rows), key=lambda m: m.created_at)

    async def release_held(self, address: Address) -> int:
        return await self._db.write(
            "UPDATE outbox SET held = 0, lease_until = NULL, not_before = NULL"
            " WHERE address = ? AND held = 1",
            (str(address),),
        )

    async def erase_to(self, addresses: Sequence[Address]) -> int:
        async with self._db.session(write=True) as db:
            cursor = await db.executemany(
                "DELETE FROM outbox WHERE address = :a OR on_behalf_of = :a",
                [{"a": str(a)} for a in addresses],
            )
            return cursor.rowcount


async def insert_outgoing(db: aiosqlite.Connection, messages: Iterable[Outgoing]) -> None:
    """Add messages inside the caller's transaction; an id already there is kept as
    it is, so adding is idempotent like the inbox."""
    await db.executemany(
        "INSERT INTO outbox (id, address, text, quick_replies, kind, created_at, on_behalf_of)"
        " VALUES (:id, :address, :text, :quick_replies, :kind, :created_at, :on_behalf_of)"
        " ON CONFLICT (id) DO NOTHING",
        [outgoing_values(message) for message in messages],
    )
