"""One SQLite connection shared by a process's tasks, with exclusive write transactions."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager, suppress
from typing import Any

import aiosqlite

from sendsongs.errors import StoreError

Params = Sequence[Any] | Mapping[str, Any]


class SqliteDatabase:
    """A lazily opened connection in WAL mode.

    Every write runs in a BEGIN IMMEDIATE transaction: it takes the file's write
    lock before reading anything, so a read-then-update (a claim) can never race
    another process, and waiting for the lock goes through busy_timeout instead of
    failing. A lock keeps one task's statements out of another task's transaction.
    """

    def __init__(self, path: str, busy_timeout: float = 10.0) -> None:
        self.path = path
        self._busy_timeout = busy_timeout
        self._connection: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()

    async def _connect(self) -> aiosqlite.Connection:
        if self._connection is None:
            # aiosqlite leaves its worker thread answering a dead event loop when the
            # file cannot be opened; a plain first open reports that cleanly instead.
            await asyncio.to_thread(_check_openable, self.path)
            # isolation_level=None: we say BEGIN and COMMIT ourselves, never implicitly.
            db = await aiosqlite.connect(
                self.path, timeout=self._busy_timeout, isolation_level=None
            )
            try:
                db.row_factory = sqlite3.Row
                await db.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")
                await db.execute("PRAGMA journal_mode = WAL")
                # NORMAL under WAL: a power cut may lose the last commits, never corrupt.
                await db.execute("PRAGMA synchronous = NORMAL")
                await db.execute("PRAGMA foreign_keys = ON")
                # deleted rows are overwritten with zeros, not left in free space:
                # an erased person must not be readable in the file afterwards
                await db.execute("PRAGMA secure_delete = ON")
            except BaseException:
                await db.close()
                raise
            self._connection = db
        return self._connection

    @asynccontextmanager
    async def session(self, write: bool) -> AsyncIterator[aiosqlite.Connection]:
        """This task's turn on the connection; inside a write transaction if asked.
        sqlite3 errors leave as StoreError, after the transaction was rolled back."""
        async with self._lock:
            try:
                db = await self._connect()
                if not write:
                    yield db
                    return
                try:
                    await db.execute("BEGIN IMMEDIATE")
                    yield db
                except BaseException:
                    # Also when cancelled while BEGIN still waits for the lock: the
                    # connection runs statements in order, so this ROLLBACK follows it
                    # and no transaction is left open for the next task.
                    with suppress(sqlite3.Error):
                        await db.execute("ROLLBACK")
                    raise
                await db.execute("COMMIT")
            except sqlite3.Error as exc:
                raise StoreError(f"SQLite store {self.path}: {exc}") from exc

    async def read(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        async with self.session(write=False) as db:
            return await fetchall(db, sql, params)

    async def write(self, sql: str, params: Params = ()) -> int:
        """Runs one statement in its own transaction; returns the rows it changed."""
        async with self.session(write=True) as db:
            cursor = await db.execute(sql, params)
            return cursor.rowcount

    async def checkpoint(self) -> bool:
        """Copy the write-ahead log into the database and truncate it to nothing, so
        old page versions (deleted rows among them) leave the -wal file. False if
        another connection's reader kept part of the log (try again later)."""
        async with self.session(write=False) as db:
            rows = await fetchall(db, "PRAGMA wal_checkpoint(TRUNCATE)")
        return bool(rows) and rows[0][0] == 0

    async def close(self) -> None:
        async with self._lock:
            if self._connection is not None:
                db, self._connection = self._connection, None
                await db.close()


def _check_openable(path: str) -> None:
    sqlite3.connect(path).close()


async def fetchall(db: aiosqlite.Connection, sql: str, params: Params = ()) -> list[sqlite3.Row]:
    async with db.execute(sql, params) as cursor:
        return list(await cursor.fetchall())
