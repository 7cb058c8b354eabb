"""`forget me` and erasure requests: what a person, their friends and the bot see."""

from __future__ import annotations

from datetime import timedelta

import pytest

from sendsongs.domain.models import Address, Outgoing, Reply
from sendsongs.service.forgetting import CONFIRM_VALID
from tests.service.conftest import World, at

ALICE, BOB, CAROL = "psid-alice", "psid-bob", "psid-carol"
SONG = "46X0dXeliHXD73sxexJx7d"
LINK = f"https://open.spotify.com/track/{SONG}"


@pytest.fixture
async def friends(world: World) -> World:
    """Alice and Carol each sent Bob a song still pending; Bob sent Alice one."""
    for psid, name in ((ALICE, "Alice Liddell"), (BOB, "Bob Jones"), (CAROL, "Carol King")):
        await world.register(psid, name)
    await world.say(ALICE, f'send_song name:"Bob Jones" {LINK}')
    world.clock.advance(60)
    await world.say(CAROL, f'send_song name:"Bob Jones" {LINK}')
    await world.say(BOB, f'send_song name:"Alice Liddell" {LINK}')
    return world


async def ask(world: World, psid: str = BOB) -> Reply:
    await world.say(psid, "forget me")
    return world.chat.last(psid)


async def test_forget_me_asks_once_with_a_button_and_erases_nothing_yet(friends: World) -> None:
    question = await ask(friends)
    assert "erases everything I hold about you" in question.text
    assert "Send yes within 10 minutes" in question.text
    [button] = question.quick_replies
    assert button.title == "Yes, forget me" and button.payload.startswith("c:")
    assert len(button.payload.encode()) <= 64  # a short server-side token
    assert await friends.store.get_person(BOB) is not None
    assert len(await friends.store.pending_shares(BOB)) == 2


async def test_yes_erases_the_person_and_everything_tied_to_them(friends: World) -> None:
    bob_id = await friends.store.id_of(BOB)
    held = Outgoing("held-1", at(BOB), Reply("a note that waited"), friends.clock.now())
    await friends.memory.add_outgoing([held])
    await friends.memory.hold_outgoing("held-1")
    await ask(friends)
    await friends.say(BOB, "yes")
    assert friends.chat.last(BOB).text.startswith("Done: I've erased everything")
    memory = friends.memory
    assert await memory.get_person(bob_id) is None
    assert await memory.person_at(at(BOB)) is None
    assert await memory.get_connection(bob_id) is None
    assert await memory.connection_of_account("spotify", BOB) is None
    assert await memory.find_people("Bob Jones") == []
    assert [s for s in memory.shares.values() if bob_id in (s.sender_id, s.recipient_id)] == []
    assert await memory.next_check_at(bob_id) is None
    assert [m for m, _ in memory.outbox.values() if m.address == at(BOB)] == []
    assert [c for c in memory.choices.values() if c.address == at(BOB)] == []
    assert not [k for k in memory.limit_events if BOB in k or bob_id in k]
    # the inbox keeps ids (to drop redeliveries), never what Bob said
    assert all(m.sender != at(BOB) and not m.text for m, state in memory.inbox.values())


async def test_senders_of_pending_shares_are_told_the_share_ended(friends: World) -> None:
    await ask(friends)
    await friends.say(BOB, "yes")
    for sender in (ALICE, CAROL):
        told = friends.chat.last(sender).text
        assert told.startswith("The friend you sent Happy Now by Zedd, Elley Duhé to on 01 Jan")
        assert "that share has ended" in told and "Bob" not in told
    # Bob's own share to Alice is gone too; nobody checks Alice's history for it
    assert await friends.store.pending_shares(ALICE) == []


async def test_afterwards_nobody_can_send_to_them(friends: World) -> None:
    await ask(friends)
    await friends.say(BOB, "yes")
    await friends.say(ALICE, f'send_song name:"Bob Jones" {LINK}')
    assert 'I don\'t know anyone called "Bob Jones"' in friends.chat.last(ALICE).text


async def test_writing_again_starts_as_someone_new(friends: World) -> None:
    old_id = await friends.store.id_of(BOB)
    await ask(friends)
    await friends.say(BOB, "yes")
    await friends.say(BOB, f'send_song name:"Alice Liddell" {LINK}')
    assert "First connect your play history" in friends.chat.last(BOB).text
    await friends.register(BOB, "Bob Jones")
    # "You're connected", not "Reconnected": nothing of the old Bob is known
    assert friends.chat.last(BOB).text.startswith("You're connected, Bob Jones!")
    assert await friends.store.id_of(BOB) != old_id


async def test_the_button_confirms_as_yes_does(friends: World) -> None:
    question = await ask(friends)
    await friends.say(BOB, "Yes, forget me", payload=question.quick_replies[0].payload)
    assert friends.chat.last(BOB).text.startswith("Done: I've erased everything")
    assert await friends.store.get_person(BOB) is None


