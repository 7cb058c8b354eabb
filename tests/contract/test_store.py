"""The Store contract: every implementation must behave exactly like this."""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sendsongs.adapters.store_sqlite import SqliteStore
from sendsongs.crypto import TokenCipher
from sendsongs.domain.models import (
    Grant,
    IncomingMessage,
    MessageKind,
    Outgoing,
    PendingLink,
    Person,
    QuickReply,
    RecipientCheck,
    Reply,
    Share,
    ShareStatus,
    Track,
)
from sendsongs.errors import StoreError
from sendsongs.ports import Store
from tests.contract.conftest import OpenStore

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
MS = timedelta(milliseconds=1)
SONG = Track(
    uri="spotify:track:46X0dXeliHXD73sxexJx7d",
    name="Hey Jude",
    artists=("The Beatles",),
    duration_ms=431_000,
    url="https://open.spotify.com/track/46X0dXeliHXD73sxexJx7d",
    isrc="GBAYE0601498",
)
ACCESS = "access-token-PLAINTEXT-a8f3"
REFRESH = "refresh-token-PLAINTEXT-77c1"


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def message(mid: str, minute: float = 0, text: str = "hi") -> IncomingMessage:
    return IncomingMessage(id=mid, sender_id="psid-1", received_at=at(minute), text=text)


def share(
    sid: str, recipient: str = "bob", shared: float = 0, due: float = 10, sender: str = "ann"
) -> Share:
    return Share(
        id=sid,
        sender_id=sender,
        recipient_id=recipient,
        track=SONG,
        shared_at=at(shared),
        next_check_at=at(due),
        pre="listen to this",
        post="told you",
    )


def note(oid: str, person: str = "ann", minute: float = 0) -> Outgoing:
    return Outgoing(id=oid, person_id=person, reply=Reply(f"note {oid}"), created_at=at(minute))


def grant(tag: str = "") -> Grant:
    return Grant(ACCESS + tag, REFRESH + tag, at(60))


async def outbox_ids(store: Store, minute: float = 1000) -> list[str]:
    """Claims everything deliverable (as far in the future as asked) and names it."""
    return [m.id for m in await store.claim_outgoing(at(minute), at(minute + 1), 100)]


# -- inbox --


async def test_redelivered_message_is_refused(store: Store) -> None:
    assert await store.add_incoming(message("m1")) is True
    assert await store.add_incoming(message("m1", text="changed")) is False
    await store.claim_incoming(at(1), at(2), 10)
    await store.finish_incoming("m1")
    assert await store.add_incoming(message("m1")) is False


async def test_incoming_claimed_oldest_first_and_round_trips(store: Store) -> None:
    full = IncomingMessage(
        id="m-full",
        sender_id="psid-9",
        received_at=at(5),
        text='send_song name:"Bob" 🎵',
        payload="HELP",
        attachments=("https://open.spotify.com/track/1", "https://x.test/2"),
    )
    await store.add_incoming(full)
    await store.add_incoming(message("m-old", 1))
    await store.add_incoming(message("m-mid", 3))
    claimed = await store.claim_incoming(at(10), at(11), 10)
    assert [m.id for m in claimed] == ["m-old", "m-mid", "m-full"]
    assert claimed[2] == full
    assert claimed[2].received_at.tzinfo is not None
    assert claimed[2].received_at.utcoffset() == timedelta(0)


async def test_incoming_lease_limit_expiry_and_finish(store: Store) -> None:
    for i in range(3):
        await store.add_incoming(message(f"m{i}", i))
    first = await store.claim_incoming(at(10), at(15), 2)
    assert [m.id for m in first] == ["m0", "m1"]
    assert [m.id for m in await store.claim_incoming(at(11), at(16), 5)] == ["m2"]
    assert await store.claim_incoming(at(14), at(20), 5) == []
    await store.finish_incoming("m0")
    # m1's worker crashed: its lease runs out and it comes back; m0 never does.
    assert [m.id for m in await store.claim_incoming(at(15), at(20), 5)] == ["m1"]
    assert [m.id for m in await store.claim_incoming(at(30), at(31), 5)] == ["m1", "m2"]
    assert await store.claim_incoming(at(30), at(31), 0) == []


