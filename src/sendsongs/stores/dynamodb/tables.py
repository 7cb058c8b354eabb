"""The table design (docs/dynamodb.md): one table per store role, string keys `pk` and
`sk`, the global secondary indexes the access patterns need, and TTL for garbage only.

deploy/terraform/contract.json holds the same shapes for Terraform;
tests/deploy/test_dynamodb_contract.py keeps the two equal. `migrate` creates what is
missing and reports, one line each, where an existing table differs.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from sendsongs.errors import StoreError
from sendsongs.stores.dynamodb.client import Dynamo, TableMissing

TTL_ATTRIBUTE = "expires_at"
CREATE_TIMEOUT = 300.0  # seconds; AWS makes a table ACTIVE in seconds, moto at once


@dataclass(frozen=True)
class Index:
    """A global secondary index (projection ALL)."""

    name: str
    hash_key: str
    range_key: str


@dataclass(frozen=True)
class TableSpec:
    role: str
    attributes: dict[str, str]  # every key attribute of the table and its indexes: S or N
    indexes: tuple[Index, ...] = ()
    ttl: str | None = None


QUEUE_INDEX = Index("queue", "queue", "due")

# Items holding ciphertext (a grant, a PKCE verifier) carry `sealed`, a shard number,
# which puts them in the sparse `sealed` index: a key rotation finds them all there.
SEALED_INDEX = Index("sealed", "sealed", "pk")

TABLES: tuple[TableSpec, ...] = (
    TableSpec(
        "people",
        {
            "pk": "S",
            "sk": "S",
            "name_key": "S",
            "renew_source": "S",
            "consented_at": "N",
            "sealed": "S",
        },
        (
            Index("by_name", "name_key", "pk"),
            Index("renewals", "renew_source", "consented_at"),
            SEALED_INDEX,
        ),
    ),
    TableSpec(
        "shares",
        {
            "pk": "S",
            "sk": "S",
            "sender_id": "S",
            "recipient_id": "S",
            "sent_key": "S",
            "group_send": "S",
        },
        (
            Index("by_sender", "sender_id", "sent_key"),
            Index("by_recipient", "recipient_id", "sent_key"),
            Index("by_send", "group_send", "sent_key"),
        ),
        TTL_ATTRIBUTE,
    ),
    TableSpec("groups", {"pk": "S", "sk": "S"}),
    TableSpec(
        "checks",
        {"pk": "S", "sk": "S", "shard": "S", "next_check_at": "N"},
        (Index("due", "shard", "next_check_at"),),
    ),
    TableSpec(
        "inbox", {"pk": "S", "sk": "S", "queue": "S", "due": "N"}, (QUEUE_INDEX,), TTL_ATTRIBUTE
    ),
    TableSpec(
        "outbox",
        {"pk": "S", "sk": "S", "queue": "S", "due": "N", "address": "S", "on_behalf_of": "S"},
        (
            QUEUE_INDEX,
            Index("by_address", "address", "pk"),
            Index("by_behalf", "on_behalf_of", "pk"),
        ),
        TTL_ATTRIBUTE,
    ),
    TableSpec(
        "secrets",
        {"pk": "S", "sk": "S", "owner": "S", "sealed": "S"},
        (Index("by_owner", "owner", "pk"), SEALED_INDEX),
        TTL_ATTRIBUTE,
    ),
    TableSpec("pauses", {"pk": "S", "sk": "S"}),
    TableSpec("limits", {"pk": "S", "sk": "S"}, (), TTL_ATTRIBUTE),
    TableSpec("erasures", {"pk": "S", "sk": "S"}),
)


async def migrate(dynamo: Dynamo) -> None:
    """Create the missing tables; StoreError listing every difference of the others."""
    found = await asyncio.gather(*(_ensure(dynamo, spec) for spec in TABLES))
    differences = [line for lines in found for line in lines]
    if differences:
        raise StoreError(
            "the DynamoDB tables differ from what this version expects:\n"
            + "\n".join(f"  {line}" for line in differences)
        )


async def ping(dynamo: Dynamo) -> None:
    try:
        await asyncio.gather(
            *(dynamo.call("describe_table", TableName=dynamo.table(s.role)) for s in TABLES)
        )
    except TableMissing:
        raise StoreError(
            f"the DynamoDB tables {dynamo.prefix}-* are missing; run `sendsongs migrate`"
        ) from None


async def _ensure(dynamo: Dynamo, spec: TableSpec) -> list[str]:
    name = dynamo.table(spec.role)
    try:
        table = (await dynamo.call("describe_table", TableName=name))["Table"]
    except TableMissing:
        await _create(dynamo, spec)
        return []
    ttl = await dynamo.call("describe_time_to_live", TableName=name)
    return differences(spec, name, table, ttl.get("TimeToLiveDescription", {}))


async def _create(dynamo: Dynamo, spec: TableSpec) -> None:
    name = dynamo.table(spec.role)
    request: dict[str, Any] = {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": _keys("pk", "sk"),
        "AttributeDefinitions": [
            {"AttributeName": a, "AttributeType": t} for a, t in spec.attributes.items()
        ],
    }
    if spec.indexes:
        request["GlobalSecondaryIndexes"] = [
            {
                "IndexName": index.name,
                "KeySchema": _keys(index.hash_key, index.range_key),
                "Projection": {"ProjectionType": "ALL"},
            }
            for index in spec.indexes
        ]
    try:
        await dynamo.call("create_table", **request)
    except StoreError as error:
        if "ResourceInUseException" not in str(error):
            raise  # else another `migrate` is creating it right now
    await asyncio.to_thread(_wait_active, dynamo, name)
    if spec.ttl:
        await dynamo.call(
            "update_time_to_live",
            TableName=name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": spec.ttl},
        )


def _wait_active(dynamo: Dynamo, name: str) -> None:
    deadline = time.monotonic() + CREATE_TIMEOUT
    pause = 0.05
    while True:
        table = dynamo.call_sync("describe_table", TableName=name)["Table"]
        indexes = table.get("GlobalSecondaryIndexes", [])
        if table["TableStatus"] == "ACTIVE" and all(
            i.get("IndexStatus", "ACTIVE") == "ACTIVE" for i in indexes
        ):
            return
        if time.monotonic() > deadline:
            raise StoreError(f"DynamoDB table {name} is not ACTIVE after {CREATE_TIMEOUT:g}s")
        time.sleep(pause)
        pause = min(pause * 2, 2.0)


def _keys(hash_key: str, range_key: str) -> list[dict[str, str]]:
    return [
        {"AttributeName": hash_key, "KeyType": "HASH"},
        {"AttributeName": range_key, "KeyType": "RANGE"},
    ]


def _key_names(schema: list[dict[str, str]]) -> tuple[str | None, str | None]:
    names = {k["KeyType"]: k["AttributeName"] for k in schema}
    return names.get("HASH"), names.get("RANGE")


def differences(
    spec: TableSpec, name: str, table: dict[str, Any], ttl: dict[str, Any]
) -> list[str]:
    """One line per way the described table differs from `spec`."""
    lines: list[str] = []
    actual_keys = _key_names(table.get("KeySchema", []))
    if actual_keys != ("pk", "sk"):
        lines.append(f"{name}: key is {actual_keys}, expected ('pk', 'sk')")
    defined = {a["AttributeName"]: a["AttributeType"] for a in table["AttributeDefinitions"]}
    for attribute, kind in spec.attributes.items():
        if attribute in defined and defined[attribute] != kind:
            lines.append(f"{name}: attribute {attribute} is {defined[attribute]}, expected {kind}")
    indexes = {i["IndexName"]: i for i in table.get("GlobalSecondaryIndexes", [])}
    for index in spec.indexes:
        found = indexes.pop(index.name, None)
        if found is None:
            lines.append(
                f"{name}: index {index.name} ({index.hash_key}, {index.range_key}) is missing"
            )
            continue
        keys = _key_names(found["KeySchema"])
        if keys != (index.hash_key, index.range_key):
            lines.append(
                f"{name}: index {index.name} has keys {keys},"
                f" expected ({index.hash_key!r}, {index.range_key!r})"
            )
        projection = found.get("Projection", {}).get("ProjectionType")
        if projection != "ALL":
            lines.append(f"{name}: index {index.name} projects {projection}, expected ALL")
    lines += [f"{name}: index {extra} is not used by this version" for extra in sorted(indexes)]
    enabled = ttl.get("TimeToLiveStatus") in ("ENABLED", "ENABLING")
    ttl_name: str | None = ttl.get("AttributeName") if enabled else None
    if ttl_name != spec.ttl:
        lines.append(f"{name}: TTL attribute is {ttl_name}, expected {spec.ttl}")
    return lines
