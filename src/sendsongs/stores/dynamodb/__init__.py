"""The store on DynamoDB: one table per role under a prefix (docs/dynamodb.md).

`SENDSONGS_DATABASE_URL=dynamodb://PREFIX` selects it; region, credentials and
endpoint come from the usual AWS variables (`AWS_ENDPOINT_URL_DYNAMODB` included).
"""

from __future__ import annotations

from datetime import datetime

from sendsongs.crypto import TokenCipher
from sendsongs.ports import Stores
from sendsongs.stores.dynamodb.client import Dynamo
from sendsongs.stores.dynamodb.groups import DynamoGroups
from sendsongs.stores.dynamodb.limits import DynamoErasures, DynamoLimits
from sendsongs.stores.dynamodb.pauses import DynamoPauses
from sendsongs.stores.dynamodb.people import DynamoPeople
from sendsongs.stores.dynamodb.queues import DynamoInbox, DynamoOutbox
from sendsongs.stores.dynamodb.rotation import reencrypt
from sendsongs.stores.dynamodb.secrets import DynamoSecrets
from sendsongs.stores.dynamodb.shares import DynamoShares
from sendsongs.stores.dynamodb.tables import TABLES, migrate, ping

__all__ = ["TABLES", "DynamoAdmin", "open_dynamodb"]


class DynamoAdmin:
    """Tables, health and housekeeping of one prefix."""

    def __init__(self, dynamo: Dynamo, inbox: DynamoInbox, cipher: TokenCipher) -> None:
        self._db, self._inbox, self._cipher = dynamo, inbox, cipher

    def __repr__(self) -> str:
        return f"DynamoAdmin({self._db.prefix!r})"

    async def migrate(self) -> None:
        """Create missing tables; StoreError with one line per difference of the others."""
        await migrate(self._db)

    async def ping(self) -> None:
        await ping(self._db)

    async def purge(self, handled_before: datetime, now: datetime) -> None:
        # Dead secrets, spent limit counters (and, after a week, handled messages) go by
        # TTL; handled messages are found through the queue index, so this reads no
        # whole table. Expiry that matters is checked in code, not left to TTL.
        await self._inbox.purge_handled(handled_before)

    async def scrub(self) -> None:
        """Nothing to do: DynamoDB has no pages or log a reader could open. A deleted
        item is gone from every read (index entries go with it, within the index's
        usual lag); what remains is outside the tables: point-in-time recovery keeps
        earlier versions of the tables for its recovery period (35 days unless set
        lower), as docs/dynamodb.md and SECURITY.md say."""

    async def reencrypt(self) -> int:
        return await reencrypt(self._db, self._cipher)

    async def close(self) -> None:
        """Nothing to release: the client's connections close with the process."""


def open_dynamodb(prefix: str, cipher: TokenCipher, *, region: str | None = None) -> Stores:
    """Every store role over the tables `<prefix>-<role>` (reached on first use)."""
    dynamo = Dynamo(prefix, region)
    inbox = DynamoInbox(dynamo)
    return Stores(
        people=DynamoPeople(dynamo, cipher),
        shares=DynamoShares(dynamo),
        groups=DynamoGroups(dynamo),
        inbox=inbox,
        outbox=DynamoOutbox(dynamo),
        secrets=DynamoSecrets(dynamo, cipher),
        pauses=DynamoPauses(dynamo),
        limits=DynamoLimits(dynamo),
        erasures=DynamoErasures(dynamo),
        admin=DynamoAdmin(dynamo, inbox, cipher),
    )
