"""One SQLite database shared by a process's tasks, with exclusive write transactions."""

from __future__ import annotations

import asyncio
import enum
import sqlite3
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, suppress
from typing import Any, TypeVar

import aiosqlite

from sendsongs.errors import StoreError

Params = Sequence[Any] | Mapping[str, Any]
T = TypeVar("T")


class Busy(enum.Enum):
    """The write lock was taken: try_now did nothing."""

    BUSY = "busy"


BUSY = Busy.BUSY


def _connect_now(path: str, busy_timeout: float) -> sqlite3.Connection:
    """A plain sqlite3 connection with the pragmas every connection sets."""
    connection = sqlite3.connect(
        path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
    )
    for pragma in _pragmas(busy_timeout):
        connection.execute(pragma)
    return connection


def _pragmas(busy_timeout: float) -> list[str]:
    """What every connection to the file sets, each time it opens."""
    return [
        f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}",
        "PRAGMA journal_mode = WAL",
        # NORMAL under WAL: a power cut may lose the last commits, never corrupt.
        "PRAGMA synchronous = NORMAL",
        "PRAGMA foreign_keys = ON",
        # deleted rows are overwritten with zeros, not left in free space:
        # an erased person must not be readable in the file afterwards
        "PRAGMA secure_delete = ON",
    ]


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
        # whole transactions in one hop (in_transaction): their own thread and connection
        self._batch_thread: ThreadPoolExecutor | None = None
        self._batch_connection: sqlite3.Connection | None = None
        # whole transactions on the loop's own thread when the lock is free (try_now)
        self._now_connection: sqlite3.Connection | None = None

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
                for pragma in _pragmas(self._busy_timeout):
                    await db.execute(pragma)
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

    async def in_transaction(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """`work(connection)` inside one BEGIN IMMEDIATE … COMMIT, run whole on a
        thread of its own: one hop from the event loop, where aiosqlite takes one per
        statement (each a wake-up of the loop). For short, hot transactions such as
        the webhooks' group commit. It does not queue behind the other sessions (it
        shares no connection with them): a webhook waits for the file's write lock
        once, busy_timeout at most, not behind every session waiting for it too.
        sqlite3 errors leave as StoreError after a ROLLBACK."""
        if self._batch_thread is None:
            self._batch_thread = ThreadPoolExecutor(1, thread_name_prefix="sqlite-batch")
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._batch_thread, self._transact, work)
        except sqlite3.Error as exc:
            raise StoreError(f"SQLite store {self.path}: {exc}") from exc

    def _transact(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """On the batch thread only."""
        if self._batch_connection is None:
            self._batch_connection = _connect_now(self.path, self._busy_timeout)
        connection = self._batch_connection
        connection.execute("BEGIN IMMEDIATE")
        return _finish(connection, work)

    def try_now(self, work: Callable[[sqlite3.Connection], T]) -> T | Busy:
        """`work` in one write transaction run at once, on the calling thread (the
        event loop's), if the file's write lock is free; else BUSY, nothing done,
        for in_transaction to wait for the lock on its thread.

        For tiny, hot transactions only (the webhooks' group commit): under WAL with
        synchronous=NORMAL a commit appends to the log without an fsync, some tens
        of µs, less than the hop to a thread and back. It never waits on a lock, and
        its connection never checkpoints (wal_autocheckpoint=0: that copies the log
        into the file, milliseconds); the other connections' commits do that.
        StoreError for any other SQLite error, after a ROLLBACK."""
        try:
            if self._now_connection is None:
                self._now_connection = _connect_now(self.path, 0)
                self._now_connection.execute("PRAGMA wal_autocheckpoint = 0")
            connection = self._now_connection
            try:
                connection.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                if exc.sqlite_errorcode in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
                    return BUSY
                raise
            return _finish(connection, work)
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
            if self._now_connection is not None:
                now, self._now_connection = self._now_connection, None
                now.close()
            if self._batch_thread is not None:
                thread, self._batch_thread = self._batch_thread, None
                await asyncio.get_running_loop().run_in_executor(thread, self._close_batch)
                thread.shutdown()

    def _close_batch(self) -> None:
        if self._batch_connection is not None:
            connection, self._batch_connection = self._batch_connection, None
            connection.close()


def _finish(connection: sqlite3.Connection, work: Callable[[sqlite3.Connection], T]) -> T:
    """The rest of a transaction begun on `connection`: `work`, then COMMIT, or
    ROLLBACK if anything failed."""
    try:
        result = work(connection)
        connection.execute("COMMIT")
    except BaseException:
        with suppress(sqlite3.Error):
            connection.execute("ROLLBACK")
        raise
    return result


def _check_openable(path: str) -> None:
    sqlite3.connect(path).close()


async def fetchall(db: aiosqlite.Connection, sql: str, params: Params = ()) -> list[sqlite3.Row]:
    async with db.execute(sql, params) as cursor:
        return list(await cursor.fetchall())