async def test_concurrent_inbox_claimers_never_share(open_store: OpenStore) -> None:
    first, second = await open_store(), await open_store()
    for i in range(30):
        await first.add_incoming(message(f"m{i:02}", i / 10))
    seen: list[str] = []
    for _ in range(10):
        batches = await asyncio.gather(
            first.claim_incoming(at(10), at(20), 4), second.claim_incoming(at(10), at(20), 4)
        )
        seen += [m.id for batch in batches for m in batch]
    assert sorted(seen) == [f"m{i:02}" for i in range(30)]  # each exactly once


# -- people and grants --


async def test_person_and_grant_round_trip(store: Store) -> None:
    ann = Person("ann", "Ann Lee", at(0))
    await store.save_person(ann, grant())
    assert await store.get_person("ann") == ann
    assert await store.get_grant("ann") == grant()
    assert await store.get_person("nobody") is None
    assert await store.get_grant("nobody") is None
    await store.save_grant("ann", grant("-rotated"))
    assert await store.get_grant("ann") == grant("-rotated")
    assert await store.get_person("ann") == ann


async def test_find_people_ignores_case(store: Store) -> None:
    await store.save_person(Person("b2", "bob JONES", at(5)), grant())
    await store.save_person(Person("b1", "Bob Jones", at(1)), grant())
    await store.save_person(Person("s", "Johann Strauß", at(2)), grant())
    await store.save_person(Person("x", "Bob Jonesy", at(0)), grant())
    assert [p.id for p in await store.find_people("BOB jones")] == ["b1", "b2"]
    assert [p.id for p in await store.find_people("JOHANN STRAUSS")] == ["s"]
    assert await store.find_people("Bob") == []


async def test_reconnect_flag_is_cleared_by_saving_the_person(store: Store) -> None:
    await store.save_person(Person("ann", "Ann", at(0)), grant())
    await store.mark_needs_reconnect("ann")
    person = await store.get_person("ann")
    assert person is not None and person.needs_reconnect
    await store.save_person(Person("ann", "Ann Lee", at(0)), grant("-new"))
    assert await store.get_person("ann") == Person("ann", "Ann Lee", at(0), False)
    assert await store.get_grant("ann") == grant("-new")
    assert [p.id for p in await store.find_people("ann lee")] == ["ann"]
    assert await store.find_people("ann") == []


# -- single-use secrets --


async def test_pending_link_is_single_use(store: Store) -> None:
    link = PendingLink("state-1", "verifier-xyz", at(10), person_id="ann", name="Ann")
    await store.save_pending_link(link)
    assert await store.take_pending_link("state-1", at(9)) == link
    assert await store.take_pending_link("state-1", at(9)) is None
    assert await store.take_pending_link("unknown", at(9)) is None


async def test_expired_pending_link_is_refused(store: Store) -> None:
    await store.save_pending_link(PendingLink("s", "v", at(10)))
    assert await store.take_pending_link("s", at(10)) is None
    assert await store.take_pending_link("s", at(0)) is None  # and it is gone


async def test_signup_code_is_single_use_and_expires(store: Store) -> None:
    await store.save_signup_code("ABC123", grant(), at(10))
    await store.save_signup_code("OLD999", grant("-old"), at(10))
    assert await store.take_signup_code("ABC123", at(9)) == grant()
    assert await store.take_signup_code("ABC123", at(9)) is None
    assert await store.take_signup_code("OLD999", at(11)) is None
    assert await store.take_signup_code("OLD999", at(1)) is None


async def test_purge_drops_only_old_handled_messages_and_dead_secrets(store: Store) -> None:
    for mid, minute in (("old-done", 0), ("old-open", 0), ("new-done", 50)):
        await store.add_incoming(message(mid, minute))
    await store.claim_incoming(at(60), at(61), 10)
    await store.finish_incoming("old-done")
    await store.finish_incoming("new-done")
    await store.save_pending_link(PendingLink("dead", "v", at(5)))
    await store.save_pending_link(PendingLink("live", "v", at(30)))
    await store.save_signup_code("DEAD", grant(), at(5))
    await store.save_signup_code("LIVE", grant(), at(30))
    assert await store.purge(handled_before=at(10), now=at(20)) == 3
    assert await store.add_incoming(message("old-done")) is True  # forgotten
    assert await store.add_incoming(message("old-open")) is False  # unhandled: kept
    assert await store.add_incoming(message("new-done", 50)) is False  # recent: kept
    assert await store.take_pending_link("live", at(20)) is not None
    assert await store.take_signup_code("LIVE", at(20)) == grant()
    assert await store.purge(handled_before=at(10), now=at(20)) == 0


