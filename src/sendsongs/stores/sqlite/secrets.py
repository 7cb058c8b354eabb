"""Single-use secrets in SQLite: OAuth states, sign-up codes and button choices."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime

from sendsongs.crypto import TokenCipher
from sendsongs.domain.models import Address, Choice, PendingLink
from sendsongs.ports import LinkedAccount
from sendsongs.stores.sqlite.db import SqliteDatabase, fetchall
from sendsongs.stores.sqlite.people import grant_from
from sendsongs.stores.sqlite.schema import from_db_time, to_db_time, to_db_time_or_none


class SqliteSecrets:
    """Each `take_*` deletes the row in the same statement that reads it, so a secret
    is spent exactly once, even when two processes race for it."""

    def __init__(self, db: SqliteDatabase, cipher: TokenCipher) -> None:
        self._db, self._cipher = db, cipher

    async def save_pending_link(self, link: PendingLink) -> None:
        await self._db.write(
            "INSERT OR REPLACE INTO pending_links"
            " (state, code_verifier_enc, expires_at, address, name) VALUES (?, ?, ?, ?, ?)",
            (
                link.state,
                self._cipher.encrypt(link.code_verifier),
                to_db_time(link.expires_at),
                None if link.address is None else str(link.address),
                link.name,
            ),
        )

    async def take_pending_link(self, state: str, now: datetime) -> PendingLink | None:
        row = await self._take("DELETE FROM pending_links WHERE state = ? RETURNING *", state, now)
        if row is None:
            return None
        return PendingLink(
            state=row["state"],
            code_verifier=self._cipher.decrypt(row["code_verifier_enc"]),
            expires_at=from_db_time(row["expires_at"]),
            address=None if row["address"] is None else Address.parse(row["address"]),
            name=row["name"],
        )

    async def save_signup_code(
        self, code: str, account: LinkedAccount, expires_at: datetime
    ) -> None:
        grant = account.grant
        await self._db.write(
            "INSERT OR REPLACE INTO signup_codes (code, account, access_token_enc,"
            " refresh_token_enc, token_expires_at, consented_at, expires_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                code,
                account.account,
                None if grant is None else self._cipher.encrypt(grant.access_token),
                None if grant is None else self._cipher.encrypt(grant.refresh_token),
                None if grant is None else to_db_time(grant.expires_at),
                None if grant is None else to_db_time_or_none(grant.consented_at),
                to_db_time(expires_at),
            ),
        )

    async def take_signup_code(self, code: str, now: datetime) -> LinkedAccount | None:
        row = await self._take("DELETE FROM signup_codes WHERE code = ? RETURNING *", code, now)
        if row is None:
            return None
        return LinkedAccount(account=row["account"], grant=grant_from(self._cipher, row))

    async def save_choice(self, choice: Choice) -> None:
        await self._db.write(
            "INSERT OR REPLACE INTO choices (token, address, payload, expires_at)"
            " VALUES (?, ?, ?, ?)",
            (choice.token, str(choice.address), choice.payload, to_db_time(choice.expires_at)),
        )

    async def take_choice(self, token: str, now: datetime) -> Choice | None:
        row = await self._take("DELETE FROM choices WHERE token = ? RETURNING *", token, now)
        if row is None:
            return None
        return Choice(
            token=row["token"],
            address=Address.parse(row["address"]),
            payload=row["payload"],
            expires_at=from_db_time(row["expires_at"]),
        )

    async def erase_for(self, addresses: Sequence[Address], account: str | None) -> None:
        keys = [(str(address),) for address in addresses]
        async with self._db.session(write=True) as db:
            await db.executemany("DELETE FROM pending_links WHERE address = ?", keys)
            await db.executemany("DELETE FROM choices WHERE address = ?", keys)
            if account is not None:
                await db.execute("DELETE FROM signup_codes WHERE account = ?", (account,))

    async def _take(self, sql: str, key: str, now: datetime) -> sqlite3.Row | None:
        async with self._db.session(write=True) as db:
            rows = await fetchall(db, sql, (key,))
        if not rows or rows[0]["expires_at"] <= to_db_time(now):
            return None  # an expired secret is dropped all the same
        return rows[0]
