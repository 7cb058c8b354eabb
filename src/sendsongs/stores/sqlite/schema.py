"""The SQLite schema: numbered migrations, and how domain objects map to its rows."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from typing import Any

import aiosqlite

from sendsongs.domain.models import (
    Address,
    IncomingMessage,
    MessageKind,
    Outgoing,
    Person,
    QuickReply,
    Reply,
    Share,
    ShareStatus,
    Track,
)
from sendsongs.errors import StoreError

# Every time column holds integer microseconds since the Unix epoch, UTC: exact for
# Python datetimes, sortable and comparable in SQL, and free of timezone parsing.
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def to_db_time(value: datetime) -> int:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("naive datetime given to the store")
    return (value - _EPOCH) // _MICROSECOND


def from_db_time(value: int) -> datetime:
    return _EPOCH + value * _MICROSECOND


def from_db_time_or_none(value: int | None) -> datetime | None:
    return None if value is None else from_db_time(value)


def to_db_time_or_none(value: datetime | None) -> int | None:
    return None if value is None else to_db_time(value)


# Migration N (1-based) brings the schema from user_version N-1 to N. Append only:
# a released migration is never edited, since databases out there already ran it.
# Each is a list of single statements because executescript() would commit early.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE inbox (
            id TEXT PRIMARY KEY,
            sender_id TEXT NOT NULL,
            text TEXT NOT NULL,
            payload TEXT,
            attachments TEXT NOT NULL,  -- JSON list of urls
            received_at INTEGER NOT NULL,
            lease_until INTEGER,
            done INTEGER NOT NULL DEFAULT 0
        )""",
        "CREATE INDEX inbox_todo ON inbox (received_at) WHERE done = 0",
        """CREATE TABLE people (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            name_key TEXT NOT NULL,  -- casefolded name, for lookups ignoring case
            registered_at INTEGER NOT NULL,
            needs_reconnect INTEGER NOT NULL DEFAULT 0,
            access_token_enc TEXT NOT NULL,
            refresh_token_enc TEXT NOT NULL,
            expires_at INTEGER NOT NULL
        )""",
        "CREATE INDEX people_name_key ON people (name_key)",
        """CREATE TABLE pending_links (
            state TEXT PRIMARY KEY,
            code_verifier_enc TEXT NOT NULL,
            expires_at INTEGER NOT NULL,
            person_id TEXT,
            name TEXT
        )""",
        """CREATE TABLE signup_codes (
            code TEXT PRIMARY KEY,
            access_token_enc TEXT NOT NULL,
            refresh_token_enc TEXT NOT NULL,
            grant_expires_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL
        )""",
        """CREATE TABLE shares (
            id TEXT PRIMARY KEY,
            sender_id TEXT NOT NULL,
            recipient_id TEXT NOT NULL,
            track_uri TEXT NOT NULL,
            track_name TEXT NOT NULL,
            track_artists TEXT NOT NULL,  -- JSON list of names
            track_duration_ms INTEGER NOT NULL,
            track_url TEXT NOT NULL,
            track_isrc TEXT,
            pre TEXT,
            post TEXT,
            shared_at INTEGER NOT NULL,
            next_check_at INTEGER NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('pending', 'listened', 'expired')),
            settled_at INTEGER
        )""",
        "CREATE INDEX shares_recipient_status ON shares (recipient_id, status)",
        "CREATE INDEX shares_sender_time ON shares (sender_id, shared_at)",
        """CREATE TABLE recipient_checks (
            recipient_id TEXT PRIMARY KEY,
            next_check_at INTEGER NOT NULL,  -- while claimed: the end of the lease
            claim TEXT,
            cursor INTEGER
        )""",
        "CREATE INDEX recipient_checks_due ON recipient_checks (next_check_at)",
        """CREATE TABLE outbox (
            id TEXT PRIMARY KEY,
            person_id TEXT NOT NULL,
            text TEXT NOT NULL,
            quick_replies TEXT NOT NULL,  -- JSON list of {title, payload}
            kind TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            lease_until INTEGER,
            held INTEGER NOT NULL DEFAULT 0
        )""",
        "CREATE INDEX outbox_ready ON outbox (created_at) WHERE held = 0",
        "CREATE INDEX outbox_held ON outbox (person_id) WHERE held = 1",
    ),
    # 2: people get our own ids, reached at channel addresses, with one connection of
    # any source. Existing people were Messenger PSIDs with a Spotify grant: their ids
    # stay (as opaque ids), each gets the address messenger:<psid> and a connection.
    (
        """CREATE TABLE addresses (
            address TEXT PRIMARY KEY,  -- "<channel>:<id on the channel>"
            person_id TEXT NOT NULL,
            last_seen_at INTEGER NOT NULL
        )""",
        "CREATE INDEX addresses_person ON addresses (person_id, last_seen_at)",
        "INSERT INTO addresses SELECT 'messenger:' || id, id, registered_at FROM people",
        """CREATE TABLE connections (
            person_id TEXT PRIMARY KEY,
            source TEXT NOT NULL,
            account TEXT,  -- the source's id or user name for the person
            access_token_enc TEXT,
            refresh_token_enc TEXT,
            token_expires_at INTEGER,
            consented_at INTEGER,
            status TEXT NOT NULL CHECK (status IN ('ok', 'revoked', 'refused')),
            connected_at INTEGER NOT NULL
        )""",
        "CREATE UNIQUE INDEX connections_account ON connections (source, account)",
        """INSERT INTO connections SELECT id, 'spotify', NULL, access_token_enc,
            refresh_token_enc, expires_at, registered_at,
            CASE needs_reconnect WHEN 1 THEN 'revoked' ELSE 'ok' END, registered_at
            FROM people""",
        "ALTER TABLE people DROP COLUMN needs_reconnect",
        "ALTER TABLE people DROP COLUMN access_token_enc",
        "ALTER TABLE people DROP COLUMN refresh_token_enc",
        "ALTER TABLE people DROP COLUMN expires_at",
        "ALTER TABLE inbox RENAME COLUMN sender_id TO sender",
        "UPDATE inbox SET sender = 'messenger:' || sender",
        "UPDATE inbox SET id = 'messenger:' || id",
        "ALTER TABLE inbox ADD COLUMN profile_name TEXT",
        "ALTER TABLE outbox RENAME COLUMN person_id TO address",
        "UPDATE outbox SET address = 'messenger:' || address",
        "ALTER TABLE outbox ADD COLUMN not_before INTEGER",
        "ALTER TABLE pending_links RENAME COLUMN person_id TO address",
        "UPDATE pending_links SET address = 'messenger:' || address WHERE address IS NOT NULL",
        "DROP TABLE signup_codes",
        """CREATE TABLE signup_codes (
            code TEXT PRIMARY KEY,
            account TEXT,
            access_token_enc TEXT,
            refresh_token_enc TEXT,
            token_expires_at INTEGER,
            consented_at INTEGER,
            expires_at INTEGER NOT NULL
        )""",
        "ALTER TABLE recipient_checks DROP COLUMN cursor",
        "ALTER TABLE recipient_checks ADD COLUMN version INTEGER NOT NULL DEFAULT 0",
        """CREATE TABLE choices (
            token TEXT PRIMARY KEY,
            address TEXT NOT NULL,
            payload TEXT NOT NULL,
            expires_at INTEGER NOT NULL
        )""",
        """CREATE TABLE pauses (
            source TEXT PRIMARY KEY,
            until INTEGER NOT NULL
        )""",
    ),
    # 3: reminders before a grant lapses for good (six months after consent at Spotify)
    (
        "ALTER TABLE connections ADD COLUMN reminded_at INTEGER",
        "CREATE INDEX connections_consent ON connections (source, consented_at)"
        " WHERE status = 'ok' AND reminded_at IS NULL",
    ),
    # 4: held messages lapse after a while; whose they were, to tell them
    (
        "ALTER TABLE outbox ADD COLUMN on_behalf_of TEXT",
        "CREATE INDEX outbox_held_since ON outbox (created_at) WHERE held = 1",
    ),
    # 5: groups; shares learn which group send they belong to, when they were
    # delivered, and a fourth status, cancelled. SQLite cannot alter a CHECK
    # constraint, so the shares table is rebuilt (its rows copied as they are).
    (
        """CREATE TABLE shares_v5 (
            id TEXT PRIMARY KEY,
            sender_id TEXT NOT NULL,
            recipient_id TEXT NOT NULL,
            track_uri TEXT NOT NULL,
            track_name TEXT NOT NULL,
            track_artists TEXT NOT NULL,  -- JSON list of names
            track_duration_ms INTEGER NOT NULL,
            track_url TEXT NOT NULL,
            track_isrc TEXT,
            pre TEXT,
            post TEXT,
            shared_at INTEGER NOT NULL,
            next_check_at INTEGER NOT NULL,
            status TEXT NOT NULL
                CHECK (status IN ('pending', 'listened', 'expired', 'cancelled')),
            settled_at INTEGER,
            group_send TEXT,
            group_name TEXT,
            delivered_at INTEGER
        )""",
        """INSERT INTO shares_v5 (id, sender_id, recipient_id, track_uri, track_name,
            track_artists, track_duration_ms, track_url, track_isrc, pre, post, shared_at,
            next_check_at, status, settled_at)
            SELECT id, sender_id, recipient_id, track_uri, track_name, track_artists,
            track_duration_ms, track_url, track_isrc, pre, post, shared_at, next_check_at,
            status, settled_at FROM shares""",
        "DROP TABLE shares",
        "ALTER TABLE shares_v5 RENAME TO shares",
        "CREATE INDEX shares_recipient_status ON shares (recipient_id, status)",
        "CREATE INDEX shares_sender_time ON shares (sender_id, shared_at)",
        "CREATE INDEX shares_group_send ON shares (group_send) WHERE group_send IS NOT NULL",
        """CREATE TABLE groups (
            id TEXT PRIMARY KEY,
            owner_id TEXT NOT NULL,
            name TEXT NOT NULL,
            name_key TEXT NOT NULL,  -- casefolded name: unique per owner
            created_at INTEGER NOT NULL
        )""",
        "CREATE UNIQUE INDEX groups_owner_name ON groups (owner_id, name_key)",
        """CREATE TABLE group_members (
            group_id TEXT NOT NULL,
            person_id TEXT NOT NULL,
            position INTEGER NOT NULL,  -- the order members were added in
            PRIMARY KEY (group_id, person_id)
        )""",
        "CREATE INDEX group_members_person ON group_members (person_id)",
    ),
    # 6: per-person attempt counters (sign-ups, shares) and receipts of erasures
    (
        """CREATE TABLE limit_events (
            key TEXT NOT NULL,  -- e.g. "share:<person id>"
            at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL  -- when it stops counting
        )""",
        "CREATE INDEX limit_events_key ON limit_events (key, expires_at)",
        "CREATE INDEX limit_events_expiry ON limit_events (expires_at)",
        """CREATE TABLE erasures (
            code TEXT PRIMARY KEY,  -- the confirmation code given to whoever asked
            erased_at INTEGER NOT NULL
        )""",
    ),
    # 7: a share that expired while its recipient's history could not be read says
    # so in status ("couldn't read their history", not "unplayed")
    ("ALTER TABLE shares ADD COLUMN unread INTEGER NOT NULL DEFAULT 0",),
    # 8: Telegram updates are stored as sent (JSON text) and read by the worker;
    # their sender is "telegram:" until then
    ("ALTER TABLE inbox ADD COLUMN unread TEXT",),
)