# -- shares and checks --


async def test_share_round_trips_and_lists(store: Store) -> None:
    bare = replace(share("s0", shared=0), pre=None, post=None, track=replace(SONG, isrc=None))
    await store.add_share(bare)
    await store.add_share(share("s1", shared=1))
    await store.add_share(share("s2", shared=2, recipient="cy"))
    await store.add_share(share("s3", shared=3, sender="zed"))
    assert await store.get_share("s0") == bare
    assert await store.get_share("s1") == share("s1", shared=1)
    assert await store.get_share("nope") is None
    assert [s.id for s in await store.pending_shares("bob")] == ["s0", "s1", "s3"]
    assert [s.id for s in await store.shares_sent_by("ann", 2)] == ["s2", "s1"]
    assert [s.id for s in await store.shares_sent_by("ann", 10)] == ["s2", "s1", "s0"]


async def test_next_check_is_the_earliest_share(store: Store) -> None:
    assert await store.next_check_at("bob") is None
    await store.add_share(share("s1", due=30))
    assert await store.next_check_at("bob") == at(30)
    await store.add_share(share("s2", due=10))
    assert await store.next_check_at("bob") == at(10)
    await store.add_share(share("s3", due=50))
    assert await store.next_check_at("bob") == at(10)


async def test_readding_a_share_changes_nothing(store: Store) -> None:
    await store.add_share(share("s1", due=30))
    await store.add_share(share("s1", due=5, shared=-10))
    assert await store.get_share("s1") == share("s1", due=30)
    assert await store.next_check_at("bob") == at(30)
    assert len(await store.pending_shares("bob")) == 1


async def test_new_check_cursor_starts_just_before_the_share(store: Store) -> None:
    await store.add_share(share("s1", shared=0, due=5))
    await store.add_share(share("s2", shared=3, due=4))  # the existing cursor stays
    [check] = await store.claim_due_checks(at(5), at(6), 10)
    assert check.recipient_id == "bob"
    assert check.cursor == at(0) - MS


async def test_due_checks_are_claimed_earliest_first_under_a_lease(store: Store) -> None:
    await store.add_share(share("s1", recipient="late", due=9))
    await store.add_share(share("s2", recipient="early", due=2))
    await store.add_share(share("s3", recipient="future", due=60))
    claimed = await store.claim_due_checks(at(10), at(15), 10)
    assert [c.recipient_id for c in claimed] == ["early", "late"]
    assert claimed[0].claim != claimed[1].claim
    assert await store.next_check_at("early") == at(15)
    assert await store.claim_due_checks(at(14), at(20), 10) == []
    assert await store.claim_due_checks(at(10), at(15), 0) == []


async def test_a_crashed_workers_claim_comes_due_again(store: Store) -> None:
    await store.add_share(share("s1", due=0))
    [lost] = await store.claim_due_checks(at(1), at(2), 10)
    [again] = await store.claim_due_checks(at(2), at(3), 10)
    assert again.claim != lost.claim and again.cursor == lost.cursor
    listened = replace(share("s1", due=0), status=ShareStatus.LISTENED, settled_at=at(2))
    # The first worker wakes up late: it must not overwrite anything.
    assert not await store.settle_check(lost, [listened], at(1), [note("n1")])
    assert await store.get_share("s1") == share("s1", due=0)
    assert await outbox_ids(store) == []
    assert await store.next_check_at("bob") == at(3)
    assert await store.settle_check(again, [listened], at(1), [note("n1")])
    assert not await store.settle_check(again, [listened], at(1), [note("n2")])  # spent
    assert await outbox_ids(store) == ["n1"]


