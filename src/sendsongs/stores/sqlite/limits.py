"""Per-person attempt counters and erasure receipts in SQLite."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sendsongs.stores.sqlite.db import SqliteDatabase, fetchall
from sendsongs.stores.sqlite.schema import from_db_time, to_db_time


class SqliteLimits:
    """A sliding window per key: one row per counted attempt, dropped as it expires.
    Counting and checking happen in one exclusive transaction, so two workers can
    never both take the last slot."""

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def take(self, key: str, now: datetime, window: timedelta, limit: int) -> datetime | None:
        now_value = to_db_time(now)
        async with self._db.session(write=True) as db:
            await db.execute(
                "DELETE FROM limit_events WHERE key = ? AND expires_at <= ?", (key, now_value)
            )
            rows = await fetchall(
                db,
                "SELECT COUNT(*) AS n, MIN(expires_at) AS first FROM limit_events WHERE key = ?",
                (key,),
            )
            if rows[0]["n"] >= limit:
                return from_db_time(rows[0]["first"])
            await db.execute(
                "INSERT INTO limit_events (key, at, expires_at) VALUES (?, ?, ?)",
                (key, now_value, to_db_time(now + window)),
            )
        return None

    async def forget(self, keys: Sequence[str]) -> None:
        async with self._db.session(write=True) as db:
            await db.executemany("DELETE FROM limit_events WHERE key = ?", [(k,) for k in keys])


class SqliteErasures:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def record_erasure(self, code: str, erased_at: datetime) -> None:
        await self._db.write(
            "INSERT INTO erasures (code, erased_at) VALUES (?, ?) ON CONFLICT (code) DO NOTHING",
            (code, to_db_time(erased_at)),
        )

    async def erased_at(self, code: str) -> datetime | None:
        rows = await self._db.read("SELECT erased_at FROM erasures WHERE code = ?", (code,))
        return from_db_time(rows[0]["erased_at"]) if rows else None
