"""Groups: managing them, sending to one, who listened, and every refusal."""

from __future__ import annotations

from dataclasses import replace

import pytest

from sendsongs.domain.models import Address, ConnectionStatus
from tests.service.conftest import TRACKS, RecordingChat, World

ALICE, BOB, CAROL, DAN, EVE = "psid-alice", "psid-bob", "psid-carol", "psid-dan", "psid-eve"
ID = "46X0dXeliHXD73sxexJx7d"
LINK = f"https://open.spotify.com/track/{ID}"


@pytest.fixture
async def band(world: World) -> World:
    """Alice owns Band with Bob, Carol and Dan; Eve is registered but not in it."""
    for psid, name in [
        (ALICE, "Alice Liddell"),
        (BOB, "Bob Jones"),
        (CAROL, "Carol Chu"),
        (DAN, "Dan Dare"),
        (EVE, "Eve Moss"),
    ]:
        await world.register(psid, name)
    await world.say(ALICE, 'create_group name:"Band"')
    for name in ("Bob Jones", "Carol Chu", "Dan Dare"):
        await world.say(ALICE, f'add_to_group group:"band" name:"{name}"')
    return world


async def test_create_add_and_list(band: World) -> None:
    assert band.chat.texts(ALICE)[-1].startswith("Added Dan Dare to Band (4 people with you)")
    assert 'leave_group group:"Band"' in band.chat.texts(BOB)[-1]
    assert band.chat.texts(BOB)[-1].startswith("Alice Liddell added you to their group Band")
    await band.say(ALICE, "groups")
    assert band.chat.last(ALICE).text == (
        "Your groups:\n• Band: you, Bob Jones, Carol Chu, Dan Dare"
    )
    await band.say(BOB, "groups")
    assert band.chat.last(BOB).text == (
        "Your groups:\n• Band (Alice Liddell's): Alice Liddell, you, Carol Chu, Dan Dare"
    )


async def test_group_names_are_per_owner_and_ignore_case(band: World) -> None:
    await band.say(ALICE, 'create_group name:"BAND"')
    assert "You already have a group called BAND" in band.chat.last(ALICE).text
    await band.say(BOB, 'create_group name:"band"')  # Bob's own, beside Alice's
    assert band.chat.last(BOB).text.startswith("Created the group band.")


async def test_no_groups_yet(band: World) -> None:
    await band.say(EVE, "groups")
    assert "You have no groups yet" in band.chat.last(EVE).text


async def test_refusals_say_what_to_do(band: World) -> None:
    await band.say(ALICE, 'add_to_group group:"Choir" name:"Eve Moss"')
    assert band.chat.last(ALICE).text == (
        'You have no group called Choir. Your groups: Band. To make one: create_group name:"Choir"'
    )
    await band.say(BOB, 'add_to_group group:"Band" name:"Eve Moss"')
    assert band.chat.last(BOB).text.startswith("Only Alice Liddell, who made Band, can change it.")
    await band.say(ALICE, 'add_to_group group:"Band" name:"Bob Jones"')
    assert band.chat.last(ALICE).text == "Bob Jones is already in Band."
    await band.say(ALICE, 'add_to_group group:"Band" name:"Alice Liddell"')
    assert band.chat.last(ALICE).text == "You're in Band already, as its owner."
    await band.say(ALICE, 'add_to_group group:"Band" name:"Zed"')
    assert 'I don\'t know anyone called "Zed"' in band.chat.last(ALICE).text
    await band.say(ALICE, 'remove_from_group group:"Band" name:"Eve Moss"')
    assert band.chat.last(ALICE).text == (
        "Eve Moss isn't in Band. Its members: Bob Jones, Carol Chu, Dan Dare."
    )
    await band.say(EVE, 'leave_group group:"Band"')
    assert band.chat.last(EVE).text.startswith("You're not in a group called Band.")
    await band.say(ALICE, 'leave_group group:"Band"')
    assert 'delete_group group:"Band"' in band.chat.last(ALICE).text
    await band.say(EVE, f'send_song group:"Band" {LINK}')
    assert band.chat.last(EVE).text.startswith("You have no group called Band.")
    await band.say("psid-stranger", 'create_group name:"X"')
    assert "send register" in band.chat.last("psid-stranger").text


