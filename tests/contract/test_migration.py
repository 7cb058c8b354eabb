"""SQLite migration 2: a version-1 database (Messenger PSIDs as person ids, one Spotify
grant per person) keeps every person, grant, share, message and secret it held."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sendsongs.crypto import TokenCipher
from sendsongs.domain.models import (
    Address,
    Connection,
    ConnectionStatus,
    Grant,
    IncomingMessage,
    MessageKind,
    Outgoing,
    PendingLink,
    Person,
    QuickReply,
    Reply,
    Share,
    ShareStatus,
    Track,
)
from sendsongs.ports import Stores
from sendsongs.stores.sqlite import open_sqlite
from sendsongs.stores.sqlite.schema import MIGRATIONS, SCHEMA_VERSION, to_db_time

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
PSID = "2417839210045"  # Ann's page-scoped id, her person id in version 1
OTHER = "9930001112"  # Bob, whose grant had lapsed
ACCESS = "v1-access-PLAINTEXT"
REFRESH = "v1-refresh-PLAINTEXT"
SONG = Track(
    uri="spotify:track:46X0dXeliHXD73sxexJx7d",
    name="Hey Jude",
    artists=("The Beatles",),
    duration_ms=431_000,
    url="https://open.spotify.com/track/46X0dXeliHXD73sxexJx7d",
    isrc="GBAYE0601498",
)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def build_v1(path: Path, cipher: TokenCipher) -> None:
    """A database as version 1 left it, rows written the way version 1 wrote them."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("BEGIN")
    for statement in MIGRATIONS[0]:
        db.execute(statement)
    db.execute("PRAGMA user_version = 1")
    people = [(PSID, "Ann Lee", 0, 0, ACCESS, REFRESH, 60), (OTHER, "Bob", 1, 1, "a2", "r2", 2)]
    for pid, name, registered, reconnect, access, refresh, expires in people:
        db.execute(
            "INSERT INTO people VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                pid,
                name,
                name.casefold(),
                to_db_time(at(registered)),
                reconnect,
                cipher.encrypt(access),
                cipher.encrypt(refresh),
                to_db_time(at(expires)),
            ),
        )
    db.execute(
        "INSERT INTO shares VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', NULL)",
        (
            "share-1",
            PSID,
            OTHER,
            SONG.uri,
            SONG.name,
            json.dumps(list(SONG.artists)),
            SONG.duration_ms,
            SONG.url,
            SONG.isrc,
            "listen",
            "told you",
            to_db_time(at(2)),
            to_db_time(at(10)),
        ),
    )
    db.execute(
        "INSERT INTO recipient_checks VALUES (?, ?, NULL, ?)",
        (OTHER, to_db_time(at(10)), to_db_time(at(2)) - 1000),
    )
    db.execute(
        "INSERT INTO outbox VALUES (?, ?, ?, ?, ?, ?, NULL, 1)",
        (
            "out-1",
            OTHER,
            "Ann sent you a song",
            json.dumps([{"title": "Open", "payload": "OPEN"}]),
            "update",
            to_db_time(at(3)),
        ),
    )
    db.execute(
        "INSERT INTO inbox VALUES (?, ?, ?, ?, ?, ?, NULL, 0)",
        ("mid.1", PSID, "help", "HELP", json.dumps(["https://x.test/1"]), to_db_time(at(4))),
    )
    db.execute(
        "INSERT INTO pending_links VALUES (?, ?, ?, ?, ?)",
        ("state-1", cipher.encrypt("verifier-1"), to_db_time(at(30)), PSID, "Ann Lee"),
    )
    db.execute("COMMIT")
    db.close()


def user_version(path: Path) -> int:
    db = sqlite3.connect(path)
    try:
        return int(db.execute("PRAGMA user_version").fetchone()[0])
    finally:
        db.close()


async def assert_migrated(stores: Stores) -> None:
    """Reads only: the checks that must hold after every migrate."""
    ann_at = Address("messenger", PSID)
    ann = Person(PSID, "Ann Lee", at(0))
    assert await stores.people.person_at(ann_at) == ann
    assert await stores.people.get_person(PSID) == ann
    assert await stores.people.address_of(PSID) == ann_at
    assert await stores.people.find_people("ANN LEE") == [ann]
    assert await stores.people.get_connection(PSID) == Connection(
        PSID, "spotify", None, at(0), Grant(ACCESS, REFRESH, at(60), consented_at=at(0))
    )
    bob = await stores.people.get_connection(OTHER)
    assert bob is not None and bob.status is ConnectionStatus.REVOKED
    assert bob.grant is not None and bob.grant.access_token == "a2"
    assert await stores.people.address_of(OTHER) == Address("messenger", OTHER)
    share = Share(
        "share-1", PSID, OTHER, SONG, at(2), at(10), "listen", "told you", ShareStatus.PENDING
    )
    assert await stores.shares.get_share("share-1") == share
    assert await stores.shares.pending_shares(OTHER) == [share]
    assert await stores.shares.next_check_at(OTHER) == at(10)


async def test_migration_2_keeps_a_version_1_database(tmp_path: Path) -> None:
    path = tmp_path / "v1.db"
    cipher = TokenCipher("migration-test-key")
    build_v1(path, cipher)
    stores = open_sqlite(str(path), cipher)
    await stores.admin.migrate()
    await stores.admin.ping()
    assert user_version(path) == SCHEMA_VERSION
    await assert_migrated(stores)

    await stores.admin.migrate()  # idempotent: a second run changes nothing
    await stores.admin.close()
    stores = open_sqlite(str(path), cipher)  # nor does a later start's
    await stores.admin.migrate()
    await stores.admin.ping()
    assert user_version(path) == SCHEMA_VERSION
    await assert_migrated(stores)

    # The rows work under the new schema: the held message goes to Bob's address,
    # the message already received is a redelivery, the check settles.
    bob_at = Address("messenger", OTHER)
    assert await stores.outbox.claim_outgoing(at(5), at(6), 10) == []
    assert await stores.outbox.release_held(bob_at) == 1
    [held] = await stores.outbox.claim_outgoing(at(5), at(6), 10)
    assert held == Outgoing(
        "out-1",
        bob_at,
        Reply("Ann sent you a song", (QuickReply("Open", "OPEN"),)),
        at(3),
        MessageKind.UPDATE,
    )
    [received] = await stores.inbox.claim_incoming(at(5), at(6), 10)
    assert received == IncomingMessage(
        "messenger:mid.1",
        Address("messenger", PSID),
        at(4),
        "help",
        "HELP",
        ("https://x.test/1",),
    )
    assert await stores.inbox.add_incoming([received]) == 0
    assert await stores.secrets.take_pending_link("state-1", at(5)) == PendingLink(
        "state-1", "verifier-1", at(30), Address("messenger", PSID), "Ann Lee"
    )
    [check] = await stores.shares.claim_due_checks(at(10), at(11), 10)
    assert check.recipient_id == OTHER
    assert await stores.shares.settle_check(check, [], at(15))
    assert await stores.shares.next_check_at(OTHER) == at(15)
    await stores.admin.close()
