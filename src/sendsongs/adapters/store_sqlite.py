"""The Store on an embedded SQLite database (WAL), safe for several processes."""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiosqlite

from sendsongs.adapters.sqlite_db import SqliteDatabase, fetchall
from sendsongs.adapters.sqlite_schema import (
    SCHEMA_VERSION,
    apply_migrations,
    from_db_time,
    from_db_time_or_none,
    incoming_from,
    incoming_values,
    outgoing_from,
    outgoing_values,
    person_from,
    schema_version,
    share_from,
    share_values,
    to_db_time,
)
from sendsongs.crypto import TokenCipher
from sendsongs.domain.models import (
    Grant,
    IncomingMessage,
    Outgoing,
    PendingLink,
    Person,
    RecipientCheck,
    Share,
    ShareStatus,
)
from sendsongs.errors import StoreError

# A recipient's first check only looks at plays from just before the share on.
CURSOR_BEFORE_SHARE = timedelta(milliseconds=1)
PENDING = ShareStatus.PENDING.value


@dataclass(frozen=True)
class _Queue:
    """A table whose rows are claimed by lease, oldest first (inbox, outbox)."""

    table: str
    waiting: str  # the condition of a row still to be claimed
    order: str


_INBOX_QUEUE = _Queue("inbox", "done = 0", "received_at")
_OUTBOX_QUEUE = _Queue("outbox", "held = 0", "created_at")