async def test_add_offers_close_names_as_buttons(band: World) -> None:
    await band.say(ALICE, 'add_to_group group:"Band" name:"Eve"')
    question = band.chat.last(ALICE)
    assert question.text == 'I don\'t know anyone called "Eve". Did you mean Eve Moss?'
    [button] = question.quick_replies
    assert button.payload.startswith("c:") and len(button.payload) <= 64
    await band.say(ALICE, button.title, payload=button.payload)
    assert band.chat.last(ALICE).text.startswith("Added Eve Moss to Band")


async def test_remove_leave_and_delete_tell_the_others(band: World) -> None:
    await band.say(ALICE, 'remove_from_group group:"Band" name:"carol chu"')
    assert band.chat.last(ALICE).text == "Removed Carol Chu from Band."
    assert band.chat.last(CAROL).text == "Alice Liddell removed you from their group Band."
    await band.say(DAN, 'leave_group group:"band"')
    assert band.chat.last(DAN).text == "You left Alice Liddell's group Band."
    assert band.chat.last(ALICE).text == "Dan Dare left your group Band."
    await band.say(ALICE, "groups")
    assert band.chat.last(ALICE).text.endswith("• Band: you, Bob Jones")
    await band.say(ALICE, 'delete_group group:"Band"')
    assert band.chat.last(ALICE).text == "Deleted the group Band."
    assert band.chat.last(BOB).text == "Alice Liddell deleted their group Band."
    await band.say(BOB, f'send_song group:"Band" {LINK}')
    assert band.chat.last(BOB).text.startswith("You have no group called Band.")


async def test_an_empty_group_is_refused(band: World) -> None:
    await band.say(ALICE, 'create_group name:"Solo"')
    await band.say(ALICE, f'send_song group:"Solo" {LINK}')
    assert band.chat.last(ALICE).text.startswith("Nobody else is in Solo yet.")


async def test_group_share_reaches_each_member_and_summarises(band: World) -> None:
    await band.say(ALICE, f'send_song group:"Band" pre:"for the road" post:"Told you" {LINK}')
    confirmation = band.chat.last(ALICE).text
    assert confirmation == (
        "Sent Happy Now by Zedd, Elley Duhé to Band: Bob Jones, Carol Chu, Dan Dare. "
        "I'll tell you who listened."
    )
    for member in (BOB, CAROL, DAN):
        assert band.chat.last(member).text == f"Alice Liddell: for the road {LINK}"
    assert band.chat.texts(EVE)[-1].startswith("You're connected")  # not in the group
    shared = band.clock.now()
    band.music.play(BOB, ID, shared)
    band.music.play(CAROL, ID, shared)
    await band.tick(300)
    texts = band.chat.texts(ALICE)
    assert "Bob Jones listened to Happy Now by Zedd, Elley Duhé!" in texts
    assert "Carol Chu listened to Happy Now by Zedd, Elley Duhé!" in texts
    assert band.chat.last(BOB).text.startswith('Alice Liddell says "Told you"')
    assert not any(t.startswith("3 of") or " of 3 " in t for t in texts)  # Dan still pending
    await band.tick(7 * 86400)
    summary = band.chat.last(ALICE).text
    assert summary == (
        "2 of 3 in Band listened to Happy Now by Zedd, Elley Duhé. Not played: Dan Dare."
    )
    assert not any("Dan Dare didn't listen" in t for t in band.chat.texts(ALICE))
    assert sum(t.startswith("2 of 3") for t in band.chat.texts(ALICE)) == 1


async def test_a_summary_when_everyone_listened(band: World) -> None:
    await band.say(ALICE, f'send_song group:"Band" {LINK}')
    for member in (BOB, CAROL, DAN):
        band.music.play(member, ID, band.clock.now())
    await band.tick(300)
    assert band.chat.last(ALICE).text == "3 of 3 in Band listened to Happy Now by Zedd, Elley Duhé."


async def test_one_history_call_per_member_covers_group_and_single_shares(band: World) -> None:
    await band.say(ALICE, f'send_song group:"Band" {LINK}')
    await band.say(CAROL, f'send_song name:"Bob Jones" {TRACKS["0VjIjW4GlUZAMYd2vXMi3b"].url}')
    band.music.history_calls.clear()
    await band.tick(300)
    owners = [owner for owner, _ in band.music.history_calls]
    assert sorted(owners) == sorted([BOB, CAROL, DAN])


