"""Re-encrypting every stored credential under the current key (key rotation)."""

from __future__ import annotations

from sendsongs.crypto import TokenCipher
from sendsongs.stores.sqlite.db import SqliteDatabase, fetchall

# (table, key column, encrypted columns): every place a credential is kept
ENCRYPTED = (
    ("connections", "person_id", ("access_token_enc", "refresh_token_enc")),
    ("pending_links", "state", ("code_verifier_enc",)),
    ("signup_codes", "code", ("access_token_enc", "refresh_token_enc")),
)


async def reencrypt(db: SqliteDatabase, cipher: TokenCipher) -> int:
    """Rewrite, in one transaction, each value not yet under the current key;
    returns how many were rewritten. StoreError (nothing written) if a value can be
    read by none of the keys."""
    rewritten = 0
    async with db.session(write=True) as conn:
        for table, key, columns in ENCRYPTED:
            # the names are the constants above, never input
            rows = await fetchall(conn, f"SELECT {key}, {', '.join(columns)} FROM {table}")  # noqa: S608
            for row in rows:
                for column in columns:
                    value = row[column]
                    fresh = None if value is None else cipher.rotate(value)
                    if fresh is not None:
                        await conn.execute(
                            f"UPDATE {table} SET {column} = ? WHERE {key} = ?",  # noqa: S608
                            (fresh, row[key]),
                        )
                        rewritten += 1
    return rewritten
