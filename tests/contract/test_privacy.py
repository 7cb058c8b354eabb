"""The store contract for people's data under their control: erasing a person,
per-person limits, erasure receipts, key rotation — and, for SQLite, that nothing
erased stays readable in the database, -wal or -shm files."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from sendsongs.crypto import TokenCipher
from sendsongs.domain.models import (
    Address,
    Choice,
    IncomingMessage,
    Outgoing,
    PendingLink,
    Person,
    Reply,
)
from sendsongs.errors import StoreError
from sendsongs.ports import LinkedAccount, Stores
from sendsongs.stores.dynamodb import open_dynamodb
from sendsongs.stores.sqlite import open_sqlite
from tests.contract.conftest import SECRET, OpenStores
from tests.contract.test_store import ACCESS, ANN, BOB, REFRESH, at, grant, note, share, spotify

HOUR = timedelta(hours=1)
NEW_KEY = "the-new-secret-key-0123"


async def two_people(stores: Stores) -> None:
    await stores.people.save_person(Person("ann", "Ann", at(0)), ANN)
    await stores.people.save_person(Person("bob", "Bob", at(1)), BOB)
    await stores.people.save_person(Person("bob", "Bob", at(2)), Address("telegram", "77"))
    await stores.people.save_connection(spotify("ann"))
    await stores.people.save_connection(spotify("bob"))


# -- erasing a person, role by role --


async def test_erase_person_drops_person_addresses_and_connection(stores: Stores) -> None:
    await two_people(stores)
    people = stores.people
    assert sorted(await people.addresses_of("bob")) == [BOB, Address("telegram", "77")]
    await people.erase_person("bob")
    assert await people.get_person("bob") is None
    assert await people.person_at(BOB) is None
    assert await people.person_at(Address("telegram", "77")) is None
    assert await people.address_of("bob") is None and await people.addresses_of("bob") == []
    assert await people.find_people("bob") == []
    assert await people.get_connection("bob") is None
    assert await people.connection_of_account("spotify", "acct-bob") is None
    await people.save_connection(spotify("cy", "acct-bob"))  # the account is free again
    assert await people.get_person("ann") is not None and await people.get_connection("ann")
    await people.erase_person("nobody")  # nothing there: nothing happens


async def test_erase_shares_of_drops_shares_both_ways_and_the_check(stores: Stores) -> None:
    shares = stores.shares
    await shares.add_share(share("to-bob-1", recipient="bob", sender="ann", due=5))
    await shares.add_share(share("to-bob-2", recipient="bob", sender="cy", shared=1, due=6))
    await shares.add_share(share("from-bob", recipient="ann", sender="bob", due=7))
    await shares.add_share(share("ann-to-cy", recipient="cy", sender="ann", due=8))
    [claimed] = [c for c in await shares.claim_due_checks(at(5), at(6), 10)]
    gone = await shares.erase_shares_of("bob")
    assert [s.id for s in gone] == ["from-bob", "to-bob-1", "to-bob-2"]  # oldest first, then by id
    assert gone[1] == share("to-bob-1", recipient="bob", sender="ann", due=5)
    assert await shares.pending_shares("bob") == []
    assert await shares.shares_sent_by("bob", 10) == []
    assert await shares.get_share("from-bob") is None
    assert await shares.next_check_at("bob") is None
    assert not await shares.settle_check(claimed, [], None)  # a claim in flight is void
    assert [s.id for s in await shares.pending_shares("cy")] == ["ann-to-cy"]
    assert await shares.erase_shares_of("bob") == []


async def test_erase_to_drops_waiting_and_held_messages_of_those_addresses(stores: Stores) -> None:
    outbox = stores.outbox
    tg = Address("telegram", "77")
    await outbox.add_outgoing([note("b1", BOB), note("b2", BOB), note("t1", tg), note("a1", ANN)])
    await outbox.hold_outgoing("b2")
    assert await outbox.erase_to([BOB, tg]) == 3
    assert await outbox.release_held(BOB) == 0
    assert [m.id for m in await outbox.claim_outgoing(at(5), at(6), 10)] == ["a1"]


async def test_erase_for_drops_secrets_of_those_addresses_and_account(stores: Stores) -> None:
    secrets = stores.secrets
    await secrets.save_pending_link(PendingLink("st-bob", "v", at(5), BOB, "Bob"))
    await secrets.save_pending_link(PendingLink("st-ann", "v", at(5), ANN, "Ann"))
    await secrets.save_choice(Choice("ch-bob", BOB, "{}", at(5)))
    await secrets.save_choice(Choice("ch-ann", ANN, "{}", at(5)))
    await secrets.save_signup_code("code-bob", LinkedAccount("acct-bob", grant()), at(5))
    await secrets.save_signup_code("code-ann", LinkedAccount("acct-ann", grant()), at(5))
    await secrets.erase_for([BOB], "acct-bob")
    assert await secrets.take_pending_link("st-bob", at(0)) is None
    assert await secrets.take_choice("ch-bob", at(0)) is None
    assert await secrets.take_signup_code("code-bob", at(0)) is None
    assert await secrets.take_pending_link("st-ann", at(0)) is not None
    assert await secrets.take_choice("ch-ann", at(0)) is not None
    assert await secrets.take_signup_code("code-ann", at(0)) is not None
    await secrets.erase_for([], None)


async def test_a_finished_message_still_refuses_its_redelivery(stores: Stores) -> None:
    # what it said is forgotten (SQLite: see the byte test below), its id is not
    said = IncomingMessage("m1", BOB, at(0), "send_song name:Ann", "c:tok", ("https://x",), "Bob")
    await stores.inbox.add_incoming([said])
    await stores.inbox.claim_incoming(at(0), at(1), 10)
    await stores.inbox.finish_incoming("m1")
    assert await stores.inbox.add_incoming([said]) == 0  # a redelivery is still dropped
    assert await stores.inbox.claim_incoming(at(5), at(6), 10) == []


# -- per-person limits --


async def test_limits_count_within_the_window_and_say_when(stores: Stores) -> None:
    limits = stores.limits
    assert await limits.take("share:ann", at(0), HOUR, 2) is None
    assert await limits.take("share:ann", at(10), HOUR, 2) is None
    assert await limits.take("share:ann", at(20), HOUR, 2) == at(60)  # the first leaves then
    assert await limits.take("share:ann", at(59), HOUR, 2) == at(60)  # refusals count nothing
    assert await limits.take("share:bob", at(20), HOUR, 2) is None  # keys are separate
    assert await limits.take("share:ann", at(60), HOUR, 2) is None
    assert await limits.take("share:ann", at(61), HOUR, 2) == at(70)
    assert await limits.take("share:ann", at(61), HOUR, 3) is None  # a raised limit applies


async def test_forgotten_keys_count_from_zero(stores: Stores) -> None:
    limits = stores.limits
    await limits.take("signup:x", at(0), HOUR, 1)
    await limits.take("signup:y", at(0), HOUR, 1)
    await limits.forget(["signup:x", "signup:never"])
    assert await limits.take("signup:x", at(1), HOUR, 1) is None
    assert await limits.take("signup:y", at(1), HOUR, 1) == at(60)


async def test_purge_drops_limit_counts_that_stopped_counting(stores: Stores) -> None:
    limits = stores.limits
    await limits.take("k", at(0), HOUR, 1)
    await stores.admin.purge(at(0), at(59))
    assert await limits.take("k", at(59), HOUR, 1) == at(60)
    await stores.admin.purge(at(0), at(60))
    assert await limits.take("k", at(60), HOUR, 1) is None


async def test_racing_workers_never_exceed_a_limit(open_stores: OpenStores) -> None:
    handles = [await open_stores() for _ in range(4)]
    results = await asyncio.gather(
        *(h.limits.take("share:ann", at(0), HOUR, 5) for h in handles for _ in range(5))
    )
    assert sum(result is None for result in results) == 5


# -- erasure receipts, scrub and key rotation --


async def test_erasure_receipts_are_kept_and_read_by_every_worker(
    open_stores: OpenStores,
) -> None:
    one, two = await open_stores(), await open_stores()
    await one.erasures.record_erasure("CODE-1", at(3))
    await one.erasures.record_erasure("CODE-1", at(9))  # a receipt is never rewritten
    assert await two.erasures.erased_at("CODE-1") == at(3)
    assert await two.erasures.erased_at("CODE-2") is None


async def test_scrub_and_reencrypt_leave_the_data_usable(stores: Stores) -> None:
    await two_people(stores)
    await stores.admin.scrub()
    assert await stores.admin.reencrypt() == 0  # nothing under an older key
    assert await stores.people.get_connection("ann") == spotify("ann")


# -- SQLite: down to the bytes of the files --


def sqlite_files(path: Path) -> dict[str, bytes]:
    """The database, -wal and -shm files as they are on disk now."""
    return {p.name: p.read_bytes() for p in path.parent.glob(path.name + "*")}


async def fill_bea(stores: Stores) -> list[bytes]:
    """Bea's data in every table that can hold some; returns what must disappear."""
    bea, bea_tg = Address("messenger", "psid-BEA-7741"), Address("telegram", "BEA-TG-8812")
    await stores.people.save_person(Person("bea", "Beatrix Quillfeather", at(0)), bea)
    await stores.people.save_person(Person("bea", "Beatrix Quillfeather", at(1)), bea_tg)
    await stores.people.save_connection(spotify("bea", "acct-BEA-QUILL", tag="-bea"))
    await stores.shares.add_share(share("s-to-bea", recipient="bea", sender="ann"))
    from_bea = replace(share("s-from-bea", recipient="ann", sender="bea"), pre="PRE-BEA-55")
    await stores.shares.add_share(from_bea)
    held = Outgoing("o-bea", bea, Reply("HELD-FOR-BEA-3"), at(0))
    await stores.outbox.add_outgoing([held])
    await stores.outbox.hold_outgoing("o-bea")
    await stores.secrets.save_choice(Choice("tok-bea", bea, '{"name": "CHOICE-BEA-9"}', at(60)))
    await stores.secrets.save_pending_link(PendingLink("st-bea", "v", at(60), bea, "LINKNAME-BEA"))
    said = IncomingMessage("m-bea", bea, at(0), "INBOX-TEXT-BEA-4", profile_name="PROFILE-BEA")
    update = '{"update_id": 6, "message": {"text": "INBOX-UNREAD-BEA-6"}}'
    unread = IncomingMessage("telegram:6", Address.unknown("telegram"), at(0), unread=update)
    await stores.inbox.add_incoming([said, unread])
    await stores.inbox.claim_incoming(at(0), at(1), 10)
    await stores.inbox.finish_incoming("m-bea")
    await stores.inbox.finish_incoming("telegram:6")
    await stores.limits.take("share:bea", at(0), HOUR, 5)
    return [
        b"psid-BEA-7741", b"BEA-TG-8812", b"Beatrix", b"beatrix", b"acct-BEA-QUILL",
        b"PRE-BEA-55", b"HELD-FOR-BEA-3", b"CHOICE-BEA-9", b"LINKNAME-BEA",
        b"INBOX-TEXT-BEA-4", b"PROFILE-BEA", b"share:bea", b"INBOX-UNREAD-BEA-6",
    ]  # fmt: skip