async def test_a_member_may_send_to_the_group_but_not_to_themselves(band: World) -> None:
    await band.say(BOB, f'send_song group:"Band" {LINK}')
    assert band.chat.last(BOB).text.startswith(
        "Sent Happy Now by Zedd, Elley Duhé to Band: Alice Liddell, Carol Chu, Dan Dare."
    )
    assert await band.store.pending_shares(BOB) == []


async def test_the_sender_is_told_who_will_not_count(band: World) -> None:
    dan = await band.store.id_of(DAN)
    await band.memory.set_connection_status(dan, ConnectionStatus.REVOKED)
    await band.say(ALICE, f'send_song group:"Band" {LINK}')
    assert "I can't see what Dan Dare play right now, so they won't count." in (
        band.chat.last(ALICE).text
    )


async def test_members_who_already_have_it_pending_are_not_sent_it_again(band: World) -> None:
    await band.say(ALICE, f'send_song name:"Bob Jones" {LINK}')
    await band.say(ALICE, f'send_song group:"Band" {LINK}')
    assert "Bob Jones already had it from you, still unplayed." in band.chat.last(ALICE).text
    assert len(await band.store.pending_shares(BOB)) == 1
    await band.say(ALICE, f'send_song group:"Band" {LINK}')
    assert band.chat.last(ALICE).text.startswith("Everyone in Band (Bob Jones, Carol Chu, Dan")


async def test_a_group_may_mix_channels(band: World) -> None:
    telegram = RecordingChat(band.clock, name="telegram")
    channels = band.service.ports.channels
    assert isinstance(channels, dict)
    channels["telegram"] = telegram  # the one Delivery routes by
    eve = await band.memory.person_at(Address("messenger", EVE))
    assert eve is not None
    band.clock.advance(60)  # Eve writes from Telegram now: her latest address
    await band.memory.save_person(
        replace(eve, registered_at=band.clock.now()), Address("telegram", "777")
    )
    await band.say(ALICE, 'add_to_group group:"Band" name:"Eve Moss"')
    assert telegram.texts("777")[-1].startswith("Alice Liddell added you to their group Band")
    await band.say(ALICE, f'send_song group:"Band" {LINK}')
    assert telegram.texts("777")[-1] == f"Alice Liddell: {LINK}"


async def test_two_friends_groups_of_one_name_are_told_apart(band: World) -> None:
    band.clock.advance(60)  # Carol's Band is the newer one
    await band.say(CAROL, 'create_group name:"Band"')
    await band.say(CAROL, 'add_to_group group:"Band" name:"Bob Jones"')
    await band.say(CAROL, 'add_to_group group:"Band" name:"Eve Moss"')
    await band.say(BOB, f'send_song group:"band" {LINK}')
    question = band.chat.last(BOB)
    assert question.text == (
        "You're in several groups called band (Alice Liddell's, Carol Chu's). Which one?"
    )
    assert [b.title for b in question.quick_replies] == ["Alice Liddell's", "Carol Chu's"]
    await band.say(BOB, "Carol Chu's", payload=question.quick_replies[1].payload)
    assert band.chat.last(BOB).text.startswith(
        "Sent Happy Now by Zedd, Elley Duhé to Band: Carol Chu, Eve Moss."
    )
    assert band.chat.last(EVE).text == f"Bob Jones: {LINK}"


async def test_a_picked_group_left_meanwhile_is_refused(band: World) -> None:
    band.clock.advance(60)
    await band.say(CAROL, 'create_group name:"Band"')
    await band.say(CAROL, 'add_to_group group:"Band" name:"Bob Jones"')
    await band.say(BOB, f'send_song group:"Band" {LINK}')
    button = band.chat.last(BOB).quick_replies[1]
    await band.say(BOB, 'leave_group group:"Band"')  # leaves both
    await band.say(BOB, button.title, payload=button.payload)
    assert band.chat.last(BOB).text.startswith("You're not in a group called Band.")


async def test_help_names_the_group_commands(band: World) -> None:
    await band.say(ALICE, "help")
    text = band.chat.last(ALICE).text
    for word in ("create_group", "add_to_group", "send_song group:", "remove_from_group"):
        assert word in text
    for word in ("leave_group", "delete_group", "groups", "status", "cancel"):
        assert word in text
