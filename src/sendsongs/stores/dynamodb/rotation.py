"""Re-encrypting every stored credential under the current key (key rotation).

Every item that holds ciphertext carries `sealed`, one of SEALED_SHARDS shard numbers,
so it sits in the sparse `sealed` index of its table (people: connections with a
grant; secrets: sign-in states with their PKCE verifier, sign-up codes with a grant).
A rotation reads each shard of that index with a paginated Query: the functions may
not Scan, and the index holds only the items a rotation must see.
"""

from __future__ import annotations

import asyncio

from sendsongs.crypto import TokenCipher
from sendsongs.stores.dynamodb.client import (
    ConditionFailed,
    Dynamo,
    Item,
    key,
    shard_of,
    values,
)

SEALED_SHARDS = 4
# (table, encrypted attributes): every place a credential is kept
ENCRYPTED = (
    ("people", ("access_token_enc", "refresh_token_enc")),
    ("secrets", ("code_verifier_enc", "access_token_enc", "refresh_token_enc")),
)


def sealed(item: Item) -> str | None:
    """The `sealed` shard of an item that holds ciphertext; None if it holds none."""
    columns = {column for _, columns in ENCRYPTED for column in columns}
    if not any(item.get(column) is not None for column in columns):
        return None
    return shard_of(str(item["pk"]), SEALED_SHARDS)


async def reencrypt(db: Dynamo, cipher: TokenCipher) -> int:
    """Rewrite each value not yet under the current key; returns how many were
    rewritten. Every value is checked first, so nothing is written if one can be read
    by none of the keys (StoreError). A value replaced meanwhile (a refresh, a secret
    spent) was written under the current key, or is gone: it is left alone."""
    plans: list[tuple[str, Item, dict[str, str]]] = []
    for table, columns in ENCRYPTED:
        for item in await _sealed_items(db, table):
            fresh = {c: cipher.rotate(item[c]) for c in columns if item.get(c) is not None}
            changed = {c: value for c, value in fresh.items() if value is not None}
            if changed:
                plans.append((table, item, changed))
    done = await asyncio.gather(*(_rewrite(db, *plan) for plan in plans))
    return sum(done)


async def _sealed_items(db: Dynamo, table: str) -> list[Item]:
    pages = await asyncio.gather(
        *(
            db.query(
                table,
                IndexName="sealed",
                KeyConditionExpression="#s = :s",
                ExpressionAttributeNames={"#s": "sealed"},
                ExpressionAttributeValues=values(s=str(shard)),
            )
            for shard in range(SEALED_SHARDS)
        )
    )
    return [item for page in pages for item in page]


async def _rewrite(db: Dynamo, table: str, item: Item, fresh: dict[str, str]) -> int:
    """Swap the ciphertexts, on condition they are still the ones read; how many."""
    names = {f"#c{i}": column for i, column in enumerate(fresh)}
    new: dict[str, str | int] = {f"new{i}": value for i, value in enumerate(fresh.values())}
    old = {f"old{i}": item[column] for i, column in enumerate(fresh)}
    update = "SET " + ", ".join(f"#c{i} = :new{i}" for i in range(len(fresh)))
    if "rev" in item:  # a read-then-write of the item elsewhere must see it changed
        update += " ADD rev :one"
        new["one"] = 1
    try:
        await db.call(
            "update_item",
            TableName=db.table(table),
            Key=key(item["pk"], item["sk"]),
            UpdateExpression=update,
            ConditionExpression=" AND ".join(f"#c{i} = :old{i}" for i in range(len(fresh))),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values(**new, **old),
        )
    except ConditionFailed:
        return 0
    return len(fresh)
