"""Groups in the `groups` table.

    pk                  sk                 holds
    group#<id>          group              owner_id, name, created_at, members (in order), rev
    owner#<person>      name#<casefolded>  group_id: names are unique per owner
    member#<person>     group#<id>         the person belongs to the group

Creating, changing membership and deleting are each one TransactWriteItems; member
changes are conditional on the group's revision.
"""

from __future__ import annotations

from typing import Any

from sendsongs.domain.models import Group
from sendsongs.stores.dynamodb.client import (
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

TABLE = "groups"


def _group(item: Item) -> Group:
    return Group(
        id=item["id"],
        owner_id=item["owner_id"],
        name=item["name"],
        created_at=from_micros(item["created_at"]),
        members=tuple(item.get("members", [])),
    )


class DynamoGroups:
    def __init__(self, dynamo: Dynamo) -> None:
        self._db = dynamo
        self._table = dynamo.table(TABLE)

    def _put(self, item: Item, condition: str | None = None, **given: Any) -> dict[str, Any]:
        put: dict[str, Any] = {"TableName": self._table, "Item": to_wire(item)}
        if condition:
            put["ConditionExpression"] = condition
        if given:
            put["ExpressionAttributeValues"] = values(**given)
        return {"Put": put}

    def _delete(self, pk: str, sk: str) -> dict[str, Any]:
        return {"Delete": {"TableName": self._table, "Key": key(pk, sk)}}

    async def create_group(self, group: Group) -> bool:
        members = list(dict.fromkeys(group.members))
        item = {
            "pk": f"group#{group.id}",
            "sk": "group",
            "id": group.id,
            "owner_id": group.owner_id,
            "name": group.name,
            "created_at": micros(group.created_at),
            "members": members,
            "rev": 0,
        }
        name = {
            "pk": f"owner#{group.owner_id}",
            "sk": f"name#{group.name.casefold()}",
            "group_id": group.id,
        }
        actions = [
            self._put(item, "attribute_not_exists(pk)"),
            self._put(name, "attribute_not_exists(pk)"),
            *(
                self._put({"pk": f"member#{m}", "sk": f"group#{group.id}", "group_id": group.id})
                for m in members
            ),
        ]
        try:
            await self._db.transact(actions)
        except TransactionCanceled:
            return False  # the id or the owner's name is taken
        return True

    async def get_group(self, group_id: str) -> Group | None:
        item = await self._db.get(TABLE, f"group#{group_id}", "group")
        return _group(item) if item else None

    async def groups_of(self, person_id: str) -> list[Group]:
        owned = await self._db.query(
            TABLE,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues=values(pk=f"owner#{person_id}"),
            ConsistentRead=True,
        )
        joined = await self._db.query(
            TABLE,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues=values(pk=f"member#{person_id}"),
            ConsistentRead=True,
        )
        ids = {item["group_id"] for item in [*owned, *joined]}
        items = await self._db.get_many(TABLE, [(f"group#{i}", "group") for i in ids])
        groups = [_group(item) for item in items]
        return sorted(groups, key=lambda g: (g.name.casefold(), g.created_at, g.id))

    async def add_member(self, group_id: str, person_id: str) -> bool:
        return bool(
            await retry_on_conflict(
                lambda: self._change(group_id, person_id, True), "adding a member"
            )
        )

    async def remove_member(self, group_id: str, person_id: str) -> bool:
        return bool(
            await retry_on_conflict(
                lambda: self._change(group_id, person_id, False), "removing a member"
            )
        )

    async def _change(self, group_id: str, person_id: str, add: bool) -> bool:
        item = await self._db.get(TABLE, f"group#{group_id}", "group")
        if item is None:
            return False
        members: list[str] = item.get("members", [])
        if (person_id in members) == add:
            return False  # a member already, or not one
        changed = [*members, person_id] if add else [m for m in members if m != person_id]
        membership = f"member#{person_id}", f"group#{group_id}"
        await self._db.transact(
            [
                self._put(
                    {**item, "members": changed, "rev": item["rev"] + 1},
                    "rev = :rev",
                    rev=item["rev"],
                ),
                self._put({"pk": membership[0], "sk": membership[1], "group_id": group_id})
                if add
                else self._delete(*membership),
            ]
        )
        return True

    async def delete_group(self, group_id: str) -> None:
        async def step() -> None:
            item = await self._db.get(TABLE, f"group#{group_id}", "group")
            if item is None:
                return
            await self._db.transact(
                [
                    {
                        "Delete": {
                            "TableName": self._table,
                            "Key": key(item["pk"], "group"),
                            "ConditionExpression": "rev = :rev",
                            "ExpressionAttributeValues": values(rev=item["rev"]),
                        }
                    },
                    self._delete(f"owner#{item['owner_id']}", f"name#{item['name'].casefold()}"),
                    *(self._delete(f"member#{m}", f"group#{group_id}") for m in item["members"]),
                ]
            )

        await retry_on_conflict(step, "deleting a group")
