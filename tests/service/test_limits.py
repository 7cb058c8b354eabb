"""Per-person limits: sign-up attempts and shares per hour, with a reply saying when
to try again; nothing is looked up, stored or sent past a limit."""

from __future__ import annotations

import pytest

from sendsongs.service import Service
from sendsongs.service.limits import Quotas
from sendsongs.signing import Signer
from tests.service.conftest import SCHEDULE, World

ALICE, BOB = "psid-alice", "psid-bob"
LINK = "https://open.spotify.com/track/46X0dXeliHXD73sxexJx7d"
OTHER = "https://open.spotify.com/track/0VjIjW4GlUZAMYd2vXMi3b"


def limited(world: World, signups: int = 5, shares: int = 30) -> World:
    world.service = Service(
        world.service.ports,
        schedule=SCHEDULE,
        signer=Signer("a-test-secret-key-of-some-length", world.clock),
        public_url="https://bot.example",
        quotas=Quotas(signups=signups, shares=shares),
    )
    return world


@pytest.fixture
async def friends(world: World) -> World:
    limited(world, signups=3, shares=2)
    await world.register(ALICE, "Alice Liddell")
    await world.register(BOB, "Bob Jones")
    return world


async def test_sign_up_attempts_are_limited_per_hour(world: World) -> None:
    limited(world, signups=3)
    for _ in range(3):
        await world.say(ALICE, "register name:Alice")
        assert "/spotify/login?t=" in world.chat.last(ALICE).text
    world.clock.advance(20 * 60)
    await world.say(ALICE, "register name:Alice")
    refusal = world.chat.last(ALICE).text
    assert refusal == (
        "That's more sign-up attempts than I take from one person in 1 hour. "
        "Please try again in 40 minutes."
    )
    await world.say(BOB, "register name:Bob")  # one person's limit is theirs alone
    assert "/spotify/login?t=" in world.chat.last(BOB).text
    world.clock.advance(40 * 60)
    await world.say(ALICE, "register name:Alice")
    assert "/spotify/login?t=" in world.chat.last(ALICE).text


async def test_sign_up_codes_count_as_attempts(world: World) -> None:
    limited(world, signups=1)
    await world.say(ALICE, 'register code:"guess-1" name:"Alice"')
    assert "That code is unknown" in world.chat.last(ALICE).text
    await world.say(ALICE, 'register code:"guess-2" name:"Alice"')
    assert "Please try again in 60 minutes" in world.chat.last(ALICE).text


async def test_shares_are_limited_per_hour_before_any_look_up(friends: World) -> None:
    limited(friends, shares=1)
    await friends.say(ALICE, f'send_song name:"Bob Jones" {LINK}')
    assert friends.chat.last(ALICE).text.startswith("Sent ")
    friends.clock.advance(120)
    sent_to_bob = len(friends.chat.texts(BOB))
    await friends.say(ALICE, f'send_song name:"Bob Jones" {OTHER}')
    assert friends.chat.last(ALICE).text == (
        "That's more songs than I take from one person in 1 hour. Please try again in 58 minutes."
    )
    assert len(friends.chat.texts(BOB)) == sent_to_bob  # Bob is not flooded
    assert len(await friends.store.pending_shares(BOB)) == 1
    friends.clock.advance(58 * 60)
    await friends.say(ALICE, f'send_song name:"Bob Jones" {OTHER}')
    assert friends.chat.last(ALICE).text.startswith("Sent ")


async def test_bad_sends_that_reach_no_friend_cost_nothing(friends: World) -> None:
    for _ in range(3):
        await friends.say(ALICE, f'send_song name:"Nobody Here" {LINK}')
    await friends.say(ALICE, f'send_song name:"Bob Jones" {LINK}')
    assert friends.chat.last(ALICE).text.startswith("Sent ")
