"""Fixtures that open every store backend for the one contract suite."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from sendsongs.crypto import TokenCipher
from sendsongs.ports import Stores
from sendsongs.stores.dynamodb import open_dynamodb
from sendsongs.stores.sqlite import open_sqlite
from tests.fakes import MemoryStore
from tests.moto_server import aws_env, empty_tables, environ, moto_server

# DynamoDB runs on a moto server over HTTP, started here once per session.
STORE_KINDS = ["memory", "sqlite", "dynamodb"]

SECRET = "contract-suite-secret-key"

OpenStores = Callable[[], Awaitable[Stores]]


@pytest.fixture
def cipher() -> TokenCipher:
    return TokenCipher(SECRET)


DYNAMODB_PREFIX = "contract"


@pytest.fixture(scope="session")
def dynamodb_endpoint() -> Iterator[str]:
    with moto_server() as url, environ(aws_env(url)):
        yield url


@pytest.fixture
def dynamodb_prefix(dynamodb_endpoint: str) -> str:
    """The contract tables, made once per session and emptied for each test (making
    seven tables per test would cost more than the tests themselves)."""
    empty_tables(DYNAMODB_PREFIX)
    return DYNAMODB_PREFIX


@pytest.fixture(params=STORE_KINDS)
async def open_stores(
    request: pytest.FixtureRequest, tmp_path: Path, cipher: TokenCipher
) -> AsyncIterator[OpenStores]:
    """Opens a new, migrated handle onto one shared data set per test: a separate
    connection for SQLite (like a second process), a separate client onto tables of
    the test's own prefix for DynamoDB, the same object in memory."""
    kind: str = request.param
    memory = MemoryStore()
    prefix = request.getfixturevalue("dynamodb_prefix") if kind == "dynamodb" else ""
    opened: list[Stores] = []

    async def open_one() -> Stores:
        stores: Stores
        if kind == "memory":
            stores = memory.roles()
        elif kind == "sqlite":
            stores = open_sqlite(str(tmp_path / "sendsongs.db"), cipher)
        elif kind == "dynamodb":
            stores = open_dynamodb(prefix, cipher)
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