async def erase_bea(stores: Stores) -> None:
    """What the service does to erase Bea, role by role."""
    addresses = await stores.people.addresses_of("bea")
    await stores.shares.erase_shares_of("bea")
    await stores.outbox.erase_to(addresses)
    await stores.secrets.erase_for(addresses, "acct-BEA-QUILL")
    await stores.limits.forget(["share:bea"])
    await stores.people.erase_person("bea")
    await stores.admin.scrub()


def ciphertexts(path: Path, person: str) -> list[bytes]:
    with sqlite3.connect(path) as db:
        row = db.execute(
            "SELECT access_token_enc, refresh_token_enc FROM connections WHERE person_id = ?",
            (person,),
        ).fetchone()
    return [value.encode() for value in row]


async def test_sqlite_erasure_leaves_nothing_readable_in_any_file(
    sqlite_path: Path, cipher: TokenCipher
) -> None:
    stores = open_sqlite(str(sqlite_path), cipher)
    await stores.admin.migrate()
    await two_people(stores)
    gone = await fill_bea(stores)
    gone += ciphertexts(sqlite_path, "bea")
    before = b"".join(sqlite_files(sqlite_path).values())
    assert all(needle in before for needle in gone if b"INBOX" not in needle)  # it was there
    await erase_bea(stores)
    files = sqlite_files(sqlite_path)
    assert set(files) == {"sqlite-only.db", "sqlite-only.db-wal", "sqlite-only.db-shm"}
    for name, content in files.items():
        for needle in gone:
            assert needle not in content, f"{needle!r} is still in {name}"
    assert b"Ann" in files["sqlite-only.db"]  # the search does read the data
    # later writes bring nothing back
    await stores.outbox.add_outgoing([note("later", ANN)])
    await stores.admin.close()
    after = b"".join(sqlite_files(sqlite_path).values())
    assert not [needle for needle in gone if needle in after]
    stores = open_sqlite(str(sqlite_path), cipher)
    assert await stores.people.get_connection("ann") == spotify("ann")
    await stores.admin.close()