async def test_settle_reschedules_to_the_earliest_pending_share(store: Store) -> None:
    await store.add_share(share("s1", due=1))
    await store.add_share(share("s2", due=2))
    await store.add_share(share("s3", due=40))
    [check] = await store.claim_due_checks(at(5), at(6), 10)
    updated = [
        replace(share("s1"), next_check_at=at(20)),
        replace(share("s2"), status=ShareStatus.LISTENED, settled_at=at(5)),
    ]
    assert await store.settle_check(check, updated, at(4), [note("n1", "ann")])
    assert await store.next_check_at("bob") == at(20)
    assert [s.id for s in await store.pending_shares("bob")] == ["s1", "s3"]
    assert await store.get_share("s2") == updated[1]
    assert await outbox_ids(store) == ["n1"]
    [check] = await store.claim_due_checks(at(20), at(21), 10)
    assert check.cursor == at(4)  # kept between checks
    assert await store.settle_check(check, [replace(share("s1"), next_check_at=at(50))], None)
    assert await store.next_check_at("bob") == at(40)
    [check] = await store.claim_due_checks(at(40), at(41), 10)
    assert check.cursor == at(4)  # no new cursor: the old one stays


async def test_settle_changes_only_where_a_share_stands(store: Store) -> None:
    await store.add_share(share("s1", due=1))
    [check] = await store.claim_due_checks(at(5), at(6), 10)
    edited = replace(share("s1"), pre="edited", next_check_at=at(9), sender_id="mallory")
    with pytest.raises(ValueError):
        await store.settle_check(check, [replace(edited, recipient_id="cy")], None)
    assert await store.settle_check(check, [edited, share("unknown", due=2)], None)
    assert await store.get_share("s1") == share("s1", due=9)
    assert await store.get_share("unknown") is None
    assert await store.next_check_at("bob") == at(9)


async def test_check_is_removed_when_nothing_is_pending(store: Store) -> None:
    await store.add_share(share("s1", due=1))
    [check] = await store.claim_due_checks(at(5), at(6), 10)
    expired = replace(share("s1", due=1), status=ShareStatus.EXPIRED, settled_at=at(5))
    assert await store.settle_check(check, [expired], at(4))
    assert await store.next_check_at("bob") is None
    assert await store.claim_due_checks(at(100), at(101), 10) == []
    await store.add_share(share("s2", shared=50, due=60))  # a fresh check, fresh cursor
    [check] = await store.claim_due_checks(at(60), at(61), 10)
    assert check.cursor == at(50) - MS


async def test_share_added_during_a_claim_is_kept_pending(store: Store) -> None:
    await store.add_share(share("s1", due=1))
    [check] = await store.claim_due_checks(at(5), at(10), 10)
    await store.add_share(share("s2", shared=6, due=30))
    assert await store.next_check_at("bob") == at(10)  # the lease still guards it
    listened = replace(share("s1", due=1), status=ShareStatus.LISTENED, settled_at=at(7))
    assert await store.settle_check(check, [listened], at(6))
    assert await store.next_check_at("bob") == at(30)


async def test_concurrent_check_claimers_never_share(open_store: OpenStore) -> None:
    first, second = await open_store(), await open_store()
    for i in range(20):
        await first.add_share(share(f"s{i}", recipient=f"r{i:02}", due=i / 10))
    results = await asyncio.gather(
        *(store.claim_due_checks(at(5), at(10), 3) for store in [first, second] * 5)
    )
    claimed = [c.recipient_id for batch in results for c in batch]
    assert sorted(claimed) == [f"r{i:02}" for i in range(20)]


