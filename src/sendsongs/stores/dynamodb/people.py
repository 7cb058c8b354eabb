"""People, their addresses and connections in the `people` table.

    pk                        sk                 holds
    person#<id>               person             name, name_key (→ by_name), registered_at
    person#<id>               address#<addr>     last_seen: the person's addresses
    person#<id>               connection         source, account, encrypted grant, status;
                                                 `sealed` while it holds a grant (rotation)
    address#<addr>            address            person_id, last_seen: who is reached there
    account#<source>#<acct>   account            person_id: one person per account
    directory#<n>             <person id>        name, registered_at: every person, in
                                                 4 partitions (find_similar reads them)

A connection whose grant may need renewing (readable, consented, not yet reminded)
carries `renew_source`, which puts it in the `renewals` index by `consented_at`.

Grants are encrypted here, at the store boundary (TokenCipher).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sendsongs.crypto import TokenCipher
from sendsongs.domain.models import Address, Connection, ConnectionStatus, Grant, Person
from sendsongs.domain.names import closest
from sendsongs.errors import StoreError
from sendsongs.stores.dynamodb.client import (
    Dynamo,
    Item,
    TransactionCanceled,
    from_micros,
    key,
    micros,
    retry_on_conflict,
    shard_of,
    to_wire,
    values,
)
from sendsongs.stores.dynamodb.rotation import sealed

TABLE = "people"
DIRECTORY_SHARDS = 4


def _person_pk(person_id: str) -> str:
    return f"person#{person_id}"


def _account_pk(source: str, account: str) -> str:
    return f"account#{source}#{account}"


def _person(item: Item) -> Person:
    return Person(item["id"], item["name"], from_micros(item["registered_at"]))


class DynamoPeople:
    def __init__(self, dynamo: Dynamo, cipher: TokenCipher) -> None:
        self._db, self._cipher = dynamo, cipher
        self._table = dynamo.table(TABLE)

    async def save_person(self, person: Person, address: Address) -> None:
        registered = micros(person.registered_at)

        async def step() -> None:
            held = await self._db.get(TABLE, f"address#{address}", "address")
            seen = max(registered, held["last_seen"]) if held else registered
            if held is None:
                guard: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(pk)"}
            else:
                guard = {
                    "ConditionExpression": "person_id = :holder AND last_seen = :seen",
                    "ExpressionAttributeValues": values(
                        holder=held["person_id"], seen=held["last_seen"]
                    ),
                }
            actions = [
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": key(_person_pk(person.id), "person"),
                        "UpdateExpression": "SET id = :id, #n = :name, name_key = :key,"
                        " registered_at = if_not_exists(registered_at, :at)",
                        "ExpressionAttributeNames": {"#n": "name"},
                        "ExpressionAttributeValues": values(
                            id=person.id,
                            name=person.name,
                            key=person.name.casefold(),
                            at=registered,
                        ),
                    }
                },
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": to_wire(
                            {
                                "pk": f"address#{address}",
                                "sk": "address",
                                "person_id": person.id,
                                "last_seen": seen,
                            }
                        ),
                        **guard,
                    }
                },
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": to_wire(
                            {
                                "pk": _person_pk(person.id),
                                "sk": f"address#{address}",
                                "address": str(address),
                                "last_seen": seen,
                            }
                        ),
                    }
                },
            ]
            actions.append(
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": key(f"directory#{shard_of(person.id, DIRECTORY_SHARDS)}", person.id),
                        "UpdateExpression": "SET id = :id, #n = :name,"
                        " registered_at = if_not_exists(registered_at, :at)",
                        "ExpressionAttributeNames": {"#n": "name"},
                        "ExpressionAttributeValues": values(
                            id=person.id, name=person.name, at=registered
                        ),
                    }
                }
            )
            if held is not None and held["person_id"] != person.id:  # the address moves
                actions.append(
                    {
                        "Delete": {
                            "TableName": self._table,
                            "Key": key(_person_pk(held["person_id"]), f"address#{address}"),
                        }
                    }
                )
            await self._db.transact(actions)

        await retry_on_conflict(step, "saving a person")

    async def get_person(self, person_id: str) -> Person | None:
        item = await self._db.get(TABLE, _person_pk(person_id), "person")
        return _person(item) if item else None

    async def person_at(self, address: Address) -> Person | None:
        held = await self._db.get(TABLE, f"address#{address}", "address")
        return await self.get_person(held["person_id"]) if held else None

    async def address_of(self, person_id: str) -> Address | None:
        items = await self._own(person_id, "address#")
        if not items:
            return None
        latest = min(items, key=lambda item: (-item["last_seen"], item["address"]))
        return Address.parse(latest["address"])

    async def addresses_of(self, person_id: str) -> list[Address]:
        return [Address.parse(item["address"]) for item in await self._own(person_id, "address#")]

    async def erase_person(self, person_id: str) -> None:
        """One transaction: the person's own items (person, addresses, connection), the
        lookups that lead to them (addresses, account) and their directory entry."""

        async def step() -> None:
            items = await self._own(person_id)
            if not items:
                return
            mine = {
                "ConditionExpression": "attribute_not_exists(pk) OR person_id = :me",
                "ExpressionAttributeValues": values(me=person_id),
            }
            shard = f"directory#{shard_of(person_id, DIRECTORY_SHARDS)}"
            actions = [self._delete(shard, person_id)]
            for item in items:
                actions.append(self._delete(item["pk"], item["sk"]))
                if item["sk"].startswith("address#"):
                    actions.append(self._delete(f"address#{item['address']}", "address", mine))
                elif item["sk"] == "connection" and "account" in item:
                    account = _account_pk(item["source"], item["account"])
                    actions.append(self._delete(account, "account", mine))
            await self._db.transact(actions)

        await retry_on_conflict(step, "erasing a person")

    def _delete(self, pk: str, sk: str, guard: dict[str, Any] | None = None) -> dict[str, Any]:
        return {"Delete": {"TableName": self._table, "Key": key(pk, sk), **(guard or {})}}

    async def _own(self, person_id: str, prefix: str | None = None) -> list[Item]:
        """The person's own items (those whose sort key starts with `prefix`, if
        given), read strongly consistent."""
        named = {"pk": _person_pk(person_id)}
        condition = "pk = :pk"
        if prefix is not None:  # a key condition may not compare with an empty string
            named["prefix"] = prefix
            condition += " AND begins_with(sk, :prefix)"
        return await self._db.query(
            TABLE,
            KeyConditionExpression=condition,
            ExpressionAttributeValues=values(**named),
            ConsistentRead=True,
        )

    async def find_people(self, name: str) -> list[Person]:
        # by_name is a GSI, so eventually consistent: a name saved a moment ago may
        # take a fraction of a second to be found.
        items = await self._db.query(
            TABLE,
            IndexName="by_name",
            KeyConditionExpression="name_key = :key",
            ExpressionAttributeValues=values(key=name.casefold()),
        )
        people = [_person(item) for item in items]
        return sorted(people, key=lambda p: (p.registered_at, p.id))

    async def find_similar(self, name: str, limit: int) -> list[Person]:
        pages = [
            await self._db.query(
                TABLE,
                KeyConditionExpression="pk = :pk",
                ExpressionAttributeValues=values(pk=f"directory#{shard}"),
                ConsistentRead=True,
            )
            for shard in range(DIRECTORY_SHARDS)
        ]
        people = sorted(
            (_person(item) for page in pages for item in page),
            key=lambda p: (p.registered_at, p.id),
        )
        return closest(name, ((p.name, p) for p in people), limit)

    async def save_connection(self, connection: Connection) -> None:
        item = {
            "pk": _person_pk(connection.person_id),
            "sk": "connection",
            "person_id": connection.person_id,
            "source": connection.source,
            "account": connection.account,
            "status": connection.status.value,
            "connected_at": micros(connection.connected_at),
            **self._grant_item(connection.grant),
        }
        item["renew_source"] = _renew_source(item)  # saved again: the reminder is cleared
        item["sealed"] = sealed(item)

        async def step() -> None:
            old = await self._db.get(TABLE, _person_pk(connection.person_id), "connection")
            actions: list[dict[str, Any]] = []
            new_account = (
                None
                if connection.account is None
                else _account_pk(connection.source, connection.account)
            )
            if new_account is not None:
                actions.append(
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": to_wire(
                                {
                                    "pk": new_account,
                                    "sk": "account",
                                    "person_id": connection.person_id,
                                }
                            ),
                            "ConditionExpression": "attribute_not_exists(pk) OR person_id = :me",
                            "ExpressionAttributeValues": values(me=connection.person_id),
                        }
                    }
                )
            old_account = (
                _account_pk(old["source"], old["account"]) if old and "account" in old else None
            )
            if old_account is not None and old_account != new_account:
                actions.append(
                    {
                        "Delete": {
                            "TableName": self._table,
                            "Key": key(old_account, "account"),
                            "ConditionExpression": "person_id = :me",
                            "ExpressionAttributeValues": values(me=connection.person_id),
                        }
                    }
                )
            revision = old["rev"] if old else 0
            actions.append(
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": to_wire({**item, "rev": revision + 1}),
                        **_revision_guard(old),
                    }
                }
            )
            try:
                await self._db.transact(actions)
            except TransactionCanceled as canceled:
                if new_account is not None and await self._held_by_other(
                    new_account, connection.person_id
                ):
                    raise StoreError(
                        f"the {connection.source} account is connected to someone else"
                    ) from None
                raise canceled

        await retry_on_conflict(step, "saving a connection")

    async def _held_by_other(self, account_pk: str, person_id: str) -> bool:
        holder = await self._db.get(TABLE, account_pk, "account")
        return holder is not None and holder["person_id"] != person_id

    async def get_connection(self, person_id: str) -> Connection | None:
        item = await self._db.get(TABLE, _person_pk(person_id), "connection")
        return self._connection(item) if item else None

    async def connection_of_account(self, source: str, account: str) -> Connection | None:
        holder = await self._db.get(TABLE, _account_pk(source, account), "account")
        if holder is None:
            return None
        connection = await self.get_connection(holder["person_id"])
        if connection is None or (connection.source, connection.account) != (source, account):
            return None  # a moment between two writes of a reconnect
        return connection

    async def save_grant(self, person_id: str, grant: Grant) -> None:
        fields = self._grant_item(grant)
        await self._rewrite(person_id, lambda item: {**item, **fields})

    async def set_connection_status(self, person_id: str, status: ConnectionStatus) -> None:
        await self._rewrite(person_id, lambda item: {**item, "status": status.value})

    async def grants_to_renew(
        self, source: str, consented_before: datetime, limit: int
    ) -> list[Connection]:
        if limit <= 0:
            return []
        items = await self._db.query(
            TABLE,
            IndexName="renewals",
            KeyConditionExpression="renew_source = :source AND consented_at < :before",
            ExpressionAttributeValues=values(source=source, before=micros(consented_before)),
            Limit=limit,
        )
        return [self._connection(item) for item in items]

    async def mark_reminded(self, person_id: str, at: datetime) -> None:
        reminded = micros(at)
        await self._rewrite(person_id, lambda item: {**item, "reminded_at": reminded})

    async def _rewrite(self, person_id: str, change: Callable[[Item], Item]) -> None:
        """Change the person's connection, if they have one, as one conditional write."""

        async def step() -> None:
            old = await self._db.get(TABLE, _person_pk(person_id), "connection")
            if old is None:
                return  # nobody connected: nothing to change
            item = change(old)
            item["renew_source"] = _renew_source(item)
            item["sealed"] = sealed(item)
            item["rev"] = old["rev"] + 1
            await self._db.call(
                "put_item",
                TableName=self._table,
                Item=to_wire(item),
                **_revision_guard(old),
            )

        await retry_on_conflict(step, "changing a connection")

    def _grant_item(self, grant: Grant | None) -> dict[str, Any]:
        if grant is None:
            return {
                "access_token_enc": None,
                "refresh_token_enc": None,
                "token_expires_at": None,
                "consented_at": None,
            }
        return {
            "access_token_enc": self._cipher.encrypt(grant.access_token),
            "refresh_token_enc": self._cipher.encrypt(grant.refresh_token),
            "token_expires_at": micros(grant.expires_at),
            "consented_at": None if grant.consented_at is None else micros(grant.consented_at),
        }

    def _connection(self, item: Item) -> Connection:
        return Connection(
            person_id=item["person_id"],
            source=item["source"],
            account=item.get("account"),
            connected_at=from_micros(item["connected_at"]),
            grant=grant_from(self._cipher, item),
            status=ConnectionStatus(item["status"]),
            reminded_at=None
            if item.get("reminded_at") is None
            else from_micros(item["reminded_at"]),
        )


def grant_from(cipher: TokenCipher, item: Item) -> Grant | None:
    """The grant held in an item's token attributes, decrypted; None if it has none."""
    if "access_token_enc" not in item:
        return None
    consented = item.get("consented_at")
    return Grant(
        access_token=cipher.decrypt(item["access_token_enc"]),
        refresh_token=cipher.decrypt(item["refresh_token_enc"]),
        expires_at=from_micros(item["token_expires_at"]),
        consented_at=None if consented is None else from_micros(consented),
    )


def _renew_source(item: Item) -> str | None:
    """The source, while the grant may need renewing: readable, consented to, not
    reminded yet (so it is in the `renewals` index); else None."""
    renewable = (
        item.get("status") == ConnectionStatus.OK.value
        and item.get("consented_at") is not None
        and item.get("reminded_at") is None
    )
    return str(item["source"]) if renewable else None


def _revision_guard(old: Item | None) -> dict[str, Any]:
    """The condition that nobody wrote the item since it was read as `old`."""
    if old is None:
        return {"ConditionExpression": "attribute_not_exists(pk)"}
    return {
        "ConditionExpression": "rev = :rev",
        "ExpressionAttributeValues": values(rev=old["rev"]),
    }