async def test_sqlite_rotation_keeps_every_connection(sqlite_path: Path) -> None:
    old = TokenCipher(SECRET)
    stores = open_sqlite(str(sqlite_path), old)
    await stores.admin.migrate()
    await two_people(stores)
    await stores.secrets.save_signup_code("code", LinkedAccount("a", grant("-code")), at(5))
    await stores.secrets.save_pending_link(PendingLink("st", "VERIFIER", at(5)))
    await stores.admin.close()

    rotated = TokenCipher("the-new-secret-key-0123", previous=[SECRET])
    stores = open_sqlite(str(sqlite_path), rotated)
    assert await stores.people.get_connection("ann") == spotify("ann")  # old key still reads
    await stores.people.save_grant("bob", grant("-fresh"))  # a refresh writes under the new key
    assert await stores.admin.reencrypt() == 2 + 2 + 1  # ann's two, the code's two, the verifier
    assert await stores.admin.reencrypt() == 0
    await stores.admin.close()

    stores = open_sqlite(str(sqlite_path), TokenCipher("the-new-secret-key-0123"))
    assert await stores.people.get_connection("ann") == spotify("ann")  # old key no longer needed
    assert (await stores.people.get_connection("bob")).grant == grant("-fresh")  # type: ignore[union-attr]
    code = await stores.secrets.take_signup_code("code", at(0))
    assert code == LinkedAccount("a", grant("-code"))
    link = await stores.secrets.take_pending_link("st", at(0))
    assert link is not None and link.code_verifier == "VERIFIER"
    await stores.admin.close()


