"""Fixtures that open every Store implementation for the one contract suite."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from sendsongs.adapters.store_sqlite import SqliteStore
from sendsongs.crypto import TokenCipher
from sendsongs.ports import Store
from tests.fakes import MemoryStore

# "dynamodb" joins this list once its adapter exists (moto-backed, like the others:
# `open_store` must hand out several handles onto the same data).
STORE_KINDS = ["memory", "sqlite"]

SECRET = "contract-suite-secret-key"

OpenStore = Callable[[], Awaitable[Store]]


@pytest.fixture
def cipher() -> TokenCipher:
    return TokenCipher(SECRET)


@pytest.fixture(params=STORE_KINDS)
async def open_store(
    request: pytest.FixtureRequest, tmp_path: Path, cipher: TokenCipher
) -> AsyncIterator[OpenStore]:
    """Opens a new, migrated handle onto one shared data set per test: a separate
    connection for SQLite (like a second process), the same object in memory."""
    kind: str = request.param
    memory = MemoryStore()
    opened: list[Store] = []

    async def open_one() -> Store:
        store: Store
        if kind == "memory":
            store = memory
        elif kind == "sqlite":
            store = SqliteStore(str(tmp_path / "sendsongs.db"), cipher)
        else:  # pragma: no cover - a new kind must be wired in here
            raise AssertionError(f"unknown store kind {kind}")
        await store.migrate()
        opened.append(store)
        return store

    yield open_one
    for store in opened:
        await store.close()


@pytest.fixture
async def store(open_store: OpenStore) -> Store:
    return await open_store()


@pytest.fixture
async def sqlite_path(tmp_path: Path) -> Path:
    return tmp_path / "sqlite-only.db"
