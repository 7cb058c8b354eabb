"""Group commit: concurrent inbox writes share one SQLite transaction.

Under load, several webhook requests reach the store in the same turn of the event
loop, or while a commit waits for the write lock. Each one queues its messages and
waits; the next transaction writes every queued batch and commits once, then
answers each waiter with its own count. A caller still returns only after the
COMMIT that holds its messages, so "stored before the 200" is kept; a failed
transaction fails every caller in it (none is told its messages were stored when
they were not). A transaction runs whole: on the event
loop's thread when the write lock is free, else in one hop to the database's thread,
never a hop per statement (docs/benchmarks.md).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from typing import Any

from sendsongs.domain.models import IncomingMessage
from sendsongs.stores.sqlite.db import BUSY, SqliteDatabase
from sendsongs.stores.sqlite.schema import incoming_values

_Waiter = tuple[Sequence[IncomingMessage], "asyncio.Future[int]"]

_INSERT = (
    "INSERT INTO inbox (id, sender, text, payload, attachments, received_at,"
    " profile_name, unread) VALUES (:id, :sender, :text, :payload, :attachments,"
    " :received_at, :profile_name, :unread) ON CONFLICT (id) DO NOTHING"
)


class InboxWriter:
    """Adds incoming messages; calls that overlap share a transaction.

    The bodies that arrive within one turn of the event loop are written together
    at the start of the next, on the loop's own thread when the write lock is free
    (SqliteDatabase.try_now). When it is not, the batch waits for the lock on the
    database's thread (in_transaction), and bodies arriving meanwhile join the next
    batch there. A caller that goes away (client disconnect) cancels only its own
    wait, never the transaction the others wait on.
    """

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db
        self._queued: list[_Waiter] = []
        self._due = False  # a write on the loop's thread is scheduled
        self._waiting: asyncio.Task[None] | None = None  # batches waiting for the lock

    async def add(self, messages: Sequence[IncomingMessage]) -> int:
        """Stores `messages` (an id already stored is skipped); returns how many
        were new, once they are committed. StoreError if the commit failed."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[int] = loop.create_future()
        self._queued.append((messages, done))
        if not self._due and (self._waiting is None or self._waiting.done()):
            self._due = True
            loop.call_soon(self._write_now)
        return await done

    def _write_now(self) -> None:
        self._due = False
        batch, self._queued = self._queued, []
        try:
            rows = _rows(batch)
            counts = self._db.try_now(lambda db: _insert(db, rows))
        except Exception as error:
            _fail(batch, error)
            return
        if counts is BUSY:
            self._queued[:0] = batch  # first in line, in arrival order
            self._waiting = asyncio.create_task(self._wait_for_lock())
            return
        _settle(batch, counts)

    async def _wait_for_lock(self) -> None:
        while self._queued:
            batch, self._queued = self._queued, []
            try:
                rows = _rows(batch)
                counts = await self._db.in_transaction(lambda db: _insert(db, rows))  # noqa: B023
            except Exception as error:
                _fail(batch, error)
                continue
            except BaseException:
                for _, done in batch:
                    # shutting down: no caller was told "stored"; what the thread
                    # still commits is a repeat the channel redelivers, and the
                    # inbox drops
                    done.cancel()
                raise
            _settle(batch, counts)


def _rows(batch: list[_Waiter]) -> list[list[dict[str, Any]]]:
    return [[incoming_values(message) for message in messages] for messages, _ in batch]


def _settle(batch: list[_Waiter], counts: list[int]) -> None:
    for (_, done), count in zip(batch, counts, strict=True):
        if not done.done():  # its caller went away
            done.set_result(count)


def _fail(batch: list[_Waiter], error: Exception) -> None:
    for _, done in batch:
        if not done.done():
            done.set_exception(error)


def _insert(db: sqlite3.Connection, bodies: list[list[dict[str, Any]]]) -> list[int]:
    """Each body's rows; how many of each were new. rowcount sums the rows
    executemany inserted: repeats count 0, also a repeat of an id queued earlier in
    this same batch."""
    return [max(db.executemany(_INSERT, rows).rowcount, 0) for rows in bodies]