SCHEMA_VERSION = len(MIGRATIONS)


async def schema_version(db: aiosqlite.Connection) -> int:
    async with db.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def apply_migrations(db: aiosqlite.Connection) -> int:
    """Bring the schema up to date; returns how many migrations ran.

    The caller holds a write transaction (BEGIN IMMEDIATE), so a second process
    migrating at the same time waits, then finds the work done.
    """
    version = await schema_version(db)
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"the database schema is version {version}, newer than this program's "
            f"{SCHEMA_VERSION}; upgrade sendsongs"
        )
    for statements in MIGRATIONS[version:]:
        for statement in statements:
            await db.execute(statement)
    # PRAGMA takes no parameters; the value is our own integer, not input.
    await db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    return SCHEMA_VERSION - version


# -- rows <-> domain objects (rows come from sqlite3.Row, so columns go by name) --


def incoming_values(message: IncomingMessage) -> dict[str, Any]:
    return {
        "id": message.id,
        "sender": str(message.sender),
        "text": message.text,
        "payload": message.payload,
        "attachments": json.dumps(list(message.attachments)),
        "received_at": to_db_time(message.received_at),
        "profile_name": message.profile_name,
        "unread": message.unread,
    }


def incoming_from(row: sqlite3.Row) -> IncomingMessage:
    unread = row["unread"]
    return IncomingMessage(
        id=row["id"],
        sender=sender_from(row["sender"], unread is not None),
        received_at=from_db_time(row["received_at"]),
        text=row["text"],
        payload=row["payload"],
        attachments=tuple(json.loads(row["attachments"])),
        profile_name=row["profile_name"],
        unread=unread,
    )


