"""The store on an embedded SQLite database (WAL), safe for several processes."""

from __future__ import annotations

from datetime import datetime

import structlog

from sendsongs.crypto import TokenCipher
from sendsongs.errors import StoreError
from sendsongs.ports import Stores
from sendsongs.stores.sqlite.db import SqliteDatabase
from sendsongs.stores.sqlite.groups import SqliteGroups
from sendsongs.stores.sqlite.limits import SqliteErasures, SqliteLimits
from sendsongs.stores.sqlite.pauses import SqlitePauses
from sendsongs.stores.sqlite.people import SqlitePeople
from sendsongs.stores.sqlite.queues import SqliteInbox, SqliteOutbox
from sendsongs.stores.sqlite.rotation import reencrypt
from sendsongs.stores.sqlite.schema import (
    SCHEMA_VERSION,
    apply_migrations,
    schema_version,
    to_db_time,
)
from sendsongs.stores.sqlite.secrets import SqliteSecrets
from sendsongs.stores.sqlite.shares import SqliteShares

log = structlog.get_logger(__name__)


class SqliteAdmin:
    """Schema, health, housekeeping and shutdown of one SQLite file."""

    def __init__(self, db: SqliteDatabase, cipher: TokenCipher) -> None:
        self._db, self._cipher = db, cipher

    def __repr__(self) -> str:
        return f"SqliteAdmin({self._db.path!r})"

    async def migrate(self) -> None:
        async with self._db.session(write=True) as db:
            await apply_migrations(db)

    async def ping(self) -> None:
        async with self._db.session(write=False) as db:
            version = await schema_version(db)
        if version != SCHEMA_VERSION:
            raise StoreError(
                f"the SQLite store has schema {version}, expected {SCHEMA_VERSION};"
                " run `sendsongs migrate`"
            )

    async def purge(self, handled_before: datetime, now: datetime) -> None:
        now_value = to_db_time(now)
        async with self._db.session(write=True) as db:
            await db.execute(
                "DELETE FROM inbox WHERE done = 1 AND received_at < ?",
                (to_db_time(handled_before),),
            )
            for table in ("pending_links", "signup_codes", "choices", "limit_events"):
                # the names are the constants above, never input
                await db.execute(f"DELETE FROM {table} WHERE expires_at <= ?", (now_value,))  # noqa: S608

    async def scrub(self) -> None:
        # deletes already zeroed what they removed (secure_delete); the log still
        # holds older page versions until it is checkpointed and truncated
        if not await self._db.checkpoint():
            log.warning("scrub_incomplete", reason="a reader kept part of the log")

    async def reencrypt(self) -> int:
        return await reencrypt(self._db, self._cipher)

    async def close(self) -> None:
        await self._db.close()


def open_sqlite(path: str, cipher: TokenCipher, *, busy_timeout: float = 10.0) -> Stores:
    """Every store role over one SQLite file (opened lazily, on first use)."""
    db = SqliteDatabase(path, busy_timeout)
    return Stores(
        people=SqlitePeople(db, cipher),
        shares=SqliteShares(db),
        groups=SqliteGroups(db),
        inbox=SqliteInbox(db),
        outbox=SqliteOutbox(db),
        secrets=SqliteSecrets(db, cipher),
        pauses=SqlitePauses(db),
        limits=SqliteLimits(db),
        erasures=SqliteErasures(db),
        admin=SqliteAdmin(db, cipher),
    )
