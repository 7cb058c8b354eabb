"""Group commit: concurrent inbox writes share one SQLite transaction.

Under load, webhook requests arrive while the previous commit is still running.
Each one queues its messages and waits; the next transaction writes every queued
batch and commits once, then answers each waiter with its own count. A caller
still returns only after the COMMIT that holds its messages, so "stored before
the 200" is kept; a failed transaction fails every caller in it (none is told its
messages were stored when they were not). The transaction runs whole in one hop to
its thread (SqliteDatabase.in_transaction), not a hop per statement.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from typing import Any

from sendsongs.domain.models import IncomingMessage
from sendsongs.stores.sqlite.db import SqliteDatabase
from sendsongs.stores.sqlite.schema import incoming_values

_Waiter = tuple[Sequence[IncomingMessage], "asyncio.Future[int]"]

_INSERT = (
    "INSERT INTO inbox (id, sender, text, payload, attachments, received_at,"
    " profile_name, unread) VALUES (:id, :sender, :text, :payload, :attachments,"
    " :received_at, :profile_name, :unread) ON CONFLICT (id) DO NOTHING"
)


class InboxWriter:
    """Adds incoming messages; calls that overlap share a transaction."""

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db
        self._queued: list[_Waiter] = []
        self._flushing: asyncio.Task[None] | None = None

    async def add(self, messages: Sequence[IncomingMessage]) -> int:
        """Stores `messages` (an id already stored is skipped); returns how many
        were new, once they are committed. StoreError if the commit failed."""
        done: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._queued.append((messages, done))
        if self._flushing is None or self._flushing.done():
            # its own task: a caller that goes away (client disconnect) must not
            # cancel the transaction the others are waiting on
            self._flushing = asyncio.create_task(self._flush())
        return await asyncio.shield(done)

    async def _flush(self) -> None:
        while self._queued:
            batch, self._queued = self._queued, []
            await self._write(batch)

    async def _write(self, batch: list[_Waiter]) -> None:
        try:
            rows = [[incoming_values(message) for message in messages] for messages, _ in batch]
            counts = await self._db.in_transaction(lambda db: _insert(db, rows))
        except Exception as error:
            for _, done in batch:
                if not done.done():
                    done.set_exception(error)
            return
        except BaseException:
            for _, done in batch:
                # shutting down: no caller was told "stored"; what the thread still
                # commits is a repeat the channel redelivers, and the inbox drops
                done.cancel()
            raise
        for (_, done), count in zip(batch, counts, strict=True):
            if not done.done():
                done.set_result(count)


def _insert(db: sqlite3.Connection, bodies: list[list[dict[str, Any]]]) -> list[int]:
    """Each body's rows; how many of each were new. rowcount sums the rows
    executemany inserted: repeats count 0, also a repeat of an id queued earlier in
    this same batch."""
    return [max(db.executemany(_INSERT, rows).rowcount, 0) for rows in bodies]
