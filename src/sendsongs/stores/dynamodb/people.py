"""People, their addresses and connections in the `people` table.

    pk                        sk                 holds
    person#<id>               person             name, name_key (→ by_name), registered_at
    person#<id>               address#<addr>     last_seen: the person's addresses
    person#<id>               connection         source, account, encrypted grant, status
    address#<addr>            address            person_id, last_seen: who is reached there
    account#<source>#<acct>   account            person_id: one person per account

Grants are encrypted here, at the store boundary (TokenCipher).
"""

from __future__ import annotations

from typing import Any

from sendsongs.crypto import TokenCipher
from sendsongs.domain.models import Address, Connection, ConnectionStatus, Grant, Person
from sendsongs.errors import StoreError
from sendsongs.stores.dynamodb.client import (
    ConditionFailed,
    Dynamo,
    Item,
    TransactionCanceled,
    from_micros,
    key,
    micros,
    retry_on_conflict,
    to_wire,
    values,
)

TABLE = "people"


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
        items = await self._db.query(
            TABLE,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues=values(pk=_person_pk(person_id), prefix="address#"),
            ConsistentRead=True,
        )
        if not items:
            return None
        latest = min(items, key=lambda item: (-item["last_seen"], item["address"]))
        return Address.parse(latest["address"])

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
        present = {n: v for n, v in self._grant_item(grant).items() if v is not None}
        absent = [n for n, v in self._grant_item(grant).items() if v is None]
        expression = "SET " + ", ".join(f"{name} = :{name}" for name in present)
        if absent:
            expression += " REMOVE " + ", ".join(absent)
        await self._update_connection(person_id, expression + " ADD rev :one", {}, present)

    async def set_connection_status(self, person_id: str, status: ConnectionStatus) -> None:
        await self._update_connection(
            person_id, "SET #s = :v ADD rev :one", {"#s": "status"}, {"v": status.value}
        )

    async def _update_connection(
        self, person_id: str, expression: str, names: dict[str, str], given: dict[str, Any]
    ) -> None:
        try:
            await self._db.call(
                "update_item",
                TableName=self._table,
                Key=key(_person_pk(person_id), "connection"),
                UpdateExpression=expression,
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues=values(one=1, **given),
                **({"ExpressionAttributeNames": names} if names else {}),
            )
        except ConditionFailed:
            return  # nobody connected: nothing to change

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


def _revision_guard(old: Item | None) -> dict[str, Any]:
    """The condition that nobody wrote the item since it was read as `old`."""
    if old is None:
        return {"ConditionExpression": "attribute_not_exists(pk)"}
    return {
        "ConditionExpression": "rev = :rev",
        "ExpressionAttributeValues": values(rev=old["rev"]),
    }
