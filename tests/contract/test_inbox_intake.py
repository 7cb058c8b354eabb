"""Webhook bodies stored side by side, as concurrent requests store them: each call
returns only once its messages can be read from another connection, nothing is
lost and a redelivery is counted once, however the calls overlap."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from sendsongs.crypto import TokenCipher
from sendsongs.errors import StoreError
from sendsongs.ports import Stores
from sendsongs.stores.sqlite import open_sqlite
from tests.contract.test_store import at, message


async def test_each_concurrent_body_is_committed_when_its_call_returns(
    tmp_path: Path, cipher: TokenCipher
) -> None:
    path = tmp_path / "intake.db"
    stores = open_sqlite(str(path), cipher)
    await stores.admin.migrate()
    # another process reading the file: it sees committed rows only, and never waits
    reader = sqlite3.connect(path, isolation_level=None)
    uncommitted: list[str] = []

    async def body(i: int) -> int:
        ids = [f"m{i}a", f"m{i}b"]
        added = await stores.inbox.add_incoming([message(mid, i) for mid in ids])
        stored = {row[0] for row in reader.execute("SELECT id FROM inbox")}
        uncommitted.extend(mid for mid in ids if mid not in stored)
        return added

    try:
        added = await asyncio.gather(*(body(i) for i in range(40)))
        assert added == [2] * 40
        assert uncommitted == []
        assert reader.execute("SELECT count(*) FROM inbox").fetchone()[0] == 80
    finally:
        reader.close()
        await stores.admin.close()


async def test_overlapping_redeliveries_are_counted_once(stores: Stores) -> None:
    # Messenger and Telegram redeliver a body they think failed, maybe while the
    # first delivery is still being stored.
    calls = [[message("m1"), message(f"x{i}")] for i in range(10)]
    added = await asyncio.gather(*(stores.inbox.add_incoming(c) for c in calls))
    assert sum(added) == 11  # m1 once, and each x
    assert sorted(added) == [1] * 9 + [2]
    claimed = await stores.inbox.claim_incoming(at(10), at(11), 100)
    assert sorted(m.id for m in claimed) == ["m1", *sorted(f"x{i}" for i in range(10))]


async def test_a_failed_shared_commit_fails_every_caller_and_stores_nothing(
    tmp_path: Path, cipher: TokenCipher
) -> None:
    path = tmp_path / "locked.db"
    stores = open_sqlite(str(path), cipher, busy_timeout=0.2)
    await stores.admin.migrate()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        results = await asyncio.gather(
            *(stores.inbox.add_incoming([message(f"m{i}")]) for i in range(5)),
            return_exceptions=True,
        )
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert all(isinstance(r, StoreError) for r in results), results
    # nothing half-stored: each body comes again (redelivered) and is new
    assert await stores.inbox.add_incoming([message(f"m{i}") for i in range(5)]) == 5
    await stores.admin.close()


@pytest.mark.parametrize("bodies", [1, 25])
async def test_bodies_are_all_claimable_after_a_burst(stores: Stores, bodies: int) -> None:
    await asyncio.gather(
        *(stores.inbox.add_incoming([message(f"b{i}", i / 100)]) for i in range(bodies))
    )
    claimed = await stores.inbox.claim_incoming(at(10), at(11), 1000)
    assert [m.id for m in claimed] == [f"b{i}" for i in range(bodies)]


async def test_bodies_wait_for_a_write_lock_held_elsewhere_then_are_stored(
    tmp_path: Path, cipher: TokenCipher
) -> None:
    path = tmp_path / "busy.db"
    stores = open_sqlite(str(path), cipher, busy_timeout=30)
    await stores.admin.migrate()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process is writing
    adding = [asyncio.create_task(stores.inbox.add_incoming([message(f"w{i}")])) for i in range(5)]
    for _ in range(100):
        await asyncio.sleep(0)
    assert not any(task.done() for task in adding)  # not "stored" before it is
    holder.execute("COMMIT")
    holder.close()
    assert await asyncio.wait_for(asyncio.gather(*adding), 30) == [1] * 5
    # and the writes that follow, with the lock free again, are stored as well
    assert await stores.inbox.add_incoming([message("after")]) == 1
    claimed = await stores.inbox.claim_incoming(at(10), at(20), 10)
    assert sorted(m.id for m in claimed) == ["after", *(f"w{i}" for i in range(5))]
    await stores.admin.close()
