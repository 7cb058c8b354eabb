"""Shares and the per-recipient check schedule, in SQLite."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime

import aiosqlite

from sendsongs.domain.models import Outgoing, RecipientCheck, Share, ShareStatus
from sendsongs.stores.sqlite.db import SqliteDatabase, fetchall
from sendsongs.stores.sqlite.queues import insert_outgoing
from sendsongs.stores.sqlite.schema import from_db_time, share_from, share_values, to_db_time

PENDING = ShareStatus.PENDING.value


class SqliteShares:
    """The Shares role. Each step is one exclusive transaction, so a claim and a
    settle never interleave with another process's."""

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def add_share(self, share: Share) -> None:
        values = share_values(share)
        async with self._db.session(write=True) as db:
            cursor = await db.execute(
                "INSERT INTO shares (id, sender_id, recipient_id, track_uri, track_name,"
                " track_artists, track_duration_ms, track_url, track_isrc, pre, post,"
                " shared_at, next_check_at, status, settled_at, group_send, group_name,"
                " delivered_at, unread)"
                " VALUES (:id, :sender_id, :recipient_id, :track_uri, :track_name,"
                " :track_artists, :track_duration_ms, :track_url, :track_isrc, :pre, :post,"
                " :shared_at, :next_check_at, :status, :settled_at, :group_send, :group_name,"
                " :delivered_at, :unread)"
                " ON CONFLICT (id) DO NOTHING",
                values,
            )
            # Re-adding a share id (a reprocessed message) must change nothing at all.
            if cursor.rowcount != 1 or share.status is not ShareStatus.PENDING:
                return
            # While the check is claimed, next_check_at holds the lease: keep it, so
            # nobody else claims mid-flight; the version tells the settle to look again.
            await db.execute(
                "INSERT INTO recipient_checks (recipient_id, next_check_at, claim, version)"
                " VALUES (?, ?, NULL, 1) ON CONFLICT (recipient_id) DO UPDATE SET"
                " version = version + 1, next_check_at = CASE WHEN claim IS NULL"
                " THEN MIN(next_check_at, excluded.next_check_at) ELSE next_check_at END",
                (share.recipient_id, values["next_check_at"]),
            )

    async def get_share(self, share_id: str) -> Share | None:
        rows = await self._db.read("SELECT * FROM shares WHERE id = ?", (share_id,))
        return share_from(rows[0]) if rows else None

    async def pending_shares(self, recipient_id: str) -> list[Share]:
        rows = await self._db.read(
            "SELECT * FROM shares WHERE recipient_id = ? AND status = ? ORDER BY shared_at, id",
            (recipient_id, PENDING),
        )
        return [share_from(row) for row in rows]

    async def shares_sent_by(self, sender_id: str, limit: int) -> list[Share]:
        if limit <= 0:
            return []
        rows = await self._db.read(
            "SELECT * FROM shares WHERE sender_id = ? ORDER BY shared_at DESC, id DESC LIMIT ?",
            (sender_id, limit),
        )
        return [share_from(row) for row in rows]

    async def shares_of_send(self, group_send: str) -> list[Share]:
        rows = await self._db.read(
            "SELECT * FROM shares WHERE group_send = ? ORDER BY shared_at, id", (group_send,)
        )
        return [share_from(row) for row in rows]

    async def mark_delivered(self, share_id: str, at: datetime) -> None:
        await self._db.write(
            "UPDATE shares SET delivered_at = ? WHERE id = ? AND delivered_at IS NULL",
            (to_db_time(at), share_id),
        )

    async def cancel_share(self, share_id: str, at: datetime) -> bool:
        changed = await self._db.write(
            "UPDATE shares SET status = 'cancelled', settled_at = ? WHERE id = ? AND status = ?",
            (to_db_time(at), share_id, PENDING),
        )
        return changed == 1

    async def claim_due_checks(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> list[RecipientCheck]:
        if limit <= 0:
            return []
        async with self._db.session(write=True) as db:
            rows = await fetchall(
                db,
                "SELECT recipient_id, version FROM recipient_checks WHERE next_check_at <= ?"
                " ORDER BY next_check_at, recipient_id LIMIT ?",
                (to_db_time(now), limit),
            )
            claimed = [
                RecipientCheck(row["recipient_id"], secrets.token_hex(16), row["version"])
                for row in rows
            ]
            await db.executemany(
                "UPDATE recipient_checks SET next_check_at = ?, claim = ? WHERE recipient_id = ?",
                [(to_db_time(lease_until), c.claim, c.recipient_id) for c in claimed],
            )
        return claimed

    async def settle_check(
        self,
        check: RecipientCheck,
        shares: Sequence[Share],
        next_check_at: datetime | None,
        outgoing: Sequence[Outgoing] = (),
    ) -> bool:
        if any(share.recipient_id != check.recipient_id for share in shares):
            raise ValueError("settle_check got a share of another recipient")
        recipient = check.recipient_id
        async with self._db.session(write=True) as db:
            rows = await fetchall(
                db,
                "SELECT claim, version FROM recipient_checks WHERE recipient_id = ?",
                (recipient,),
            )
            if not rows or rows[0]["claim"] is None or rows[0]["claim"] != check.claim:
                return False  # another worker took over; its view wins
            # A check decides only where a share stands, never what was shared.
            await db.executemany(
                "UPDATE shares SET status = :status, next_check_at = :next_check_at,"
                " settled_at = :settled_at, unread = :unread"
                " WHERE id = :id AND recipient_id = :recipient_id"
                " AND status = 'pending'",
                [share_values(share) for share in shares],
            )
            await insert_outgoing(db, outgoing)
            due = None if next_check_at is None else to_db_time(next_check_at)
            if rows[0]["version"] != check.version:
                due = await _earliest_pending(db, recipient, due)  # shares added meanwhile
            if due is None:
                await db.execute(
                    "DELETE FROM recipient_checks WHERE recipient_id = ?", (recipient,)
                )
            else:
                # claim = NULL: the claim is spent, so a repeated settle with it fails.
                await db.execute(
                    "UPDATE recipient_checks SET next_check_at = ?, claim = NULL"
                    " WHERE recipient_id = ?",
                    (due, recipient),
                )
        return True

    async def erase_shares_of(self, person_id: str) -> list[Share]:
        async with self._db.session(write=True) as db:
            rows = await fetchall(
                db,
                "DELETE FROM shares WHERE sender_id = :id OR recipient_id = :id RETURNING *",
                {"id": person_id},
            )
            await db.execute("DELETE FROM recipient_checks WHERE recipient_id = ?", (person_id,))
        return sorted((share_from(row) for row in rows), key=lambda s: (s.shared_at, s.id))

    async def next_check_at(self, recipient_id: str) -> datetime | None:
        rows = await self._db.read(
            "SELECT next_check_at FROM recipient_checks WHERE recipient_id = ?", (recipient_id,)
        )
        return from_db_time(rows[0]["next_check_at"]) if rows else None


async def _earliest_pending(
    db: aiosqlite.Connection, recipient: str, given: int | None
) -> int | None:
    rows = await fetchall(
        db,
        "SELECT MIN(next_check_at) AS due FROM shares WHERE recipient_id = ? AND status = ?",
        (recipient, PENDING),
    )
    found = rows[0]["due"]
    candidates = [value for value in (given, found) if value is not None]
    return min(candidates) if candidates else None