async def claim_for(store: Store, recipient: str) -> RecipientCheck:
    """Claims the recipient's check; others' (left by failed examples) stay leased."""
    claimed = await store.claim_due_checks(at(1000), at(1001), 1000)
    [check] = [c for c in claimed if c.recipient_id == recipient]
    return check


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    steps=st.lists(st.tuples(st.integers(0, 5), st.integers(-100, 100), st.booleans()), max_size=12)
)
async def test_any_share_sequence_keeps_next_check_at_the_earliest_pending(
    store: Store, steps: list[tuple[int, int, bool]]
) -> None:
    """(share number, due minute, settle first) steps; repeated numbers re-add an id."""
    recipient = uuid.uuid4().hex  # one store serves every example
    first_due: dict[int, int] = {}  # pending share number -> its due minute
    added: set[int] = set()
    for number, due, settle in steps:
        if settle and first_due:
            check = await claim_for(store, recipient)
            done = min(first_due)
            settled = replace(
                share(f"{recipient}-{done}", recipient, due=first_due.pop(done)),
                status=ShareStatus.LISTENED,
                settled_at=at(1000),
            )
            assert await store.settle_check(check, [settled], None)
        await store.add_share(share(f"{recipient}-{number}", recipient, due=due))
        if number not in added:  # a settled id re-added stays settled
            added.add(number)
            first_due[number] = due
        expected = min(first_due.values(), default=None)
        assert await store.next_check_at(recipient) == (None if expected is None else at(expected))
    if first_due:  # settle all, so the next example starts with no check due
        check = await claim_for(store, recipient)
        gone = [
            replace(share(f"{recipient}-{n}", recipient, due=d), status=ShareStatus.EXPIRED)
            for n, d in first_due.items()
        ]
        assert await store.settle_check(check, gone, None)
    assert await store.next_check_at(recipient) is None


# -- outbox --


async def test_outbox_round_trip_order_and_lease(store: Store) -> None:
    rich = Outgoing(
        id="o-rich",
        person_id="bob",
        reply=Reply("Pick one", (QuickReply("Yes", "YES"), QuickReply("No 👎", "NO"))),
        created_at=at(3),
        kind=MessageKind.RESPONSE,
    )
    await store.add_outgoing([rich, note("o-old", minute=1)])
    await store.add_outgoing([note("o-old", minute=9)])  # the same id again: ignored
    claimed = await store.claim_outgoing(at(5), at(6), 10)
    assert claimed == [note("o-old", minute=1), rich]
    assert await store.claim_outgoing(at(5), at(6), 10) == []
    await store.finish_outgoing("o-old")
    assert await store.claim_outgoing(at(6), at(7), 10) == [rich]


async def test_held_messages_wait_for_release(store: Store) -> None:
    await store.add_outgoing([note("a1", "ann", 1), note("b1", "bob", 2), note("a2", "ann", 3)])
    await store.claim_outgoing(at(5), at(6), 10)
    await store.hold_outgoing("a1")
    await store.hold_outgoing("a2")
    assert await outbox_ids(store) == ["b1"]
    assert await store.release_held("bob") == 0
    assert await store.release_held("ann") == 2
    assert await store.release_held("ann") == 0
    assert await outbox_ids(store, 2000) == ["a1", "b1", "a2"]


async def test_concurrent_outbox_claimers_never_share(open_store: OpenStore) -> None:
    first, second = await open_store(), await open_store()
    await first.add_outgoing([note(f"o{i:02}", minute=i) for i in range(12)])
    batches = await asyncio.gather(
        *(store.claim_outgoing(at(99), at(100), 2) for store in [first, second] * 3)
    )
    assert sorted(m.id for b in batches for m in b) == [f"o{i:02}" for i in range(12)]


# -- times --


async def test_times_come_back_in_utc(store: Store) -> None:
    berlin = timezone(timedelta(hours=2))
    local = datetime(2025, 3, 1, 14, 0, 0, 123456, tzinfo=berlin)
    await store.add_share(replace(share("s1"), shared_at=local, next_check_at=local))
    stored = await store.get_share("s1")
    assert stored is not None and stored.shared_at == local
    assert stored.shared_at.utcoffset() == timedelta(0)
    when = await store.next_check_at("bob")
    assert when == local and when.tzinfo is not None and when.utcoffset() == timedelta(0)


async def test_naive_times_are_refused(store: Store) -> None:
    with pytest.raises(ValueError):
        await store.add_share(replace(share("s1"), shared_at=datetime(2025, 1, 1)))
    assert await store.get_share("s1") is None


# -- SQLite only --


def files_bytes(db_path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in db_path.parent.glob(db_path.name + "*"))


