"""The store contract: every backend's roles must behave exactly like this."""

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

from sendsongs.crypto import TokenCipher
from sendsongs.domain.models import (
    Address,
    Choice,
    Connection,
    ConnectionStatus,
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
from sendsongs.ports import LinkedAccount, Stores
from sendsongs.stores.sqlite import open_sqlite
from tests.contract.conftest import SECRET, OpenStores

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
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
VERIFIER = "VERIFIER-PLAINTEXT-9f"
ANN = Address("messenger", "psid-ann")
ANN_TG = Address("telegram", "1001")
BOB = Address("messenger", "psid-bob")
CY = Address("telegram", "2002")


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def message(
    mid: str, minute: float = 0, text: str = "hi", sender: Address = ANN
) -> IncomingMessage:
    return IncomingMessage(id=mid, sender=sender, received_at=at(minute), text=text)


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


def listened(sid: str, minute: float, due: float = 10) -> Share:
    return replace(share(sid, due=due), status=ShareStatus.LISTENED, settled_at=at(minute))


def note(oid: str, to: Address = ANN, minute: float = 0) -> Outgoing:
    return Outgoing(id=oid, address=to, reply=Reply(f"note {oid}"), created_at=at(minute))


def grant(tag: str = "") -> Grant:
    return Grant(ACCESS + tag, REFRESH + tag, at(60), consented_at=at(-5))


def spotify(person: str, account: str | None = None, tag: str = "") -> Connection:
    return Connection(person, "spotify", account or f"acct-{person}", at(0), grant(tag))


async def outbox_ids(stores: Stores, minute: float = 1000) -> list[str]:
    """Claims everything deliverable (as far in the future as asked) and names it."""
    return [m.id for m in await stores.outbox.claim_outgoing(at(minute), at(minute + 1), 100)]


# -- inbox --


async def test_redelivered_message_is_refused(stores: Stores) -> None:
    inbox = stores.inbox
    assert await inbox.add_incoming([]) == 0
    assert await inbox.add_incoming([message("m1")]) == 1
    assert await inbox.add_incoming([message("m1", text="changed")]) == 0
    await inbox.claim_incoming(at(1), at(2), 10)
    await inbox.finish_incoming("m1")
    assert await inbox.add_incoming([message("m1")]) == 0
    # One webhook body: new ones are counted once, known ones dropped.
    batch = [message("m2", 1), message("m1"), message("m3", 2), message("m2", 3, "again")]
    assert await inbox.add_incoming(batch) == 2
    claimed = await inbox.claim_incoming(at(10), at(11), 10)
    assert claimed == [message("m2", 1), message("m3", 2)]


async def test_incoming_claimed_oldest_first_and_round_trips(stores: Stores) -> None:
    full = IncomingMessage(
        id="telegram:m-full",
        sender=Address("telegram", "77"),
        received_at=at(5),
        text='send_song name:"Bob" 🎵',
        payload="HELP",
        attachments=("https://open.spotify.com/track/1", "https://x.test/2"),
        profile_name="Zoë Q",
    )
    await stores.inbox.add_incoming([full])
    await stores.inbox.add_incoming([message("m-old", 1), message("m-mid", 3)])
    claimed = await stores.inbox.claim_incoming(at(10), at(11), 10)
    assert [m.id for m in claimed] == ["m-old", "m-mid", "telegram:m-full"]
    assert claimed[2] == full
    assert claimed[0] == message("m-old", 1)
    assert claimed[2].received_at.tzinfo is not None
    assert claimed[2].received_at.utcoffset() == timedelta(0)


async def test_an_update_stored_unread_round_trips_with_no_sender_id(stores: Stores) -> None:
    update = '{"update_id": 9, "message": {"text": "héllo 🎵", "chat": {"id": 77}}}'
    unread = IncomingMessage("telegram:9", Address.unknown("telegram"), at(5), unread=update)
    assert await stores.inbox.add_incoming([unread, message("m-old", 1)]) == 2
    claimed = await stores.inbox.claim_incoming(at(10), at(11), 10)
    assert claimed == [message("m-old", 1), unread]
    assert claimed[1].sender == Address("telegram", "")
    again = await stores.inbox.claim_message("telegram:9", at(12), at(13))
    assert again == unread
    await stores.inbox.finish_incoming("telegram:9")
    assert await stores.inbox.add_incoming([unread]) == 0  # a redelivery, still dropped
    assert await stores.inbox.claim_message("telegram:9", at(20), at(21)) is None


async def test_incoming_lease_limit_expiry_and_finish(stores: Stores) -> None:
    inbox = stores.inbox
    await inbox.add_incoming([message(f"m{i}", i) for i in range(3)])
    first = await inbox.claim_incoming(at(10), at(15), 2)
    assert [m.id for m in first] == ["m0", "m1"]
    assert [m.id for m in await inbox.claim_incoming(at(11), at(16), 5)] == ["m2"]
    assert await inbox.claim_incoming(at(14), at(20), 5) == []
    await inbox.finish_incoming("m0")
    # m1's worker crashed: its lease runs out and it comes back; m0 never does.
    assert [m.id for m in await inbox.claim_incoming(at(15), at(20), 5)] == ["m1"]
    assert [m.id for m in await inbox.claim_incoming(at(30), at(31), 5)] == ["m1", "m2"]
    assert await inbox.claim_incoming(at(30), at(31), 0) == []


async def test_claimed_incoming_is_not_claimed_again_at_the_same_instant(
    open_stores: OpenStores,
) -> None:
    first, second = await open_stores(), await open_stores()
    await first.inbox.add_incoming([message("m1"), message("m2", 1)])
    assert [m.id for m in await first.inbox.claim_incoming(at(10), at(20), 10)] == ["m1", "m2"]
    assert await second.inbox.claim_incoming(at(10), at(20), 10) == []
    assert await first.inbox.claim_incoming(at(10), at(20), 10) == []
    assert await second.inbox.claim_incoming(at(19), at(30), 10) == []


async def test_concurrent_inbox_claimers_never_share(open_stores: OpenStores) -> None:
    first, second = await open_stores(), await open_stores()
    await first.inbox.add_incoming([message(f"m{i:02}", i / 10) for i in range(30)])
    seen: list[str] = []
    for _ in range(10):
        batches = await asyncio.gather(
            first.inbox.claim_incoming(at(10), at(20), 4),
            second.inbox.claim_incoming(at(10), at(20), 4),
        )
        seen += [m.id for batch in batches for m in batch]
    assert sorted(seen) == [f"m{i:02}" for i in range(30)]  # each exactly once


async def test_one_message_is_claimed_by_id_once(open_stores: OpenStores) -> None:
    first, second = await open_stores(), await open_stores()
    await first.inbox.add_incoming([message("m1", 1), message("m2", 2)])
    assert await first.inbox.claim_message("nope", at(10), at(20)) is None
    assert await first.inbox.claim_message("m2", at(10), at(20)) == message("m2", 2)
    assert await second.inbox.claim_message("m2", at(10), at(20)) is None  # leased
    assert [m.id for m in await second.inbox.claim_incoming(at(10), at(20), 10)] == ["m1"]
    assert await first.inbox.claim_message("m1", at(15), at(30)) is None
    again = await asyncio.gather(
        first.inbox.claim_message("m2", at(20), at(30)),
        second.inbox.claim_message("m2", at(20), at(30)),
    )
    assert again.count(None) == 1  # the lease ran out: exactly one worker takes it
    await first.inbox.finish_incoming("m2")
    assert await second.inbox.claim_message("m2", at(99), at(100)) is None  # handled


# -- people and addresses --


async def test_person_round_trip_and_address(stores: Stores) -> None:
    people = stores.people
    ann = Person("ann", "Ann Lee", at(0))
    await people.save_person(ann, ANN)
    assert await people.get_person("ann") == ann
    assert await people.person_at(ANN) == ann
    assert await people.address_of("ann") == ANN
    assert await people.get_person("nobody") is None
    assert await people.person_at(BOB) is None
    assert await people.person_at(Address("telegram", ANN.id)) is None  # channel matters
    assert await people.address_of("nobody") is None


async def test_saving_a_person_again_renames_and_keeps_the_registration(stores: Stores) -> None:
    people = stores.people
    await people.save_person(Person("ann", "Ann", at(0)), ANN)
    await people.save_person(Person("ann", "Ann Lee", at(3)), ANN)
    assert await people.get_person("ann") == Person("ann", "Ann Lee", at(0))
    assert [p.id for p in await people.find_people("ann lee")] == ["ann"]
    assert await people.find_people("ann") == []
    assert await people.address_of("ann") == ANN


async def test_find_people_ignores_case(stores: Stores) -> None:
    people = stores.people
    await people.save_person(Person("b2", "bob JONES", at(5)), Address("messenger", "b2"))
    await people.save_person(Person("b1", "Bob Jones", at(1)), Address("messenger", "b1"))
    await people.save_person(Person("s", "Johann Strauß", at(2)), Address("messenger", "s"))
    await people.save_person(Person("x", "Bob Jonesy", at(0)), Address("messenger", "x"))
    assert [p.id for p in await people.find_people("BOB jones")] == ["b1", "b2"]
    assert [p.id for p in await people.find_people("JOHANN STRAUSS")] == ["s"]
    assert await people.find_people("Bob") == []


async def test_address_of_is_the_most_recently_seen(stores: Stores) -> None:
    """A person saved at a second address later is reached there; an address saved
    again with an older time does not move back in line."""
    people = stores.people
    await people.save_person(Person("ann", "Ann", at(0)), ANN)
    await people.save_person(Person("ann", "Ann", at(5)), ANN_TG)
    assert await people.person_at(ANN) == Person("ann", "Ann", at(0))
    assert await people.person_at(ANN_TG) == Person("ann", "Ann", at(0))
    assert await people.address_of("ann") == ANN_TG
    await people.save_person(Person("ann", "Ann", at(9)), ANN)
    assert await people.address_of("ann") == ANN
    await people.save_person(Person("ann", "Ann", at(2)), ANN_TG)  # seen at 5 already
    assert await people.address_of("ann") == ANN
    await people.save_person(Person("ann", "Ann", at(12)), ANN_TG)
    assert await people.address_of("ann") == ANN_TG
    await people.save_person(Person("ann", "Ann", at(1)), ANN_TG)  # still seen at 12
    assert await people.address_of("ann") == ANN_TG


async def test_an_address_moves_to_whoever_is_saved_at_it(stores: Stores) -> None:
    people = stores.people
    await people.save_person(Person("ann", "Ann", at(0)), ANN)
    await people.save_person(Person("ann", "Ann", at(0)), ANN_TG)
    await people.save_person(Person("bob", "Bob", at(10)), ANN)
    assert await people.person_at(ANN) == Person("bob", "Bob", at(10))
    assert await people.address_of("bob") == ANN
    assert await people.address_of("ann") == ANN_TG
    assert await people.person_at(ANN_TG) == Person("ann", "Ann", at(0))


# -- connections and grants --


async def test_connection_round_trip_and_grant_rotation(stores: Stores) -> None:
    people = stores.people
    await people.save_person(Person("ann", "Ann", at(0)), ANN)
    await people.save_connection(spotify("ann"))
    assert await people.get_connection("ann") == spotify("ann")
    assert await people.get_connection("nobody") is None
    await people.save_grant("ann", grant("-rotated"))
    assert await people.get_connection("ann") == spotify("ann", tag="-rotated")
    no_consent = replace(grant("-3"), consented_at=None)
    await people.save_grant("ann", no_consent)
    stored = await people.get_connection("ann")
    assert stored is not None and stored.grant == no_consent
    assert stored.grant.consented_at is None
    # A grant belongs to a connection: none is made up for someone without one.
    await people.save_grant("nobody", grant())
    assert await people.get_connection("nobody") is None


async def test_a_connection_without_grant_and_replacing_it(stores: Stores) -> None:
    people = stores.people
    listens = Connection("ann", "listenbrainz", "ann_lb", at(2))
    await people.save_connection(listens)
    assert await people.get_connection("ann") == listens
    assert await people.connection_of_account("listenbrainz", "ann_lb") == listens
    await people.save_connection(spotify("ann"))  # a person has exactly one
    assert await people.get_connection("ann") == spotify("ann")
    assert await people.connection_of_account("listenbrainz", "ann_lb") is None
    assert await people.connection_of_account("spotify", "acct-ann") == spotify("ann")


async def test_connection_of_account(stores: Stores) -> None:
    people = stores.people
    await people.save_connection(spotify("ann"))
    await people.save_connection(spotify("bob"))
    await people.save_connection(Connection("cy", "spotify", None, at(1)))  # no account known
    await people.save_connection(Connection("dee", "spotify", None, at(1)))
    assert await people.connection_of_account("spotify", "acct-ann") == spotify("ann")
    assert await people.connection_of_account("spotify", "acct-bob") == spotify("bob")
    assert await people.connection_of_account("lastfm", "acct-ann") is None
    assert await people.connection_of_account("spotify", "acct-nobody") is None
    assert await people.connection_of_account("spotify", "") is None
    await people.set_connection_status("ann", ConnectionStatus.REVOKED)
    found = await people.connection_of_account("spotify", "acct-ann")
    assert found is not None and found.status is ConnectionStatus.REVOKED


async def test_an_account_is_connected_to_one_person_only(stores: Stores) -> None:
    """Saving someone else's (source, account) is refused; the holder keeps it."""
    people = stores.people
    await people.save_connection(spotify("ann", "shared-acct"))
    with pytest.raises((StoreError, ValueError)):
        await people.save_connection(spotify("bob", "shared-acct", "-bob"))
    assert await people.get_connection("ann") == spotify("ann", "shared-acct")
    assert await people.get_connection("bob") is None
    assert await people.connection_of_account("spotify", "shared-acct") == spotify(
        "ann", "shared-acct"
    )


async def test_connection_status_changes(stores: Stores) -> None:
    people = stores.people
    await people.save_connection(spotify("ann"))
    for status in (ConnectionStatus.REVOKED, ConnectionStatus.REFUSED, ConnectionStatus.OK):
        await people.set_connection_status("ann", status)
        stored = await people.get_connection("ann")
        assert stored == replace(spotify("ann"), status=status)
        assert stored is not None and stored.readable is (status is ConnectionStatus.OK)
    await people.set_connection_status("ann", ConnectionStatus.REVOKED)
    await people.save_grant("ann", grant("-new"))  # a new grant alone does not clear it
    assert await people.get_connection("ann") == replace(
        spotify("ann", tag="-new"), status=ConnectionStatus.REVOKED
    )
    await people.save_connection(spotify("ann", tag="-again"))  # reconnecting does
    assert await people.get_connection("ann") == spotify("ann", tag="-again")
    await people.set_connection_status("nobody", ConnectionStatus.REVOKED)
    assert await people.get_connection("nobody") is None


async def test_grants_to_renew_lists_each_old_readable_consent_until_reminded(
    stores: Stores,
) -> None:
    people = stores.people
    old = replace(spotify("ann"), grant=replace(grant(), consented_at=at(-100)))
    older = replace(spotify("bob"), grant=replace(grant("-b"), consented_at=at(-200)))
    fresh = spotify("cy")  # consented at(-5)
    revoked = replace(spotify("dee"), grant=replace(grant("-d"), consented_at=at(-300)))
    for connection in (old, older, fresh, revoked):
        await people.save_connection(connection)
    await people.set_connection_status("dee", ConnectionStatus.REVOKED)
    await people.save_connection(Connection("eve", "listenbrainz", "eve", at(-500)))
    due = await people.grants_to_renew("spotify", at(-50), 10)
    assert [c.person_id for c in due] == ["bob", "ann"]  # oldest consent first
    assert [c.person_id for c in await people.grants_to_renew("spotify", at(-50), 1)] == ["bob"]
    await people.mark_reminded("bob", at(1))
    stored = await people.get_connection("bob")
    assert stored is not None and stored.reminded_at == at(1)
    assert [c.person_id for c in await people.grants_to_renew("spotify", at(-50), 10)] == ["ann"]
    await people.save_grant("bob", grant("-refreshed"))  # a refresh does not restart it
    assert [c.person_id for c in await people.grants_to_renew("spotify", at(-50), 10)] == ["ann"]
    await people.save_connection(older)  # connecting again does
    assert [c.person_id for c in await people.grants_to_renew("spotify", at(-50), 10)] == [
        "bob",
        "ann",
    ]


# -- single-use secrets --


async def test_pending_link_is_single_use(stores: Stores) -> None:
    secrets = stores.secrets
    link = PendingLink("state-1", "verifier-xyz", at(10), address=ANN, name="Ann")
    await secrets.save_pending_link(link)
    await secrets.save_pending_link(PendingLink("state-2", "v2", at(10)))
    assert await secrets.take_pending_link("state-1", at(9)) == link
    assert await secrets.take_pending_link("state-1", at(9)) is None
    assert await secrets.take_pending_link("unknown", at(9)) is None
    assert await secrets.take_pending_link("state-2", at(9)) == PendingLink("state-2", "v2", at(10))


async def test_expired_pending_link_is_refused(stores: Stores) -> None:
    await stores.secrets.save_pending_link(PendingLink("s", "v", at(10)))
    assert await stores.secrets.take_pending_link("s", at(10)) is None
    assert await stores.secrets.take_pending_link("s", at(0)) is None  # and it is gone


async def test_signup_code_is_single_use_and_expires(stores: Stores) -> None:
    secrets = stores.secrets
    with_grant = LinkedAccount("acct-1", grant())
    bare = LinkedAccount(None, None)
    await secrets.save_signup_code("ABC123", with_grant, at(10))
    await secrets.save_signup_code("NOGRANT", bare, at(10))
    await secrets.save_signup_code("OLD999", LinkedAccount("acct-2", grant("-old")), at(10))
    assert await secrets.take_signup_code("ABC123", at(9)) == with_grant
    assert await secrets.take_signup_code("ABC123", at(9)) is None
    assert await secrets.take_signup_code("NOGRANT", at(9)) == bare
    assert await secrets.take_signup_code("NOGRANT", at(9)) is None
    assert await secrets.take_signup_code("OLD999", at(10)) is None
    assert await secrets.take_signup_code("OLD999", at(1)) is None


async def test_choice_is_single_use_and_expires(stores: Stores) -> None:
    secrets = stores.secrets
    choice = Choice("tok-1", BOB, json.dumps({"send": "s1", "to": "cy"}), at(10))
    await secrets.save_choice(choice)
    await secrets.save_choice(Choice("tok-old", BOB, "{}", at(10)))
    assert await secrets.take_choice("tok-1", at(9)) == choice
    assert await secrets.take_choice("tok-1", at(9)) is None
    assert await secrets.take_choice("unknown", at(9)) is None
    assert await secrets.take_choice("tok-old", at(10)) is None
    assert await secrets.take_choice("tok-old", at(1)) is None


async def test_racing_takers_get_a_secret_once(open_stores: OpenStores) -> None:
    first, second = await open_stores(), await open_stores()
    await first.secrets.save_pending_link(PendingLink("st", "v", at(10)))
    await first.secrets.save_signup_code("CODE", LinkedAccount("a", grant()), at(10))
    await first.secrets.save_choice(Choice("tok", BOB, "{}", at(10)))
    links = await asyncio.gather(
        *(s.secrets.take_pending_link("st", at(1)) for s in [first, second] * 2)
    )
    codes = await asyncio.gather(
        *(s.secrets.take_signup_code("CODE", at(1)) for s in [first, second] * 2)
    )
    choices = await asyncio.gather(
        *(s.secrets.take_choice("tok", at(1)) for s in [first, second] * 2)
    )
    for taken in (links, codes, choices):
        assert len([t for t in taken if t is not None]) == 1


async def test_purge_drops_only_old_handled_messages_and_dead_secrets(stores: Stores) -> None:
    inbox, secrets = stores.inbox, stores.secrets
    await inbox.add_incoming(
        [message(m, minute) for m, minute in (("old-done", 0), ("old-open", 0))]
    )
    await inbox.add_incoming([message("new-done", 50)])
    await inbox.claim_incoming(at(60), at(61), 10)
    await inbox.finish_incoming("old-done")
    await inbox.finish_incoming("new-done")
    await secrets.save_pending_link(PendingLink("dead", "v", at(5)))
    await secrets.save_pending_link(PendingLink("live", "v", at(30)))
    await secrets.save_signup_code("DEAD", LinkedAccount("a", grant()), at(5))
    await secrets.save_signup_code("LIVE", LinkedAccount("a", grant()), at(30))
    await secrets.save_choice(Choice("dead", BOB, "{}", at(5)))
    await secrets.save_choice(Choice("live", BOB, "{}", at(30)))
    assert await stores.admin.purge(handled_before=at(10), now=at(20)) is None
    assert await inbox.add_incoming([message("old-done")]) == 1  # forgotten
    assert await inbox.add_incoming([message("old-open")]) == 0  # unhandled: kept
    assert await inbox.add_incoming([message("new-done", 50)]) == 0  # recent: kept
    assert await secrets.take_pending_link("live", at(20)) is not None
    assert await secrets.take_signup_code("LIVE", at(20)) == LinkedAccount("a", grant())
    assert await secrets.take_choice("live", at(20)) == Choice("live", BOB, "{}", at(30))
    await stores.admin.purge(handled_before=at(10), now=at(20))  # nothing left: fine


# -- pauses --


async def test_pauses_keep_the_latest_per_source_across_handles(open_stores: OpenStores) -> None:
    first, second = await open_stores(), await open_stores()
    assert await first.pauses.paused_until("spotify") is None
    await first.pauses.pause("spotify", at(10))
    assert await second.pauses.paused_until("spotify") == at(10)
    await second.pauses.pause("spotify", at(5))  # an earlier pause does not shorten it
    assert await first.pauses.paused_until("spotify") == at(10)
    await second.pauses.pause("spotify", at(20))
    assert await first.pauses.paused_until("spotify") == at(20)
    assert await first.pauses.paused_until("lastfm") is None  # per source
    await first.pauses.pause("lastfm", at(1))
    assert await second.pauses.paused_until("lastfm") == at(1)
    assert await second.pauses.paused_until("spotify") == at(20)
    until = await second.pauses.paused_until("spotify")
    assert until is not None and until.utcoffset() == timedelta(0)


# -- shares and checks --


async def test_share_round_trips_and_lists(stores: Stores) -> None:
    shares = stores.shares
    bare = replace(share("s0", shared=0), pre=None, post=None, track=replace(SONG, isrc=None))
    await shares.add_share(bare)
    await shares.add_share(share("s1", shared=1))
    await shares.add_share(share("s2", shared=2, recipient="cy"))
    await shares.add_share(share("s3", shared=3, sender="zed"))
    assert await shares.get_share("s0") == bare
    assert await shares.get_share("s1") == share("s1", shared=1)
    assert await shares.get_share("nope") is None
    assert [s.id for s in await shares.pending_shares("bob")] == ["s0", "s1", "s3"]
    assert [s.id for s in await shares.shares_sent_by("ann", 2)] == ["s2", "s1"]
    assert [s.id for s in await shares.shares_sent_by("ann", 10)] == ["s2", "s1", "s0"]
    assert await shares.shares_sent_by("ann", 0) == []


async def test_next_check_is_the_earliest_share(stores: Stores) -> None:
    shares = stores.shares
    assert await shares.next_check_at("bob") is None
    await shares.add_share(share("s1", due=30))
    assert await shares.next_check_at("bob") == at(30)
    await shares.add_share(share("s2", due=10))
    assert await shares.next_check_at("bob") == at(10)
    await shares.add_share(share("s3", due=50))
    assert await shares.next_check_at("bob") == at(10)


async def test_readding_a_share_changes_nothing(stores: Stores) -> None:
    shares = stores.shares
    await shares.add_share(share("s1", due=30))
    await shares.add_share(share("s1", due=5, shared=-10))
    assert await shares.get_share("s1") == share("s1", due=30)
    assert await shares.next_check_at("bob") == at(30)
    assert len(await shares.pending_shares("bob")) == 1


async def test_a_share_added_settled_schedules_no_check(stores: Stores) -> None:
    await stores.shares.add_share(listened("s1", 1))
    assert await stores.shares.get_share("s1") == listened("s1", 1)
    assert await stores.shares.next_check_at("bob") is None
    assert await stores.shares.pending_shares("bob") == []


async def test_due_checks_are_claimed_earliest_first_under_a_lease(stores: Stores) -> None:
    shares = stores.shares
    await shares.add_share(share("s1", recipient="late", due=9))
    await shares.add_share(share("s2", recipient="early", due=2))
    await shares.add_share(share("s3", recipient="future", due=60))
    claimed = await shares.claim_due_checks(at(10), at(15), 10)
    assert [c.recipient_id for c in claimed] == ["early", "late"]
    assert claimed[0].claim != claimed[1].claim
    assert await shares.next_check_at("early") == at(15)
    assert await shares.claim_due_checks(at(14), at(20), 10) == []
    assert await shares.claim_due_checks(at(10), at(15), 0) == []
    assert [c.recipient_id for c in await shares.claim_due_checks(at(10), at(15), 1)] == []
    later = await shares.claim_due_checks(at(60), at(61), 10)  # leases ran out meanwhile
    assert [c.recipient_id for c in later] == ["early", "late", "future"]


async def test_a_claimed_check_is_not_claimed_again_at_the_same_instant(
    open_stores: OpenStores,
) -> None:
    first, second = await open_stores(), await open_stores()
    await first.shares.add_share(share("s1", due=1))
    [check] = await first.shares.claim_due_checks(at(5), at(10), 10)
    assert check.recipient_id == "bob"
    assert await second.shares.claim_due_checks(at(5), at(10), 10) == []
    assert await first.shares.claim_due_checks(at(5), at(10), 10) == []
    assert await second.shares.claim_due_checks(at(9), at(10), 10) == []
    assert await first.shares.next_check_at("bob") == at(10)


async def test_a_crashed_workers_claim_comes_due_again(stores: Stores) -> None:
    shares = stores.shares
    await shares.add_share(share("s1", due=0))
    [lost] = await shares.claim_due_checks(at(1), at(2), 10)
    [again] = await shares.claim_due_checks(at(2), at(3), 10)
    assert again.claim != lost.claim and again.version == lost.version
    done = listened("s1", 2, due=0)
    # The first worker wakes up late: it must not overwrite anything.
    assert not await shares.settle_check(lost, [done], at(1), [note("n1")])
    assert await shares.get_share("s1") == share("s1", due=0)
    assert await outbox_ids(stores) == []
    assert await shares.next_check_at("bob") == at(3)
    assert await shares.settle_check(again, [done], None, [note("n1")])
    assert not await shares.settle_check(again, [done], None, [note("n2")])  # spent
    assert await outbox_ids(stores) == ["n1"]
    assert await shares.next_check_at("bob") is None


async def test_a_spent_claim_settles_nothing_even_while_its_check_remains(
    stores: Stores,
) -> None:
    """Pending shares keep the check row; the claim must be spent all the same."""
    shares = stores.shares
    await shares.add_share(share("s1", due=1))
    await shares.add_share(share("s2", due=2))
    [check] = await shares.claim_due_checks(at(5), at(6), 10)
    assert await shares.settle_check(check, [listened("s1", 5, due=1)], at(30), [note("n1")])
    assert await shares.next_check_at("bob") == at(30)
    late = [listened("s2", 7, due=2)]
    assert not await shares.settle_check(check, late, at(99), [note("n2")])
    assert await shares.get_share("s2") == share("s2", due=2)
    assert await shares.next_check_at("bob") == at(30)
    assert await outbox_ids(stores) == ["n1"]
    assert await shares.claim_due_checks(at(29), at(40), 10) == []
    [fresh] = await shares.claim_due_checks(at(30), at(40), 10)
    assert fresh.claim != check.claim


async def test_settle_writes_the_given_next_check(stores: Stores) -> None:
    shares = stores.shares
    await shares.add_share(share("s1", due=1))
    await shares.add_share(share("s2", due=2))
    await shares.add_share(share("s3", due=40))
    [check] = await shares.claim_due_checks(at(5), at(6), 10)
    updated = [
        replace(share("s1"), next_check_at=at(20)),
        replace(share("s2"), status=ShareStatus.LISTENED, settled_at=at(5)),
    ]
    assert await shares.settle_check(check, updated, at(25), [note("n1", ANN)])
    assert await shares.next_check_at("bob") == at(25)  # the worker's word, as given
    assert [s.id for s in await shares.pending_shares("bob")] == ["s1", "s3"]
    assert await shares.get_share("s1") == share("s1", due=20)
    assert await shares.get_share("s2") == updated[1]
    assert await outbox_ids(stores) == ["n1"]
    assert await shares.claim_due_checks(at(24), at(26), 10) == []
    [check] = await shares.claim_due_checks(at(25), at(26), 10)
    assert await shares.settle_check(check, [replace(share("s1"), next_check_at=at(50))], at(40))
    assert await shares.next_check_at("bob") == at(40)


async def test_settle_changes_only_where_a_share_stands(stores: Stores) -> None:
    shares = stores.shares
    await shares.add_share(share("s1", due=1))
    [check] = await shares.claim_due_checks(at(5), at(6), 10)
    edited = replace(share("s1"), pre="edited", next_check_at=at(9), sender_id="mallory")
    with pytest.raises(ValueError):
        await shares.settle_check(check, [replace(edited, recipient_id="cy")], at(9))
    assert await shares.settle_check(check, [edited, share("unknown", due=2)], at(9))
    assert await shares.get_share("s1") == share("s1", due=9)
    assert await shares.get_share("unknown") is None
    assert await shares.next_check_at("bob") == at(9)


async def test_settle_leaves_a_settled_share_alone(stores: Stores) -> None:
    shares = stores.shares
    await shares.add_share(share("s1", due=1))
    await shares.add_share(share("s2", due=2))
    [check] = await shares.claim_due_checks(at(5), at(6), 10)
    assert await shares.settle_check(check, [listened("s1", 5, due=1)], at(10))
    [check] = await shares.claim_due_checks(at(10), at(11), 10)
    expired = replace(share("s1", due=1), status=ShareStatus.EXPIRED, settled_at=at(10))
    back = replace(share("s1", due=1), next_check_at=at(15))  # a stale "still pending"
    assert await shares.settle_check(check, [expired, back, share("s2", due=20)], at(20))
    assert await shares.get_share("s1") == listened("s1", 5, due=1)
    assert await shares.get_share("s2") == share("s2", due=20)
    assert [s.id for s in await shares.pending_shares("bob")] == ["s2"]


async def test_a_share_expired_unread_remembers_it(stores: Stores) -> None:
    shares = stores.shares
    await shares.add_share(share("s1", due=1))
    await shares.add_share(share("s2", due=1))
    [check] = await shares.claim_due_checks(at(5), at(6), 10)
    ended = replace(share("s1", due=1), status=ShareStatus.EXPIRED, settled_at=at(5))
    unread = replace(ended, unread=True)
    plain = replace(share("s2", due=1), status=ShareStatus.EXPIRED, settled_at=at(5))
    assert await shares.settle_check(check, [unread, plain], None)
    assert await shares.get_share("s1") == unread
    assert await shares.get_share("s2") == plain


async def test_check_is_removed_when_nothing_is_pending(stores: Stores) -> None:
    shares = stores.shares
    await shares.add_share(share("s1", due=1))
    [check] = await shares.claim_due_checks(at(5), at(6), 10)
    expired = replace(share("s1", due=1), status=ShareStatus.EXPIRED, settled_at=at(5))
    assert await shares.settle_check(check, [expired], None)
    assert await shares.next_check_at("bob") is None
    assert await shares.claim_due_checks(at(100), at(101), 10) == []
    await shares.add_share(share("s2", shared=50, due=60))  # a fresh check
    assert await shares.next_check_at("bob") == at(60)
    [check] = await shares.claim_due_checks(at(60), at(61), 10)
    assert check.recipient_id == "bob"


async def test_share_added_during_a_claim_is_kept_pending(stores: Stores) -> None:
    """The race the check versions exist for: a worker settles from the shares it
    read, while a new share for the same recipient arrives."""
    shares = stores.shares
    await shares.add_share(share("s1", due=1))
    [check] = await shares.claim_due_checks(at(5), at(10), 10)
    await shares.add_share(share("s2", shared=6, due=7))
    assert await shares.next_check_at("bob") == at(10)  # the lease still guards it
    assert await shares.claim_due_checks(at(8), at(20), 10) == []
    # The worker saw only s1, found it played, and thinks nothing is left.
    assert await shares.settle_check(check, [listened("s1", 8, due=1)], None)
    assert [s.id for s in await shares.pending_shares("bob")] == ["s2"]
    assert await shares.get_share("s2") == share("s2", shared=6, due=7)
    due = await shares.next_check_at("bob")
    assert due is not None and due <= at(7)
    [again] = await shares.claim_due_checks(at(7), at(20), 10)
    assert again.recipient_id == "bob" and again.version != check.version


@pytest.mark.parametrize(
    ("given_due", "expected"),
    [(None, 30), (100, 30), (20, 20)],
    ids=["none-given", "given-later", "given-earlier"],
)
async def test_settle_after_a_share_was_added_honours_both_next_checks(
    stores: Stores, given_due: float | None, expected: float
) -> None:
    shares = stores.shares
    await shares.add_share(share("s1", due=1))
    await shares.add_share(share("s0", due=50))
    [check] = await shares.claim_due_checks(at(5), at(10), 10)
    await shares.add_share(share("s2", shared=6, due=30))
    given = None if given_due is None else at(given_due)
    assert await shares.settle_check(check, [listened("s1", 7, due=1)], given)
    assert await shares.next_check_at("bob") == at(expected)
    assert [s.id for s in await shares.pending_shares("bob")] == ["s0", "s2"]


async def test_concurrent_check_claimers_never_share(open_stores: OpenStores) -> None:
    first, second = await open_stores(), await open_stores()
    for i in range(20):
        await first.shares.add_share(share(f"s{i}", recipient=f"r{i:02}", due=i / 10))
    results = await asyncio.gather(
        *(s.shares.claim_due_checks(at(5), at(10), 3) for s in [first, second] * 5)
    )
    claimed = [c.recipient_id for batch in results for c in batch]
    assert sorted(claimed) == [f"r{i:02}" for i in range(20)]


async def claim_for(stores: Stores, recipient: str) -> RecipientCheck:
    """Claims the recipient's check; others' (left by failed examples) stay leased."""
    claimed = await stores.shares.claim_due_checks(at(1000), at(1001), 1000)
    [check] = [c for c in claimed if c.recipient_id == recipient]
    return check


ACTIONS = st.sampled_from(["add", "settle", "settle-while-adding"])


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(steps=st.lists(st.tuples(st.integers(0, 5), st.integers(-100, 100), ACTIONS), max_size=12))
async def test_any_share_sequence_keeps_next_check_at_the_earliest_pending(
    stores: Stores, steps: list[tuple[int, int, str]]
) -> None:
    """(share number, due minute, action) steps; repeated numbers re-add an id. A
    settle marks the lowest-numbered pending share listened and passes the earliest
    due of the others the worker knew of; "settle-while-adding" adds the step's share
    between the claim and the settle."""
    shares = stores.shares
    recipient = uuid.uuid4().hex  # one store serves every example
    pending: dict[int, int] = {}  # pending share number -> its due minute
    added: set[int] = set()

    async def add(number: int, due: int) -> None:
        await shares.add_share(share(f"{recipient}-{number}", recipient, due=due))
        if number not in added:  # a settled id re-added stays settled
            added.add(number)
            pending[number] = due

    for number, due, action in steps:
        if action == "add" or not pending:
            await add(number, due)
        else:
            check = await claim_for(stores, recipient)
            done = min(pending)
            known = [d for n, d in pending.items() if n != done]
            if action == "settle-while-adding":
                await add(number, due)
            settled = replace(
                share(f"{recipient}-{done}", recipient, due=pending.pop(done)),
                status=ShareStatus.LISTENED,
                settled_at=at(1000),
            )
            given = at(min(known)) if known else None
            assert await shares.settle_check(check, [settled], given)
        expected = min(pending.values(), default=None)
        assert await shares.next_check_at(recipient) == (None if expected is None else at(expected))
    if pending:  # settle all, so the next example starts with no check due
        check = await claim_for(stores, recipient)
        gone = [
            replace(share(f"{recipient}-{n}", recipient, due=d), status=ShareStatus.EXPIRED)
            for n, d in pending.items()
        ]
        assert await shares.settle_check(check, gone, None)
    assert await shares.next_check_at(recipient) is None


# -- outbox --


async def test_outbox_round_trip_order_and_lease(stores: Stores) -> None:
    outbox = stores.outbox
    rich = Outgoing(
        id="o-rich",
        address=Address("telegram", "555"),
        reply=Reply("Pick one", (QuickReply("Yes", "YES"), QuickReply("No 👎", "NO"))),
        created_at=at(3),
        kind=MessageKind.RESPONSE,
    )
    await outbox.add_outgoing([rich, note("o-old", minute=1)])
    await outbox.add_outgoing([note("o-old", BOB, minute=9)])  # the same id again: ignored
    claimed = await outbox.claim_outgoing(at(5), at(6), 10)
    assert claimed == [note("o-old", minute=1), rich]
    assert await outbox.claim_outgoing(at(5), at(6), 10) == []
    await outbox.finish_outgoing("o-old")
    assert await outbox.claim_outgoing(at(6), at(7), 10) == [rich]
    assert await outbox.claim_outgoing(at(8), at(9), 0) == []


async def test_settle_notifications_reach_the_outbox(stores: Stores) -> None:
    await stores.shares.add_share(share("s1", due=1))
    [check] = await stores.shares.claim_due_checks(at(5), at(6), 10)
    notes = [note("n-ann", ANN, 5), note("n-bob", BOB, 5)]
    assert await stores.shares.settle_check(check, [listened("s1", 5, due=1)], None, notes)
    assert await stores.outbox.claim_outgoing(at(5), at(6), 10) == notes


async def test_held_messages_wait_for_release(stores: Stores) -> None:
    outbox = stores.outbox
    await outbox.add_outgoing([note("a1", ANN, 1), note("b1", BOB, 2), note("a2", ANN, 3)])
    await outbox.add_outgoing([note("t1", ANN_TG, 4)])
    await outbox.claim_outgoing(at(5), at(6), 10)
    await outbox.hold_outgoing("a1")
    await outbox.hold_outgoing("a2")
    await outbox.hold_outgoing("t1")
    assert await outbox_ids(stores) == ["b1"]
    assert await outbox.release_held(BOB) == 0
    assert await outbox.release_held(ANN) == 2  # by address: not Ann's telegram one
    assert await outbox.release_held(ANN) == 0
    assert await outbox_ids(stores, 2000) == ["a1", "b1", "a2"]
    assert await outbox.release_held(ANN_TG) == 1
    assert await outbox_ids(stores, 3000) == ["a1", "b1", "a2", "t1"]


async def test_retried_messages_wait_until_not_before(stores: Stores) -> None:
    outbox = stores.outbox
    await outbox.add_outgoing([note("o1", ANN, 1), note("o2", BOB, 2)])
    assert len(await outbox.claim_outgoing(at(5), at(30), 10)) == 2
    await outbox.retry_outgoing("o1", at(10))  # ends the lease, sets a wait
    await outbox.retry_outgoing("o2", at(5))
    assert [m.id for m in await outbox.claim_outgoing(at(6), at(60), 10)] == ["o2"]
    assert await outbox.claim_outgoing(at(9), at(11), 10) == []
    assert [m.id for m in await outbox.claim_outgoing(at(10), at(11), 10)] == ["o1"]
    assert await outbox.claim_outgoing(at(10), at(11), 10) == []
    # A held message released when its person writes again goes at once.
    await outbox.retry_outgoing("o1", at(500))
    await outbox.hold_outgoing("o1")
    assert await outbox.release_held(ANN) == 1
    assert [m.id for m in await outbox.claim_outgoing(at(12), at(13), 10)] == ["o1"]


async def test_concurrent_outbox_claimers_never_share(open_stores: OpenStores) -> None:
    first, second = await open_stores(), await open_stores()
    await first.outbox.add_outgoing([note(f"o{i:02}", minute=i) for i in range(12)])
    batches = await asyncio.gather(
        *(s.outbox.claim_outgoing(at(99), at(100), 2) for s in [first, second] * 3)
    )
    assert sorted(m.id for b in batches for m in b) == [f"o{i:02}" for i in range(12)]


# -- times --


async def test_times_come_back_in_utc(stores: Stores) -> None:
    berlin = timezone(timedelta(hours=2))
    local = datetime(2025, 3, 1, 14, 0, 0, 123456, tzinfo=berlin)
    await stores.shares.add_share(replace(share("s1"), shared_at=local, next_check_at=local))
    stored = await stores.shares.get_share("s1")
    assert stored is not None and stored.shared_at == local
    assert stored.shared_at.utcoffset() == timedelta(0)
    when = await stores.shares.next_check_at("bob")
    assert when == local and when.tzinfo is not None and when.utcoffset() == timedelta(0)
    await stores.people.save_connection(replace(spotify("ann"), connected_at=local))
    connection = await stores.people.get_connection("ann")
    assert connection is not None and connection.connected_at.utcoffset() == timedelta(0)


async def test_naive_times_are_refused(stores: Stores) -> None:
    with pytest.raises(ValueError):
        await stores.shares.add_share(replace(share("s1"), shared_at=datetime(2025, 1, 1)))
    assert await stores.shares.get_share("s1") is None


async def test_a_refused_step_writes_nothing(stores: Stores) -> None:
    """Each call is one step: a bad item (here a naive time) refuses all of it."""
    naive = datetime(2025, 1, 1)
    with pytest.raises(ValueError):
        await stores.inbox.add_incoming([message("m1"), replace(message("m2"), received_at=naive)])
    assert await stores.inbox.add_incoming([message("m1")]) == 1
    with pytest.raises(ValueError):
        await stores.outbox.add_outgoing([note("o1"), replace(note("o2"), created_at=naive)])
    assert await outbox_ids(stores) == []
    await stores.shares.add_share(share("s1", due=1))
    await stores.shares.add_share(share("s2", due=2))
    [check] = await stores.shares.claim_due_checks(at(5), at(6), 10)
    bad = replace(listened("s2", 5, due=2), settled_at=naive)
    with pytest.raises(ValueError):
        await stores.shares.settle_check(check, [listened("s1", 5, due=1), bad], None, [note("n")])
    assert [s.id for s in await stores.shares.pending_shares("bob")] == ["s1", "s2"]
    assert await outbox_ids(stores) == []
    assert await stores.shares.next_check_at("bob") == at(6)
    # The claim was not spent by the refused settle.
    assert await stores.shares.settle_check(check, [listened("s1", 5, due=1)], at(2))


# -- SQLite only --


def files_bytes(db_path: Path) -> bytes:
    return b"".join(p.read_bytes() for p in db_path.parent.glob(db_path.name + "*"))


async def test_sqlite_keeps_tokens_out_of_the_file(sqlite_path: Path, cipher: TokenCipher) -> None:
    stores = open_sqlite(str(sqlite_path), cipher)
    await stores.admin.migrate()
    await stores.people.save_person(Person("ann", "Ann", at(0)), ANN)
    await stores.people.save_connection(spotify("ann", "acct-VISIBLE"))
    await stores.people.save_grant("ann", grant("-rotated"))
    await stores.secrets.save_signup_code("CODE", LinkedAccount("a", grant("-code")), at(5))
    await stores.secrets.save_pending_link(PendingLink("st", VERIFIER, at(5)))
    raw = files_bytes(sqlite_path)  # the WAL holds the fresh writes
    await stores.admin.close()
    raw += files_bytes(sqlite_path)  # closing checkpoints them into the file
    for secret in (ACCESS, REFRESH, VERIFIER):
        assert secret.encode() not in raw
    assert b"Ann" in raw and b"acct-VISIBLE" in raw  # the search does look at the data


async def test_sqlite_data_survives_reopening(sqlite_path: Path, cipher: TokenCipher) -> None:
    stores = open_sqlite(str(sqlite_path), cipher)
    await stores.admin.migrate()
    await stores.people.save_person(Person("ann", "Ann", at(0)), ANN)
    await stores.people.save_connection(spotify("ann"))
    await stores.shares.add_share(share("s1", due=3))
    await stores.pauses.pause("spotify", at(7))
    await stores.admin.close()
    stores = open_sqlite(str(sqlite_path), TokenCipher(SECRET))
    await stores.admin.migrate()
    await stores.admin.ping()
    assert await stores.people.get_connection("ann") == spotify("ann")
    assert await stores.people.person_at(ANN) == Person("ann", "Ann", at(0))
    assert await stores.shares.next_check_at("bob") == at(3)
    assert await stores.pauses.paused_until("spotify") == at(7)
    await stores.admin.close()


async def test_sqlite_wrong_key_is_a_store_error(sqlite_path: Path, cipher: TokenCipher) -> None:
    stores = open_sqlite(str(sqlite_path), cipher)
    await stores.admin.migrate()
    await stores.people.save_connection(spotify("ann"))
    await stores.admin.close()
    stores = open_sqlite(str(sqlite_path), TokenCipher("another key"))
    with pytest.raises(StoreError) as caught:
        await stores.people.get_connection("ann")
    assert "another key" not in str(caught.value) and ACCESS not in str(caught.value)
    await stores.admin.close()


async def test_sqlite_migrate_is_idempotent_even_concurrently(
    sqlite_path: Path, cipher: TokenCipher
) -> None:
    handles = [open_sqlite(str(sqlite_path), cipher) for _ in range(3)]
    with pytest.raises(StoreError, match="migrate"):
        await handles[0].admin.ping()
    await asyncio.gather(*(s.admin.migrate() for s in handles))
    await handles[0].inbox.add_incoming([message("m1")])
    await handles[1].admin.migrate()
    for stores in handles:
        await stores.admin.ping()
        await stores.admin.close()
    stores = open_sqlite(str(sqlite_path), cipher)
    await stores.admin.migrate()
    assert await stores.inbox.add_incoming([message("m1")]) == 0
    await stores.admin.close()


WORKER = """
import asyncio, json, sys
from datetime import datetime, timedelta
from sendsongs.crypto import TokenCipher
from sendsongs.domain.models import Address, IncomingMessage
from sendsongs.stores.sqlite import open_sqlite

async def main(path, name, now):
    stores = open_sqlite(path, TokenCipher("worker"))
    await stores.admin.migrate()
    sender = Address("messenger", "psid")
    for i in range(15):
        await stores.inbox.add_incoming([IncomingMessage(f"{name}-{i}", sender, now)])
    claimed = []
    while batch := await stores.inbox.claim_incoming(now, now + timedelta(hours=1), 2):
        claimed += [message.id for message in batch]
    await stores.admin.close()
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
    stores = open_sqlite(str(sqlite_path), TokenCipher("worker"))
    await stores.admin.ping()
    # A worker may finish before another adds its messages; those are still free.
    claimed += [m.id for m in await stores.inbox.claim_incoming(T0, at(60), 100)]
    await stores.admin.close()
    assert sorted(claimed) == sorted(f"{name}-{i}" for name in names for i in range(15))


async def test_held_messages_older_than_a_limit_are_dropped_and_returned(stores: Stores) -> None:
    outbox = stores.outbox
    old = Outgoing("old", BOB, Reply("a song"), at(0), on_behalf_of=ANN)
    new = Outgoing("new", BOB, Reply("later"), at(10))
    ready = Outgoing("ready", BOB, Reply("not held"), at(0))
    await outbox.add_outgoing([old, new, ready])
    await outbox.hold_outgoing("old")
    await outbox.hold_outgoing("new")
    assert await outbox.drop_held(at(5)) == [old]
    assert await outbox.drop_held(at(5)) == []
    assert await outbox.release_held(BOB) == 1  # only "new" was still held
    assert sorted(await outbox_ids(stores)) == ["new", "ready"]
