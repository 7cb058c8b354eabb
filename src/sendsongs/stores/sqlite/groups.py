"""Groups and their members, in SQLite."""

from __future__ import annotations

import sqlite3

from sendsongs.domain.models import Group
from sendsongs.stores.sqlite.db import SqliteDatabase, fetchall
from sendsongs.stores.sqlite.schema import from_db_time, to_db_time


class SqliteGroups:
    """The Groups role; the unique (owner, casefolded name) index keeps names apart."""

    def __init__(self, db: SqliteDatabase) -> None:
        self._db = db

    async def create_group(self, group: Group) -> bool:
        async with self._db.session(write=True) as db:
            cursor = await db.execute(
                "INSERT INTO groups (id, owner_id, name, name_key, created_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (
                    group.id,
                    group.owner_id,
                    group.name,
                    group.name.casefold(),
                    to_db_time(group.created_at),
                ),
            )
            if cursor.rowcount != 1:
                return False
            await db.executemany(
                "INSERT INTO group_members (group_id, person_id, position) VALUES (?, ?, ?)",
                [(group.id, member, i) for i, member in enumerate(dict.fromkeys(group.members))],
            )
        return True

    async def get_group(self, group_id: str) -> Group | None:
        groups = await self._load("SELECT * FROM groups WHERE id = ?", (group_id,))
        return groups[0] if groups else None

    async def groups_of(self, person_id: str) -> list[Group]:
        return await self._load(
            "SELECT * FROM groups WHERE owner_id = ? OR id IN"
            " (SELECT group_id FROM group_members WHERE person_id = ?)"
            " ORDER BY name_key, created_at, id",
            (person_id, person_id),
        )

    async def add_member(self, group_id: str, person_id: str) -> bool:
        changed = await self._db.write(
            "INSERT INTO group_members (group_id, person_id, position)"
            " SELECT id, ?, (SELECT COALESCE(MAX(position), -1) + 1 FROM group_members"
            "  WHERE group_id = ?) FROM groups WHERE id = ?"
            " ON CONFLICT DO NOTHING",
            (person_id, group_id, group_id),
        )
        return changed == 1

    async def remove_member(self, group_id: str, person_id: str) -> bool:
        changed = await self._db.write(
            "DELETE FROM group_members WHERE group_id = ? AND person_id = ?",
            (group_id, person_id),
        )
        return changed == 1

    async def delete_group(self, group_id: str) -> None:
        async with self._db.session(write=True) as db:
            await db.execute("DELETE FROM group_members WHERE group_id = ?", (group_id,))
            await db.execute("DELETE FROM groups WHERE id = ?", (group_id,))

    async def _load(self, sql: str, params: tuple[str, ...]) -> list[Group]:
        async with self._db.session(write=False) as db:
            rows = await fetchall(db, sql, params)
            groups = []
            for row in rows:
                members = await fetchall(
                    db,
                    "SELECT person_id FROM group_members WHERE group_id = ? ORDER BY position",
                    (row["id"],),
                )
                groups.append(_group(row, tuple(m["person_id"] for m in members)))
        return groups


def _group(row: sqlite3.Row, members: tuple[str, ...]) -> Group:
    return Group(
        id=row["id"],
        owner_id=row["owner_id"],
        name=row["name"],
        created_at=from_db_time(row["created_at"]),
        members=members,
    )