async def test_sqlite_keeps_tokens_out_of_the_file(sqlite_path: Path, cipher: TokenCipher) -> None:
    store = SqliteStore(str(sqlite_path), cipher)
    await store.migrate()
    await store.save_person(Person("ann", "Ann", at(0)), grant())
    await store.save_signup_code("CODE", grant("-code"), at(5))
    await store.save_pending_link(PendingLink("st", "VERIFIER-PLAINTEXT-9f", at(5)))
    raw = files_bytes(sqlite_path)  # the WAL holds the fresh writes
    await store.close()
    raw += files_bytes(sqlite_path)  # closing checkpoints them into the file
    for secret in (ACCESS, REFRESH, "VERIFIER-PLAINTEXT-9f"):
        assert secret.encode() not in raw
    assert b"Ann" in raw  # the search above does look at the data


async def test_sqlite_data_survives_reopening(sqlite_path: Path, cipher: TokenCipher) -> None:
    store = SqliteStore(str(sqlite_path), cipher)
    await store.migrate()
    await store.save_person(Person("ann", "Ann", at(0)), grant())
    await store.add_share(share("s1", due=3))
    await store.close()
    store = SqliteStore(str(sqlite_path), TokenCipher("contract-suite-secret-key"))
    await store.migrate()
    await store.ping()
    assert await store.get_grant("ann") == grant()
    assert await store.next_check_at("bob") == at(3)
    await store.close()


async def test_sqlite_wrong_key_is_a_store_error(sqlite_path: Path, cipher: TokenCipher) -> None:
    store = SqliteStore(str(sqlite_path), cipher)
    await store.migrate()
    await store.save_person(Person("ann", "Ann", at(0)), grant())
    await store.close()
    store = SqliteStore(str(sqlite_path), TokenCipher("another key"))
    with pytest.raises(StoreError) as caught:
        await store.get_grant("ann")
    assert "another key" not in str(caught.value) and ACCESS not in str(caught.value)
    await store.close()


async def test_sqlite_migrate_is_idempotent_even_concurrently(
    sqlite_path: Path, cipher: TokenCipher
) -> None:
    stores = [SqliteStore(str(sqlite_path), cipher) for _ in range(3)]
    with pytest.raises(StoreError, match="migrate"):
        await stores[0].ping()
    await asyncio.gather(*(s.migrate() for s in stores))
    await stores[0].add_incoming(message("m1"))
    await stores[1].migrate()
    for store in stores:
        await store.ping()
        await store.close()
    store = SqliteStore(str(sqlite_path), cipher)
    await store.migrate()
    assert await store.add_incoming(message("m1")) is False
    await store.close()


WORKER = """
import asyncio, json, sys
from datetime import datetime, timedelta
from sendsongs.adapters.store_sqlite import SqliteStore
from sendsongs.crypto import TokenCipher
from sendsongs.domain.models import IncomingMessage

async def main(path, name, now):
    store = SqliteStore(path, TokenCipher("worker"))
    await store.migrate()
    for i in range(15):
        await store.add_incoming(IncomingMessage(f"{name}-{i}", "psid", now))
    claimed = []
    while batch := await store.claim_incoming(now, now + timedelta(hours=1), 2):
        claimed += [message.id for message in batch]
    await store.close()
    print(json.dumps(claimed))

asyncio.run(main(sys.argv[1], sys.argv[2], datetime.fromisoformat(sys.argv[3])))
"""


async def test_sqlite_processes_migrate_and_claim_together(sqlite_path: Path) -> None:
    """Separate processes on one new file: one schema, and every message claimed once."""
    names = ["p0", "p1", "p2"]
    workers = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            WORKER,
            str(sqlite_path),
            name,
            T0.isoformat(),
            stdout=asyncio.subprocess.PIPE,
        )
        for name in names
    ]
    outputs = [await worker.communicate() for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0, 0]
    claimed = [mid for out, _ in outputs for mid in json.loads(out)]
    store = SqliteStore(str(sqlite_path), TokenCipher("worker"))
    await store.ping()
    # A worker may finish before another adds its messages; those are still free.
    claimed += [m.id for m in await store.claim_incoming(T0, at(60), 100)]
    await store.close()
    assert sorted(claimed) == sorted(f"{name}-{i}" for name in names for i in range(15))