async def test_someone_elses_button_or_yes_erases_nothing(friends: World) -> None:
    question = await ask(friends)
    await friends.say(ALICE, "Yes, forget me", payload=question.quick_replies[0].payload)
    assert friends.chat.last(ALICE).text == (
        "That button was already used or has expired (buttons last an hour). If you "
        "still want me to erase everything, send forget me again."
    )
    await friends.say(ALICE, "yes")
    assert "no question waiting for a yes" in friends.chat.last(ALICE).text
    assert await friends.store.get_person(ALICE) is not None
    assert await friends.store.get_person(BOB) is not None
    await friends.say(BOB, "yes")  # Bob's own question is still open
    assert await friends.store.get_person(BOB) is None


async def test_yes_without_a_question_or_too_late_erases_nothing(friends: World) -> None:
    await friends.say(BOB, "yes")
    assert "no question waiting for a yes" in friends.chat.last(BOB).text
    await ask(friends)
    friends.clock.advance(CONFIRM_VALID.total_seconds() + 1)
    await friends.say(BOB, "Yes!")
    assert "no question waiting for a yes" in friends.chat.last(BOB).text
    assert await friends.store.get_person(BOB) is not None


async def test_a_second_yes_confirms_nothing_more(friends: World) -> None:
    await ask(friends)
    await friends.say(BOB, "yes")
    await friends.say(BOB, "yes")
    assert "no question waiting for a yes" in friends.chat.last(BOB).text


async def test_only_the_bare_words_count(friends: World) -> None:
    await friends.say(BOB, "forget me now")
    assert friends.chat.last(BOB).text == 'Send just "forget me", nothing else, to do that.'
    await ask(friends)
    await friends.say(BOB, "yes please")
    assert friends.chat.last(BOB).text == 'Send just "yes", nothing else, to do that.'
    assert await friends.store.get_person(BOB) is not None


async def test_someone_not_registered_can_be_forgotten_too(world: World) -> None:
    await ask(world, "psid-stranger")
    await world.say("psid-stranger", "yes")
    assert world.chat.last("psid-stranger").text.startswith("Done: I've erased everything")
    assert all(not m.text for m, _ in world.memory.inbox.values())


async def test_an_erasure_request_erases_and_gives_a_code(friends: World) -> None:
    code = await friends.service.forgetting.on_request(Address("messenger", BOB))
    assert len(code) >= 16
    assert await friends.service.forgetting.erased_at(code) == friends.clock.now()
    assert await friends.service.forgetting.erased_at("unknown-code") is None
    assert await friends.store.get_person(BOB) is None
    assert "that share has ended" in friends.chat.last(ALICE).text


async def test_an_erasure_request_for_nobody_still_gives_a_code(friends: World) -> None:
    code = await friends.service.forgetting.on_request(Address("messenger", "psid-nobody"))
    assert await friends.service.forgetting.erased_at(code) is not None
    assert await friends.store.get_person(ALICE) is not None


async def test_help_mentions_forget_me(world: World) -> None:
    await world.say(ALICE, "help")
    assert "forget me — disconnect and erase everything" in world.chat.last(ALICE).text


async def test_a_check_in_flight_for_the_erased_person_settles_nothing(friends: World) -> None:
    friends.clock.advance(timedelta(hours=1).total_seconds())
    bob_id = await friends.store.id_of(BOB)
    now = friends.clock.now()
    claimed = await friends.memory.claim_due_checks(now, now + timedelta(minutes=1), 10)
    [check] = [c for c in claimed if c.recipient_id == bob_id]
    await ask(friends)
    await friends.say(BOB, "yes")
    assert not await friends.service.checks.check(check)
    assert [m for m, _ in friends.memory.outbox.values() if m.address == at(BOB)] == []


async def test_groups_they_own_go_and_they_leave_the_others(friends: World) -> None:
    await friends.say(BOB, 'create_group name:"Bob Band"')
    await friends.say(BOB, 'add_to_group group:"Bob Band" name:"Alice Liddell"')
    await friends.say(CAROL, 'create_group name:"Choir"')
    await friends.say(CAROL, 'add_to_group group:"Choir" name:"Bob Jones"')
    await friends.say(CAROL, 'add_to_group group:"Choir" name:"Alice Liddell"')
    bob_id = await friends.store.id_of(BOB)
    await ask(friends)
    await friends.say(BOB, "yes")
    groups = friends.memory.roles().groups
    alices = await groups.groups_of(await friends.store.id_of(ALICE))
    assert [g.name for g in alices] == ["Choir"]
    assert bob_id not in alices[0].members
    assert await groups.groups_of(bob_id) == []