def sender_from(value: str, unread: bool) -> Address:
    """The stored sender: `<channel>:`, with no id, while the update is unread."""
    if unread and value.endswith(":"):
        return Address.unknown(value.removesuffix(":"))
    return Address.parse(value)


def person_from(row: sqlite3.Row) -> Person:
    return Person(
        id=row["id"],
        name=row["name"],
        registered_at=from_db_time(row["registered_at"]),
    )


def share_values(share: Share) -> dict[str, Any]:
    track = share.track
    return {
        "id": share.id,
        "sender_id": share.sender_id,
        "recipient_id": share.recipient_id,
        "track_uri": track.uri,
        "track_name": track.name,
        "track_artists": json.dumps(list(track.artists)),
        "track_duration_ms": track.duration_ms,
        "track_url": track.url,
        "track_isrc": track.isrc,
        "pre": share.pre,
        "post": share.post,
        "shared_at": to_db_time(share.shared_at),
        "next_check_at": to_db_time(share.next_check_at),
        "status": share.status.value,
        "settled_at": to_db_time_or_none(share.settled_at),
        "group_send": share.group_send,
        "group_name": share.group_name,
        "delivered_at": to_db_time_or_none(share.delivered_at),
        "unread": int(share.unread),
    }


def share_from(row: sqlite3.Row) -> Share:
    track = Track(
        uri=row["track_uri"],
        name=row["track_name"],
        artists=tuple(json.loads(row["track_artists"])),
        duration_ms=row["track_duration_ms"],
        url=row["track_url"],
        isrc=row["track_isrc"],
    )
    return Share(
        id=row["id"],
        sender_id=row["sender_id"],
        recipient_id=row["recipient_id"],
        track=track,
        shared_at=from_db_time(row["shared_at"]),
        next_check_at=from_db_time(row["next_check_at"]),
        pre=row["pre"],
        post=row["post"],
        status=ShareStatus(row["status"]),
        settled_at=from_db_time_or_none(row["settled_at"]),
        group_send=row["group_send"],
        group_name=row["group_name"],
        delivered_at=from_db_time_or_none(row["delivered_at"]),
        unread=bool(row["unread"]),
    )


def outgoing_values(message: Outgoing) -> dict[str, Any]:
    replies = [{"title": q.title, "payload": q.payload} for q in message.reply.quick_replies]
    return {
        "id": message.id,
        "address": str(message.address),
        "text": message.reply.text,
        "quick_replies": json.dumps(replies),
        "kind": message.kind.value,
        "created_at": to_db_time(message.created_at),
        "on_behalf_of": None if message.on_behalf_of is None else str(message.on_behalf_of),
    }


def outgoing_from(row: sqlite3.Row) -> Outgoing:
    replies = tuple(QuickReply(q["title"], q["payload"]) for q in json.loads(row["quick_replies"]))
    return Outgoing(
        id=row["id"],
        address=Address.parse(row["address"]),
        reply=Reply(row["text"], replies),
        created_at=from_db_time(row["created_at"]),
        kind=MessageKind(row["kind"]),
        on_behalf_of=None if row["on_behalf_of"] is None else Address.parse(row["on_behalf_of"]),
    )
