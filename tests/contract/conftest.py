"""Fixtures that open every store backend for the one contract suite."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from sendsongs.crypto import TokenCipher
from sendsongs.ports import Stores
from sendsongs.stores.sqlite import open_sqlite
from tests.fakes import MemoryStore

# "dynamodb" joins this list once its backend exists (moto-backed, like the others:
# `open_stores` must hand out several handles onto the same data).
STORE_KINDS = ["memory", "sqlite"]

SECRET = "contract-suite-secret-key"

OpenStores = Callable[[], Awaitable[Stores]]


@pytest.fixture
def cipher() -> TokenCipher:
    return TokenCipher(SECRET)


@pytest.fixture(params=STORE_KINDS)
async def open_stores(
    request: pytest.FixtureRequest, tmp_path: Path, cipher: TokenCipher
) -> AsyncIterator[OpenStores]:
    """Opens a new, migrated handle onto one shared data set per test: a separate
    connection for SQLite (like a second process), the same object in memory."""
    kind: str = request.param
    memory = MemoryStore()
    opened: list[Stores] = []

    async def open_one() -> Stores:
        stores: Stores
        if kind == "memory":
            stores = memory.roles()
        elif kind == "sqlite":
            stores = open_sqlite(str(tmp_path / "sendsongs.db"), cipher)
        else:  # pragma: no cover - a new kind must be wired in here
            raise AssertionError(f"unknown store kind {kind}")
        await stores.admin.migrate()
        opened.append(stores)
        return stores

    yield open_one
    for stores in opened:
        await stores.admin.close()


@pytest.fixture
async def stores(open_stores: OpenStores) -> Stores:
    return await open_stores()


@pytest.fixture
def sqlite_path(tmp_path: Path) -> Path:
    return tmp_path / "sqlite-only.db"
