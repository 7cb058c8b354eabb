"""Single-use secrets in the `secrets` table: pk `link#<state>`, `code#<code>` or
`choice#<token>`, sk `secret`. A take is one DeleteItem returning the old item, so a
secret is spent exactly once however many callers race for it. `expires_at` (epoch
seconds) lets DynamoDB's TTL delete dead secrets; the exact expiry is checked here."""

from __future__ import annotations

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
)
from sendsongs.stores.dynamodb.people import grant_from

TABLE = "secrets"


class DynamoSecrets:
    def __init__(self, dynamo: Dynamo, cipher: TokenCipher) -> None:
        self._db, self._cipher = dynamo, cipher

    async def save_pending_link(self, link: PendingLink) -> None:
        await self._put(
            f"link#{link.state}",
            link.expires_at,
            code_verifier_enc=self._cipher.encrypt(link.code_verifier),
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

    async def _put(self, pk: str, expires: datetime, **fields: Any) -> None:
        item = {
            "pk": pk,
            "sk": "secret",
            "expires": micros(expires),
            "expires_at": epoch_seconds(expires) + 1,  # TTL: garbage once surely dead
            **fields,
        }
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
