"""The slips a new user makes, each answered helpfully."""

from __future__ import annotations

import pytest

from sendsongs.domain.models import Address
from tests.service.conftest import World

ALICE, BOB, BOB2, ZOE = "psid-alice", "psid-bob", "psid-bob2", "psid-zoe"
LINK = "https://open.spotify.com/track/46X0dXeliHXD73sxexJx7d"


@pytest.fixture
async def friends(world: World) -> World:
    await world.register(ALICE, "Alice Liddell")
    await world.register(BOB, "Bob Jones")
    await world.register(ZOE, "Zoë Müller")
    return world


async def test_a_typod_command_word_is_corrected_keeping_the_fields(friends: World) -> None:
    await friends.say(ALICE, f'sned_song name:"Bob Jones" {LINK}')
    assert friends.chat.last(ALICE).text == (
        f'Did you mean send_song? Send: send_song name:"Bob Jones" {LINK}'
    )
    assert await friends.store.pending_shares(BOB) == []


async def test_a_space_after_the_colon_is_fine(friends: World) -> None:
    await friends.say(ALICE, f'send_song name: "Bob Jones" pre: "hey" {LINK}')
    assert friends.chat.last(ALICE).text.startswith("Sent Happy Now")
    assert friends.chat.last(BOB).text == f"Alice Liddell: hey {LINK}"


@pytest.mark.parametrize(
    ("typed", "offered"),
    [("Bob", "Bob Jones"), ("Zoe", "Zoë Müller"), ("Bob Jnoes", "Bob Jones")],
)
async def test_close_names_are_offered_as_buttons(friends: World, typed: str, offered: str) -> None:
    await friends.say(ALICE, f'send_song name:"{typed}" post:"later" {LINK}')
    question = friends.chat.last(ALICE)
    assert question.text == f'I don\'t know anyone called "{typed}". Did you mean {offered}?'
    [button] = question.quick_replies
    assert button.title == offered and len(button.payload.encode()) <= 64
    await friends.say(ALICE, button.title, payload=button.payload)
    assert friends.chat.last(ALICE).text.startswith(
        f"Sent Happy Now by Zedd, Elley Duhé to {offered}."
    )
    psid = BOB if offered == "Bob Jones" else ZOE
    [share] = await friends.store.pending_shares(psid)
    assert share.post == "later"


async def test_a_far_name_is_still_unknown(friends: World) -> None:
    await friends.say(ALICE, f'send_song name:"Carol" {LINK}')
    reply = friends.chat.last(ALICE)
    assert reply.text.startswith('I don\'t know anyone called "Carol". Check the spelling')
    assert reply.quick_replies == ()


async def test_sending_to_yourself_is_refused_kindly(friends: World) -> None:
    await friends.say(ALICE, f'send_song name:"alice liddell" {LINK}')
    assert friends.chat.last(ALICE).text.startswith(
        "That's you, Alice Liddell! Songs go to friends"
    )
    assert await friends.store.pending_shares(ALICE) == []
    await friends.say(ALICE, f'send_song name:"Alice" {LINK}')  # not offered yourself either
    assert "Did you mean" not in friends.chat.last(ALICE).text


async def test_the_same_song_twice_while_pending_is_not_sent_again(friends: World) -> None:
    await friends.say(ALICE, f'send_song name:"Bob Jones" {LINK}')
    sent_to_bob = len(friends.chat.texts(BOB))
    album = "https://open.spotify.com/track/2I0FOWHzP5dBiNNFLFsxVt"  # same ISRC
    await friends.say(ALICE, f'send_song name:"Bob Jones" {album}')
    assert friends.chat.last(ALICE).text == (  # named as the song Bob has
        "Bob Jones already has Happy Now by Zedd, Elley Duhé from you and hasn't "
        "played it yet, so I didn't send it again. Send status to see where your "
        "shares stand."
    )
    assert len(friends.chat.texts(BOB)) == sent_to_bob
    assert len(await friends.store.pending_shares(BOB)) == 1
    friends.music.play(BOB, "46X0dXeliHXD73sxexJx7d", friends.clock.now())
    await friends.tick(600)
    assert sum("Bob Jones listened" in t for t in friends.chat.texts(ALICE)) == 1
    await friends.say(ALICE, f'send_song name:"Bob Jones" {LINK}')  # settled: again is fine
    assert friends.chat.last(ALICE).text.startswith("Sent Happy Now")


async def test_namesakes_are_told_apart(friends: World) -> None:
    await friends.say(ALICE, f'send_song name:"Bob Jones" {LINK}')
    friends.clock.advance(3 * 86400)
    await friends.register(BOB2, "BOB JONES")
    bob2 = await friends.memory.person_at(Address("messenger", BOB2))
    assert bob2 is not None
    await friends.memory.save_person(bob2, Address("telegram", "42"))
    friends.memory.addresses.pop(Address("messenger", BOB2))  # now only on Telegram
    await friends.say(ALICE, f'send_song name:"bob jones" {LINK}')
    question = friends.chat.last(ALICE)
    assert question.text == (
        "2 people are called bob jones. Which one?\n"
        "1. Bob Jones: on Messenger, joined 1 Jan 2025, 1 song from you\n"
        "2. BOB JONES: on Telegram, joined 4 Jan 2025"
    )
    titles = [b.title for b in question.quick_replies]
    assert titles == ["1. Messenger 1 Jan", "2. Telegram 4 Jan"]
    assert len(set(titles)) == 2
