"""People, their addresses and connections, in SQLite."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from sendsongs.crypto import TokenCipher
from sendsongs.domain.models import (
    Address,
    Connection,
    ConnectionStatus,
    Grant,
    Person,
)
from sendsongs.domain.names import closest
from sendsongs.stores.sqlite.db import SqliteDatabase
from sendsongs.stores.sqlite.schema import (
    from_db_time,
    from_db_time_or_none,
    person_from,
    to_db_time,
    to_db_time_or_none,
)


class SqlitePeople:
    """The People role. Grants are encrypted here, at the store boundary."""

    def __init__(self, db: SqliteDatabase, cipher: TokenCipher) -> None:
        self._db, self._cipher = db, cipher

    async def save_person(self, person: Person, address: Address) -> None:
        async with self._db.session(write=True) as db:
            await db.execute(
                "INSERT INTO people (id, name, name_key, registered_at) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET name = excluded.name,"
                " name_key = excluded.name_key",
                (person.id, person.name, person.name.casefold(), to_db_time(person.registered_at)),
            )
            await db.execute(
                "INSERT INTO addresses (address, person_id, last_seen_at) VALUES (?, ?, ?)"
                " ON CONFLICT (address) DO UPDATE SET person_id = excluded.person_id,"
                " last_seen_at = MAX(last_seen_at, excluded.last_seen_at)",
                (str(address), person.id, to_db_time(person.registered_at)),
            )

    async def get_person(self, person_id: str) -> Person | None:
        rows = await self._db.read("SELECT * FROM people WHERE id = ?", (person_id,))
        return person_from(rows[0]) if rows else None

    async def person_at(self, address: Address) -> Person | None:
        rows = await self._db.read(
            "SELECT people.* FROM addresses JOIN people ON people.id = addresses.person_id"
            " WHERE addresses.address = ?",
            (str(address),),
        )
        return person_from(rows[0]) if rows else None

    async def address_of(self, person_id: str) -> Address | None:
        rows = await self._db.read(
            "SELECT address FROM addresses WHERE person_id = ?"
            " ORDER BY last_seen_at DESC, address LIMIT 1",
            (person_id,),
        )
        return Address.parse(rows[0]["address"]) if rows else None

    async def find_people(self, name: str) -> list[Person]:
        rows = await self._db.read(
            "SELECT * FROM people WHERE name_key = ? ORDER BY registered_at, id",
            (name.casefold(),),
        )
        return [person_from(row) for row in rows]

    async def find_similar(self, name: str, limit: int) -> list[Person]:
        rows = await self._db.read("SELECT * FROM people ORDER BY registered_at, id")
        people = [person_from(row) for row in rows]
        return closest(name, ((p.name, p) for p in people), limit)

    async def save_connection(self, connection: Connection) -> None:
        grant = self._grant_values(connection.grant)
        # An upsert on the person only: REPLACE would silently delete whoever else
        # holds this account, where the unique index must refuse the clash instead.
        await self._db.write(
            "INSERT INTO connections (person_id, source, account, access_token_enc,"
            " refresh_token_enc, token_expires_at, consented_at, status, connected_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (person_id) DO UPDATE SET"
            " source = excluded.source, account = excluded.account,"
            " access_token_enc = excluded.access_token_enc,"
            " refresh_token_enc = excluded.refresh_token_enc,"
            " token_expires_at = excluded.token_expires_at,"
            " consented_at = excluded.consented_at, status = excluded.status,"
            " connected_at = excluded.connected_at, reminded_at = NULL",
            (
                connection.person_id,
                connection.source,
                connection.account,
                *grant,
                connection.status.value,
                to_db_time(connection.connected_at),
            ),
        )

    async def get_connection(self, person_id: str) -> Connection | None:
        rows = await self._db.read("SELECT * FROM connections WHERE person_id = ?", (person_id,))
        return self._connection(rows[0]) if rows else None

    async def connection_of_account(self, source: str, account: str) -> Connection | None:
        rows = await self._db.read(
            "SELECT * FROM connections WHERE source = ? AND account = ?", (source, account)
        )
        return self._connection(rows[0]) if rows else None

    async def save_grant(self, person_id: str, grant: Grant) -> None:
        await self._db.write(
            "UPDATE connections SET access_token_enc = ?, refresh_token_enc = ?,"
            " token_expires_at = ?, consented_at = ? WHERE person_id = ?",
            (*self._grant_values(grant), person_id),
        )

    async def set_connection_status(self, person_id: str, status: ConnectionStatus) -> None:
        await self._db.write(
            "UPDATE connections SET status = ? WHERE person_id = ?", (status.value, person_id)
        )

    async def grants_to_renew(
        self, source: str, consented_before: datetime, limit: int
    ) -> list[Connection]:
        rows = await self._db.read(
            "SELECT * FROM connections WHERE source = ? AND status = 'ok'"
            " AND reminded_at IS NULL AND consented_at < ? ORDER BY consented_at LIMIT ?",
            (source, to_db_time(consented_before), limit),
        )
        return [self._connection(row) for row in rows]

    async def mark_reminded(self, person_id: str, at: datetime) -> None:
        await self._db.write(
            "UPDATE connections SET reminded_at = ? WHERE person_id = ?",
            (to_db_time(at), person_id),
        )

    async def addresses_of(self, person_id: str) -> list[Address]:
        rows = await self._db.read(
            "SELECT address FROM addresses WHERE person_id = ?", (person_id,)
        )
        return [Address.parse(row["address"]) for row in rows]

    async def erase_person(self, person_id: str) -> None:
        async with self._db.session(write=True) as db:
            for table, column in (
                ("connections", "person_id"),
                ("addresses", "person_id"),
                ("people", "id"),
            ):
                # the names are the constants above, never input
                await db.execute(f"DELETE FROM {table} WHERE {column} = ?", (person_id,))  # noqa: S608

    def _grant_values(
        self, grant: Grant | None
    ) -> tuple[str | None, str | None, int | None, int | None]:
        if grant is None:
            return (None, None, None, None)
        return (
            self._cipher.encrypt(grant.access_token),
            self._cipher.encrypt(grant.refresh_token),
            to_db_time(grant.expires_at),
            to_db_time_or_none(grant.consented_at),
        )

    def _connection(self, row: sqlite3.Row) -> Connection:
        return Connection(
            person_id=row["person_id"],
            source=row["source"],
            account=row["account"],
            connected_at=from_db_time(row["connected_at"]),
            grant=grant_from(self._cipher, row),
            status=ConnectionStatus(row["status"]),
            reminded_at=from_db_time_or_none(row["reminded_at"]),
        )


def grant_from(cipher: TokenCipher, row: sqlite3.Row) -> Grant | None:
    """The grant held in a row's token columns, decrypted; None if it has none."""
    if row["access_token_enc"] is None:
        return None
    return Grant(
        access_token=cipher.decrypt(row["access_token_enc"]),
        refresh_token=cipher.decrypt(row["refresh_token_enc"]),
        expires_at=from_db_time(row["token_expires_at"]),
        consented_at=from_db_time_or_none(row["consented_at"]),
    )