class SqliteStore:
    """Durable state in one SQLite file, which several processes may share:
    each step below is one exclusive transaction (see SqliteDatabase)."""

    def __init__(self, path: str, cipher: TokenCipher, *, busy_timeout: float = 10.0) -> None:
        self._db = SqliteDatabase(path, busy_timeout)
        self._cipher = cipher

    def __repr__(self) -> str:
        return f"SqliteStore({self._db.path!r})"

    async def migrate(self) -> None:
        async with self._db.session(write=True) as db:
            await apply_migrations(db)

    async def ping(self) -> None:
        async with self._db.session(write=False) as db:
            version = await schema_version(db)
        if version != SCHEMA_VERSION:
            raise StoreError(
                f"SQLite store {self._db.path} has schema {version}, expected {SCHEMA_VERSION};"
                " run `sendsongs migrate`"
            )

    async def close(self) -> None:
        await self._db.close()

    # -- inbox --
    async def add_incoming(self, message: IncomingMessage) -> bool:
        changed = await self._db.write(
            "INSERT INTO inbox (id, sender_id, text, payload, attachments, received_at)"
            " VALUES (:id, :sender_id, :text, :payload, :attachments, :received_at)"
            " ON CONFLICT (id) DO NOTHING",
            incoming_values(message),
        )
        return changed == 1

    async def claim_incoming(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> list[IncomingMessage]:
        rows = await self._lease(_INBOX_QUEUE, now, lease_until, limit)
        return [incoming_from(row) for row in rows]

    async def finish_incoming(self, message_id: str) -> None:
        await self._db.write(
            "UPDATE inbox SET done = 1, lease_until = NULL WHERE id = ?", (message_id,)
        )

    async def _lease(
        self, queue: _Queue, now: datetime, lease_until: datetime, limit: int
    ) -> list[sqlite3.Row]:
        """Lease the oldest claimable rows of an inbox-like table, atomically."""
        if limit <= 0:
            return []  # SQLite reads LIMIT -1 as "no limit"
        async with self._db.session(write=True) as db:
            rows = await fetchall(
                db,
                # the names come from the two _Queue constants, never from input
                f"UPDATE {queue.table} SET lease_until = ? WHERE id IN (SELECT id FROM"  # noqa: S608
                f" {queue.table} WHERE {queue.waiting} AND (lease_until IS NULL OR"
                f" lease_until <= ?) ORDER BY {queue.order}, rowid LIMIT ?)"
                " RETURNING rowid AS seq, *",
                (to_db_time(lease_until), to_db_time(now), limit),
            )
        # RETURNING promises no order; restore the subquery's oldest-first.
        rows.sort(key=lambda row: (row[queue.order], row["seq"]))
        return rows

    async def purge(self, handled_before: datetime, now: datetime) -> int:
        now_value = to_db_time(now)
        async with self._db.session(write=True) as db:
            removed = 0
            for sql, args in (
                (
                    "DELETE FROM inbox WHERE done = 1 AND received_at < ?",
                    to_db_time(handled_before),
                ),
                ("DELETE FROM pending_links WHERE expires_at <= ?", now_value),
                ("DELETE FROM signup_codes WHERE expires_at <= ?", now_value),
            ):
                cursor = await db.execute(sql, (args,))
                removed += cursor.rowcount
        return removed

    # -- people and grants --
    async def save_person(self, person: Person, grant: Grant) -> None:
        await self._db.write(
            "INSERT INTO people (id, name, name_key, registered_at, needs_reconnect,"
            " access_token_enc, refresh_token_enc, expires_at)"
            " VALUES (?, ?, ?, ?, 0, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
            " name = excluded.name, name_key = excluded.name_key,"
            " registered_at = excluded.registered_at, needs_reconnect = 0,"
            " access_token_enc = excluded.access_token_enc,"
            " refresh_token_enc = excluded.refresh_token_enc, expires_at = excluded.expires_at",
            (
                person.id,
                person.name,
                person.name.casefold(),
                to_db_time(person.registered_at),
                *self._grant_values(grant),
            ),
        )

    async def get_person(self, person_id: str) -> Person | None:
        rows = await self._db.read("SELECT * FROM people WHERE id = ?", (person_id,))
        return person_from(rows[0]) if rows else None

    async def find_people(self, name: str) -> list[Person]:
        rows = await self._db.read(
            "SELECT * FROM people WHERE name_key = ? ORDER BY registered_at, id",
            (name.casefold(),),
        )
        return [person_from(row) for row in rows]

    async def get_grant(self, person_id: str) -> Grant | None:
        rows = await self._db.read(
            "SELECT access_token_enc, refresh_token_enc, expires_at FROM people WHERE id = ?",
            (person_id,),
        )
        return self._grant(rows[0]) if rows else None

    async def save_grant(self, person_id: str, grant: Grant) -> None:
        await self._db.write(
            "UPDATE people SET access_token_enc = ?, refresh_token_enc = ?, expires_at = ?"
            " WHERE id = ?",
            (*self._grant_values(grant), person_id),
        )

    async def mark_needs_reconnect(self, person_id: str) -> None:
        await self._db.write("UPDATE people SET needs_reconnect = 1 WHERE id = ?", (person_id,))

    # -- single-use secrets of the sign-up flows --
    async def save_pending_link(self, link: PendingLink) -> None:
        await self._db.write(
            "INSERT OR REPLACE INTO pending_links"
            " (state, code_verifier_enc, expires_at, person_id, name) VALUES (?, ?, ?, ?, ?)",
            (
                link.state,
                self._cipher.encrypt(link.code_verifier),
                to_db_time(link.expires_at),
                link.person_id,
                link.name,
            ),
        )

    async def take_pending_link(self, state: str, now: datetime) -> PendingLink | None:
        now_value = to_db_time(now)
        async with self._db.session(write=True) as db:
            rows = await fetchall(
                db, "DELETE FROM pending_links WHERE state = ? RETURNING *", (state,)
            )
        if not rows or rows[0]["expires_at"] <= now_value:
            return None  # an expired link is dropped all the same
        row = rows[0]
        return PendingLink(
            state=row["state"],
            code_verifier=self._cipher.decrypt(row["code_verifier_enc"]),
            expires_at=from_db_time(row["expires_at"]),
            person_id=row["person_id"],
            name=row["name"],
        )

    async def save_signup_code(self, code: str, grant: Grant, expires_at: datetime) -> None:
        await self._db.write(
            "INSERT OR REPLACE INTO signup_codes (code, access_token_enc, refresh_token_enc,"
            " grant_expires_at, expires_at) VALUES (?, ?, ?, ?, ?)",
            (code, *self._grant_values(grant), to_db_time(expires_at)),
        )

    async def take_signup_code(self, code: str, now: datetime) -> Grant | None:
        now_value = to_db_time(now)
        async with self._db.session(write=True) as db:
            rows = await fetchall(
                db,
                "DELETE FROM signup_codes WHERE code = ? RETURNING access_token_enc,"
                " refresh_token_enc, grant_expires_at AS expires_at, expires_at AS code_expires",
                (code,),
            )
        if not rows or rows[0]["code_expires"] <= now_value:
            return None
        return self._grant(rows[0])

    # -- shares and the per-recipient check schedule --
    async def add_share(self, share: Share) -> None:
        values = share_values(share)
        async with self._db.session(write=True) as db:
            cursor = await db.execute(
                "INSERT INTO shares (id, sender_id, recipient_id, track_uri, track_name,"
                " track_artists, track_duration_ms, track_url, track_isrc, pre, post,"
                " shared_at, next_check_at, status, settled_at)"
                " VALUES (:id, :sender_id, :recipient_id, :track_uri, :track_name,"
                " :track_artists, :track_duration_ms, :track_url, :track_isrc, :pre, :post,"
                " :shared_at, :next_check_at, :status, :settled_at)"
                " ON CONFLICT (id) DO NOTHING",
                values,
            )
            # Re-adding a share id (a reprocessed message) must change nothing at all.
            if cursor.rowcount != 1 or share.status is not ShareStatus.PENDING:
                return
            await db.execute(
                "INSERT INTO recipient_checks (recipient_id, next_check_at, claim, cursor)"
                " VALUES (?, ?, NULL, ?) ON CONFLICT (recipient_id) DO UPDATE SET"
                " next_check_at = MIN(next_check_at, excluded.next_check_at)",
                (
                    share.recipient_id,
                    values["next_check_at"],
                    to_db_time(share.shared_at - CURSOR_BEFORE_SHARE),
                ),
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

    async def claim_due_checks(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> list[RecipientCheck]:
        if limit <= 0:
            return []
        async with self._db.session(write=True) as db:
            rows = await fetchall(
                db,
                "SELECT recipient_id, cursor FROM recipient_checks WHERE next_check_at <= ?"
                " ORDER BY next_check_at, recipient_id LIMIT ?",
                (to_db_time(now), limit),
            )
            claimed = [
                RecipientCheck(
                    recipient_id=row["recipient_id"],
                    claim=secrets.token_hex(16),
                    cursor=from_db_time_or_none(row["cursor"]),
                )
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
        cursor: datetime | None,
        outgoing: Sequence[Outgoing] = (),
    ) -> bool:
        if any(share.recipient_id != check.recipient_id for share in shares):
            raise ValueError("settle_check got a share of another recipient")
        recipient = check.recipient_id
        async with self._db.session(write=True) as db:
            rows = await fetchall(
                db, "SELECT claim FROM recipient_checks WHERE recipient_id = ?", (recipient,)
            )
            if not rows or rows[0]["claim"] is None or rows[0]["claim"] != check.claim:
                return False  # another worker took over; its view wins
            # A check decides only where a share stands, never what was shared.
            await db.executemany(
                "UPDATE shares SET status = :status, next_check_at = :next_check_at,"
                " settled_at = :settled_at WHERE id = :id AND recipient_id = :recipient_id",
                [share_values(share) for share in shares],
            )
            await _insert_outgoing(db, outgoing)
            rows = await fetchall(
                db,
                "SELECT MIN(next_check_at) AS due FROM shares"
                " WHERE recipient_id = ? AND status = ?",
                (recipient, PENDING),
            )
            if rows[0]["due"] is None:
                await db.execute(
                    "DELETE FROM recipient_checks WHERE recipient_id = ?", (recipient,)
                )
            else:
                # claim = NULL: the claim is spent, so a repeated settle with it fails.
                await db.execute(
                    "UPDATE recipient_checks SET next_check_at = ?, claim = NULL,"
                    " cursor = COALESCE(?, cursor) WHERE recipient_id = ?",
                    (rows[0]["due"], None if cursor is None else to_db_time(cursor), recipient),
                )
        return True

    async def next_check_at(self, recipient_id: str) -> datetime | None:
        rows = await self._db.read(
            "SELECT next_check_at FROM recipient_checks WHERE recipient_id = ?", (recipient_id,)
        )
        return from_db_time(rows[0]["next_check_at"]) if rows else None

    # -- outbox --
    async def add_outgoing(self, messages: Sequence[Outgoing]) -> None:
        async with self._db.session(write=True) as db:
            await _insert_outgoing(db, messages)

    async def claim_outgoing(
        self, now: datetime, lease_until: datetime, limit: int
    ) -> list[Outgoing]:
        rows = await self._lease(_OUTBOX_QUEUE, now, lease_until, limit)
        return [outgoing_from(row) for row in rows]

    async def finish_outgoing(self, message_id: str) -> None:
        await self._db.write("DELETE FROM outbox WHERE id = ?", (message_id,))

    async def hold_outgoing(self, message_id: str) -> None:
        await self._db.write(
            "UPDATE outbox SET held = 1, lease_until = NULL WHERE id = ?", (message_id,)
        )

    async def release_held(self, person_id: str) -> int:
        return await self._db.write(
            "UPDATE outbox SET held = 0, lease_until = NULL WHERE person_id = ? AND held = 1",
            (person_id,),
        )

    # -- tokens, encrypted at rest --
    def _grant_values(self, grant: Grant) -> tuple[str, str, int]:
        return (
            self._cipher.encrypt(grant.access_token),
            self._cipher.encrypt(grant.refresh_token),
            to_db_time(grant.expires_at),
        )

    def _grant(self, row: sqlite3.Row) -> Grant:
        return Grant(
            access_token=self._cipher.decrypt(row["access_token_enc"]),
            refresh_token=self._cipher.decrypt(row["refresh_token_enc"]),
            expires_at=from_db_time(row["expires_at"]),
        )


async def _insert_outgoing(db: aiosqlite.Connection, messages: Iterable[Outgoing]) -> None:
    # An id already in the outbox is kept as it is: adding is idempotent, like the inbox.
    await db.executemany(
        "INSERT INTO outbox (id, person_id, text, quick_replies, kind, created_at)"
        " VALUES (:id, :person_id, :text, :quick_replies, :kind, :created_at)"
        " ON CONFLICT (id) DO NOTHING",
        [outgoing_values(message) for message in messages],
    )
