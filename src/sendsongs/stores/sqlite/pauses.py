"""App-wide source pauses (rate limits) in SQLite, seen by every process."""

from __future__ import annotations

from datetime import datetime

from sendsongs.stores.sqlite.db import SqliteDatabase
from sendsongs.stores.sqlite.schema import from_db_time, to_db_time


class SqlitePauses:
    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def pause(self, source: str, until: datetime) -> None:
        await self._db.write(
            "INSERT INTO pauses (source, until) VALUES (?, ?) ON CONFLICT (source)"
            " DO UPDATE SET until = MAX(until, excluded.until)",
            (source, to_db_time(until)),
        )

    async def paused_until(self, source: str) -> datetime | None:
        rows = await self._db.read("SELECT until FROM pauses WHERE source = ?", (source,))
        return from_db_time(rows[0]["until"]) if rows else None
