"""The store contract for groups, group sends, delivery marks, cancelling and
close names: every backend must behave exactly like this."""

from __future__ import annotations

from dataclasses import replace

import pytest

from sendsongs.domain.models import Address, Group, Person, ShareStatus
from sendsongs.ports import Stores
from tests.contract.conftest import OpenStores
from tests.contract.test_store import at, share


def group(gid: str, name: str = "Band", owner: str = "ann", *members: str) -> Group:
    return Group(id=gid, owner_id=owner, name=name, created_at=at(0), members=members)


async def test_group_round_trip_and_names_unique_per_owner_ignoring_case(
    stores: Stores,
) -> None:
    groups = stores.groups
    assert await groups.create_group(group("g1", "Band", "ann", "bob", "cy"))
    assert await groups.get_group("g1") == group("g1", "Band", "ann", "bob", "cy")
    assert not await groups.create_group(group("g2", "bAND", "ann"))
    assert not await groups.create_group(group("g1", "Other", "zed"))  # id taken
    assert await groups.create_group(group("g3", "band", "zed"))  # another owner's
    assert await groups.get_group("g2") is None
    assert await groups.get_group("nope") is None


async def test_groups_of_lists_owned_and_joined_by_name(stores: Stores) -> None:
    groups = stores.groups
    await groups.create_group(group("g1", "climbers", "ann", "bob"))
    await groups.create_group(group("g2", "Band", "bob"))
    await groups.create_group(group("g3", "Zed's", "zed", "cy"))
    assert [g.id for g in await groups.groups_of("bob")] == ["g2", "g1"]
    assert [g.id for g in await groups.groups_of("ann")] == ["g1"]
    assert await groups.groups_of("nobody") == []


async def test_members_keep_the_order_they_were_added_in(stores: Stores) -> None:
    groups = stores.groups
    await groups.create_group(group("g1"))
    assert await groups.add_member("g1", "cy")
    assert await groups.add_member("g1", "bob")
    assert not await groups.add_member("g1", "cy")  # already in
    assert not await groups.add_member("gone", "cy")
    assert (await groups.get_group("g1")) == group("g1", "Band", "ann", "cy", "bob")
    assert await groups.remove_member("g1", "cy")
    assert not await groups.remove_member("g1", "cy")
    assert await groups.add_member("g1", "cy")  # back, now last
    assert (await groups.get_group("g1")) == group("g1", "Band", "ann", "bob", "cy")


async def test_a_deleted_group_is_gone_with_its_members(open_stores: OpenStores) -> None:
    first, second = await open_stores(), await open_stores()
    await first.groups.create_group(group("g1", "Band", "ann", "bob"))
    await second.groups.delete_group("g1")
    await second.groups.delete_group("g1")  # nothing left: no error
    assert await first.groups.get_group("g1") is None
    assert await first.groups.groups_of("bob") == []
    assert await first.groups.create_group(group("g2", "band", "ann"))  # the name is free


async def test_shares_of_a_group_send_and_their_fields(stores: Stores) -> None:
    shares = stores.shares
    one = replace(share("s1", "bob"), group_send="m1", group_name="Band")
    two = replace(share("s2", "cy", shared=1), group_send="m1", group_name="Band")
    await shares.add_share(two)
    await shares.add_share(one)
    await shares.add_share(share("s3", "dee"))
    assert await shares.shares_of_send("m1") == [one, two]
    assert await shares.shares_of_send("m9") == []
    assert one.send_key == "m1" and share("s3").send_key == "s3"


async def test_the_first_delivery_counts(stores: Stores) -> None:
    shares = stores.shares
    await shares.add_share(share("s1"))
    await shares.mark_delivered("s1", at(1))
    await shares.mark_delivered("s1", at(5))
    await shares.mark_delivered("nope", at(5))
    stored = await shares.get_share("s1")
    assert stored is not None and stored.delivered_at == at(1)


async def test_cancel_stops_a_pending_share_once(stores: Stores) -> None:
    shares = stores.shares
    await shares.add_share(share("s1"))
    await shares.add_share(share("s2"))
    assert await shares.cancel_share("s1", at(3))
    assert not await shares.cancel_share("s1", at(4))
    assert not await shares.cancel_share("nope", at(4))
    cancelled = await shares.get_share("s1")
    assert cancelled is not None
    assert (cancelled.status, cancelled.settled_at) == (ShareStatus.CANCELLED, at(3))
    assert [s.id for s in await shares.pending_shares("bob")] == ["s2"]
    # a check that read it as pending cannot bring it back
    [check] = await shares.claim_due_checks(at(10), at(11), 5)
    heard = replace(share("s1"), status=ShareStatus.LISTENED, settled_at=at(10))
    assert await shares.settle_check(check, [heard], at(20))
    assert (await shares.get_share("s1")) == cancelled


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Bob", ["Bob Jones", "Bob Marley"]),
        ("zoe", ["Zoë Müller"]),
        ("Jnoes", ["Bob Jones"]),
        ("bob jones", ["Bob Jones"]),
        ("Carol", []),
    ],
)
async def test_find_similar_ranks_close_names(
    stores: Stores, typed: str, expected: list[str]
) -> None:
    people = stores.people
    for minute, (pid, name) in enumerate(
        [("p1", "Bob Jones"), ("p2", "Bob Marley"), ("p3", "Zoë Müller"), ("p4", "Robert")]
    ):
        await people.save_person(Person(pid, name, at(minute)), Address("messenger", pid))
    assert [p.name for p in await people.find_similar(typed, 5)] == expected
    assert len(await people.find_similar("Bob", 1)) == 1
