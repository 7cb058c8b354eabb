"""Single-use secrets in the `secrets` table: pk `link#<state>`, `code#<code>` or
`choice#<token>`, sk `secret`. A take is one DeleteItem returning the old item, so a
secret is spent exactly once however many callers race for it. `expires_at` (epoch
seconds) lets DynamoDB's TTL delete dead secrets; the exact expiry is checked here.

`owner` (`address#<address>` for states and choices, `account#<account>` for sign-up
codes) puts a secret in the sparse `by_owner` index, where an erasure finds it;
`sealed` puts one holding ciphertext in the `sealed` index (key rotation)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sendsongs.crypto import TokenCipher
from sendsongs.domain.models import Address, Choice, PendingLink
from sendsongs.ports import LinkedAccount
from sendsongs.stores.dynamodb.client import (
    Dynamo,
    Item,
    epoch_seconds,
    from_micros,
    from_wire,
    key,
    micros,
    to_wire,
    values,
)
from sendsongs.stores.dynamodb.people import grant_from
from sendsongs.stores.dynamodb.rotation import sealed

TABLE = "secrets"


class DynamoSecrets:
    def __init__(self, dynamo: Dynamo, cipher: TokenCipher) -> None:
        self._db, self._cipher = dynamo, cipher

    async def save_pending_link(self, link: PendingLink) -> None:
        await self._put(
            f"link#{link.state}",
            link.expires_at,
            code_verifier_enc=self._cipher.encrypt(link.code_verifier),
            owner=None if link.address is None else _address_owner(link.address),
            address=None if link.address is None else str(link.address),
            name=link.name,
        )

    async def take_pending_link(self, state: str, now: datetime) -> PendingLink | None:
        item = await self._take(f"link#{state}", now)
        if item is None:
            return None
        return PendingLink(
            state=state,
            code_verifier=self._cipher.decrypt(item["code_verifier_enc"]),
            expires_at=from_micros(item["expires"]),
            address=Address.parse(item["address"]) if "address" in item else None,
            name=item.get("name"),
        )

    async def save_signup_code(
        self, code: str, account: LinkedAccount, expires_at: datetime
    ) -> None:
        grant = account.grant
        await self._put(
            f"code#{code}",
            expires_at,
            account=account.account,
            owner=None if account.account is None else _account_owner(account.account),
            access_token_enc=None if grant is None else self._cipher.encrypt(grant.access_token),
            refresh_token_enc=None if grant is None else self._cipher.encrypt(grant.refresh_token),
            token_expires_at=None if grant is None else micros(grant.expires_at),
            consented_at=None
            if grant is None or grant.consented_at is None
            else micros(grant.consented_at),
        )

    async def take_signup_code(self, code: str, now: datetime) -> LinkedAccount | None:
        item = await self._take(f"code#{code}", now)
        if item is None:
            return None
        return LinkedAccount(account=item.get("account"), grant=grant_from(self._cipher, item))

    async def save_choice(self, choice: Choice) -> None:
        await self._put(
            f"choice#{choice.token}",
            choice.expires_at,
            address=str(choice.address),
            owner=_address_owner(choice.address),
            payload=choice.payload,
        )

    async def take_choice(self, token: str, now: datetime) -> Choice | None:
        item = await self._take(f"choice#{token}", now)
        if item is None:
            return None
        return Choice(
            token=token,
            address=Address.parse(item["address"]),
            payload=item["payload"],
            expires_at=from_micros(item["expires"]),
        )

    async def erase_for(self, addresses: Sequence[Address], account: str | None) -> None:
        owners = [_address_owner(address) for address in addresses]
        if account is not None:
            owners.append(_account_owner(account))
        # by_owner is a GSI (eventually consistent): a secret saved in the very same
        # moment may be missed; secrets live minutes, and TTL removes it after that.
        pages = await asyncio.gather(
            *(
                self._db.query(
                    TABLE,
                    IndexName="by_owner",
                    KeyConditionExpression="#o = :o",
                    ExpressionAttributeNames={"#o": "owner"},
                    ExpressionAttributeValues=values(o=owner),
                )
                for owner in owners
            )
        )
        await asyncio.gather(
            *(
                self._db.call(
                    "delete_item", TableName=self._db.table(TABLE), Key=key(item["pk"], "secret")
                )
                for page in pages
                for item in page
            )
        )

    async def _put(self, pk: str, expires: datetime, **fields: Any) -> None:
        item = {
            "pk": pk,
            "sk": "secret",
            "expires": micros(expires),
            "expires_at": epoch_seconds(expires) + 1,  # TTL: garbage once surely dead
            **fields,
        }
        item["sealed"] = sealed(item)
        await self._db.call("put_item", TableName=self._db.table(TABLE), Item=to_wire(item))

    async def _take(self, pk: str, now: datetime) -> Item | None:
        answer = await self._db.call(
            "delete_item",
            TableName=self._db.table(TABLE),
            Key=key(pk, "secret"),
            ReturnValues="ALL_OLD",
        )
        item = from_wire(answer.get("Attributes", {}))
        if not item or item["expires"] <= micros(now):
            return None  # an expired secret is dropped all the same
        return item


def _address_owner(address: Address) -> str:
    return f"address#{address}"


def _account_owner(account: str) -> str:
    return f"account#{account}"
