"""`status` and `cancel`: a sender's recent shares, a friend's unplayed songs, and
stopping a share."""

from __future__ import annotations

import pytest

from sendsongs.domain.models import ShareStatus
from tests.service.conftest import TRACKS, World

ALICE, BOB, CAROL = "psid-alice", "psid-bob", "psid-carol"
HAPPY, LIGHTS = TRACKS["46X0dXeliHXD73sxexJx7d"], TRACKS["0VjIjW4GlUZAMYd2vXMi3b"]


@pytest.fixture
async def trio(world: World) -> World:
    await world.register(ALICE, "Alice Liddell")
    await world.register(BOB, "Bob Jones")
    await world.register(CAROL, "Carol Chu")
    await world.say(ALICE, 'create_group name:"Band"')
    await world.say(ALICE, 'add_to_group group:"Band" name:"Bob Jones"')
    await world.say(ALICE, 'add_to_group group:"Band" name:"Carol Chu"')
    return world


async def test_status_lists_shares_newest_first_with_where_they_stand(trio: World) -> None:
    await trio.say(ALICE, f'send_song name:"Bob Jones" {HAPPY.url}')
    trio.music.play(BOB, "46X0dXeliHXD73sxexJx7d", trio.clock.now())
    await trio.tick(600)
    trio.clock.advance(3600)
    await trio.say(ALICE, f'send_song group:"Band" {LIGHTS.url}')
    trio.music.play(CAROL, "0VjIjW4GlUZAMYd2vXMi3b", trio.clock.now())
    await trio.tick(300)
    trio.chat.unreachable.add(BOB)
    await trio.say(ALICE, f'send_song name:"Carol Chu" {HAPPY.url}')
    await trio.say(ALICE, "status")
    assert trio.chat.last(ALICE).text == (
        "Your recent shares:\n"
        "• Happy Now by Zedd, Elley Duhé → Carol Chu, just now: delivered, not played yet\n"
        "• Blinding Lights by The Weeknd → Band, 5 minutes ago: 1 of 2 listened, 1 pending\n"
        "• Happy Now by Zedd, Elley Duhé → Bob Jones, 1 hour ago: listened 1 hour ago"
    )


async def test_status_shows_expired_and_undelivered(trio: World) -> None:
    trio.chat.unreachable.add(BOB)
    await trio.say(ALICE, f'send_song name:"Bob Jones" {HAPPY.url}')
    await trio.say(ALICE, "status")
    assert trio.chat.last(ALICE).text.endswith("Bob Jones, just now: pending, not delivered yet")
    await trio.tick(8 * 86400)
    await trio.say(ALICE, "status")
    assert trio.chat.last(ALICE).text.endswith("Bob Jones, 8 days ago: expired unplayed")


async def test_status_shows_a_held_song_delivered_once_it_went_out(trio: World) -> None:
    trio.chat.unreachable.add(BOB)
    await trio.say(ALICE, f'send_song name:"Bob Jones" {HAPPY.url}')
    trio.chat.unreachable.discard(BOB)
    await trio.say(BOB, "help")  # writing reopens the window: the held song goes out
    assert any(HAPPY.url in text for text in trio.chat.texts(BOB))
    await trio.say(ALICE, "status")
    assert trio.chat.last(ALICE).text.endswith("Bob Jones, just now: delivered, not played yet")


async def test_status_says_when_an_expired_share_could_not_be_checked(trio: World) -> None:
    await trio.say(ALICE, f'send_song name:"Bob Jones" {HAPPY.url}')
    await trio.say(ALICE, f'send_song name:"Carol Chu" {HAPPY.url}')
    trio.music.revoked.add(BOB)  # Bob's history can't be read any more
    await trio.tick(8 * 86400)
    await trio.say(ALICE, "status")
    text = trio.chat.last(ALICE).text
    assert "Bob Jones, 8 days ago: expired — couldn't read their history" in text
    assert "Carol Chu, 8 days ago: expired unplayed" in text


async def test_status_shows_a_friend_the_songs_waiting_for_them(trio: World) -> None:
    await trio.say(ALICE, f'send_song name:"Carol Chu" {HAPPY.url}')
    trio.clock.advance(7200)
    await trio.say(BOB, f'send_song name:"Carol Chu" {LIGHTS.url}')
    await trio.say(CAROL, "status")
    assert trio.chat.last(CAROL).text == (
        "You haven't sent any songs yet. Try: "
        'send_song name:"Friend\'s Name" https://open.spotify.com/track/…\n\n'
        "Sent to you, not played yet:\n"
        f"• Blinding Lights by The Weeknd from Bob Jones, just now: {LIGHTS.url}\n"
        f"• Happy Now by Zedd, Elley Duhé from Alice Liddell, 2 hours ago: {HAPPY.url}"
    )


async def test_status_before_registering(trio: World) -> None:
    await trio.say("psid-stranger", "status")
    assert "send register" in trio.chat.last("psid-stranger").text


async def test_cancel_stops_the_latest_pending_share_and_offers_the_rest(trio: World) -> None:
    await trio.say(ALICE, f'send_song name:"Bob Jones" {HAPPY.url}')
    await trio.say(ALICE, f'send_song group:"Band" {LIGHTS.url}')
    await trio.say(ALICE, "cancel")
    reply = trio.chat.last(ALICE)
    assert reply.text == (
        "Stopped tracking Blinding Lights by The Weeknd to Band; I won't tell you whether "
        "they listen. Cancel another one too?"
    )
    assert [b.title for b in reply.quick_replies] == ["Happy Now → Bob Jone"]
    assert [s.track for s in await trio.store.pending_shares(CAROL)] == []
    # a late play of a cancelled song tells nobody anything
    trio.music.play(CAROL, "0VjIjW4GlUZAMYd2vXMi3b", trio.clock.now())
    await trio.tick(300)
    assert not any("Carol Chu listened" in t for t in trio.chat.texts(ALICE))
    assert not any(" of 2 in Band" in t for t in trio.chat.texts(ALICE))
    await trio.say(ALICE, "Happy Now", payload=reply.quick_replies[0].payload)
    assert trio.chat.last(ALICE).text.startswith(
        "Stopped tracking Happy Now by Zedd, Elley Duhé to Bob Jones;"
    )
    [*shares] = await trio.store.shares_sent_by(ALICE, 10)
    assert {s.status for s in shares} == {ShareStatus.CANCELLED}
    await trio.say(ALICE, "cancel")
    assert trio.chat.last(ALICE).text.startswith("Nothing of yours is waiting to be played.")
    await trio.say(ALICE, "again", payload=reply.quick_replies[0].payload)  # spent
    assert trio.chat.last(ALICE).text == (  # advice for cancel, not "send the song again"
        "That button was already used or has expired (buttons last an hour). Send status "
        "to see which shares are still pending, or cancel to stop the latest one."
    )


async def test_a_picked_share_that_settled_meanwhile_is_not_cancelled(trio: World) -> None:
    await trio.say(ALICE, f'send_song name:"Bob Jones" {HAPPY.url}')
    await trio.say(ALICE, f'send_song name:"Carol Chu" {LIGHTS.url}')
    await trio.say(ALICE, "cancel")
    [button] = trio.chat.last(ALICE).quick_replies
    trio.music.play(BOB, "46X0dXeliHXD73sxexJx7d", trio.clock.now())
    await trio.tick(600)
    await trio.say(ALICE, button.title, payload=button.payload)
    assert trio.chat.last(ALICE).text.startswith("That share isn't pending any more.")