async def test_sqlite_rotation_refuses_values_no_key_reads(sqlite_path: Path) -> None:
    stores = open_sqlite(str(sqlite_path), TokenCipher("a-key-nobody-kept-0001"))
    await stores.admin.migrate()
    await two_people(stores)
    await stores.admin.close()
    stores = open_sqlite(str(sqlite_path), TokenCipher("the-new-secret-key-0123", [SECRET]))
    with pytest.raises(StoreError, match="SENDSONGS_PREVIOUS_SECRET_KEYS"):
        await stores.admin.reencrypt()
    await stores.admin.close()
    for secret in (ACCESS, REFRESH):
        assert secret.encode() not in b"".join(sqlite_files(sqlite_path).values())


async def test_erase_to_drops_what_waits_on_their_behalf(stores: Stores) -> None:
    outbox = stores.outbox
    song = replace(note("song-from-bob", ANN), on_behalf_of=BOB)  # Bob's song, held for Ann
    await outbox.add_outgoing([song, note("other", ANN)])
    await outbox.hold_outgoing("song-from-bob")
    assert await outbox.erase_to([BOB]) == 1
    assert await outbox.drop_held(at(1000)) == []
    assert [m.id for m in await outbox.claim_outgoing(at(5), at(6), 10)] == ["other"]


# -- DynamoDB: down to every stored item, and rotation through the sealed index --


def dynamodb_items(prefix: str) -> bytes:
    """Every item of every table under `prefix`, as DynamoDB returns them (tests
    only: the functions may not Scan)."""
    import boto3

    from sendsongs.stores.dynamodb import TABLES

    client = boto3.client("dynamodb")
    pages = [
        page["Items"]
        for spec in TABLES
        for page in client.get_paginator("scan").paginate(TableName=f"{prefix}-{spec.role}")
    ]
    return json.dumps(pages).encode()


async def test_dynamodb_erasure_leaves_no_item_holding_their_data(
    dynamodb_prefix: str, cipher: TokenCipher
) -> None:
    stores = open_dynamodb(dynamodb_prefix, cipher)
    await stores.admin.migrate()
    await two_people(stores)
    gone = await fill_bea(stores)
    connection = await stores.people.get_connection("bea")
    assert connection is not None and connection.grant is not None
    before = dynamodb_items(dynamodb_prefix)
    forgotten = (b"INBOX", b"PROFILE")  # a handled message already kept only its id
    assert all(n in before for n in gone if not n.startswith(forgotten))  # it was there
    assert not [n for n in gone if n.startswith(forgotten) and n in before]
    sealed = [v.encode() for v in _sealed_values(before, b"person#bea")]
    assert len(sealed) == 2  # the two encrypted tokens
    await erase_bea(stores)
    after = dynamodb_items(dynamodb_prefix)
    assert not [n for n in [*gone, *sealed] if n in after]
    assert b"psid-ann" in after and await stores.people.get_connection("ann") == spotify("ann")
    assert await stores.inbox.add_incoming([IncomingMessage("m-bea", BOB, at(0), "")]) == 0


def _sealed_values(items: bytes, pk: bytes) -> list[str]:
    """The ciphertexts of the connection item under `pk`."""
    for page in json.loads(items):
        for item in page:
            if item["pk"]["S"].encode() == pk and item["sk"]["S"] == "connection":
                return [item[c]["S"] for c in ("access_token_enc", "refresh_token_enc")]
    return []


async def test_dynamodb_rotation_keeps_every_credential(dynamodb_prefix: str) -> None:
    stores = open_dynamodb(dynamodb_prefix, TokenCipher(SECRET))
    await stores.admin.migrate()
    await two_people(stores)
    await stores.secrets.save_signup_code("code", LinkedAccount("a", grant("-code")), at(5))
    await stores.secrets.save_signup_code("bare", LinkedAccount("b"), at(5))  # nothing sealed
    await stores.secrets.save_pending_link(PendingLink("st", "VERIFIER", at(5)))
    await stores.secrets.save_choice(Choice("ch", ANN, "{}", at(5)))

    stores = open_dynamodb(dynamodb_prefix, TokenCipher(NEW_KEY, previous=[SECRET]))
    assert await stores.people.get_connection("ann") == spotify("ann")  # old key still reads
    await stores.people.save_grant("bob", grant("-fresh"))  # a refresh writes under the new key
    await stores.people.mark_reminded("ann", at(1))  # a change of its own leaves it sealed
    assert await stores.admin.reencrypt() == 2 + 2 + 1  # ann's two, the code's two, the verifier
    assert await stores.admin.reencrypt() == 0

    stores = open_dynamodb(dynamodb_prefix, TokenCipher(NEW_KEY))
    ann = await stores.people.get_connection("ann")  # the old key is no longer needed
    assert ann is not None and ann.grant == grant() and ann.reminded_at == at(1)
    assert (await stores.people.get_connection("bob")).grant == grant("-fresh")  # type: ignore[union-attr]
    assert await stores.secrets.take_signup_code("code", at(0)) == LinkedAccount(
        "a", grant("-code")
    )
    assert await stores.secrets.take_signup_code("bare", at(0)) == LinkedAccount("b")
    link = await stores.secrets.take_pending_link("st", at(0))
    assert link is not None and link.code_verifier == "VERIFIER"


async def test_dynamodb_rotation_refuses_values_no_key_reads_and_writes_nothing(
    dynamodb_prefix: str,
) -> None:
    stores = open_dynamodb(dynamodb_prefix, TokenCipher(SECRET))
    await stores.admin.migrate()
    await two_people(stores)
    lost = open_dynamodb(dynamodb_prefix, TokenCipher("a-key-nobody-kept-0001"))
    await lost.secrets.save_pending_link(PendingLink("st", "VERIFIER", at(5)))
    stores = open_dynamodb(dynamodb_prefix, TokenCipher(NEW_KEY, previous=[SECRET]))
    with pytest.raises(StoreError, match="SENDSONGS_PREVIOUS_SECRET_KEYS"):
        await stores.admin.reencrypt()
    old_only = open_dynamodb(dynamodb_prefix, TokenCipher(SECRET))
    assert await old_only.people.get_connection("ann") == spotify("ann")  # not rewritten
