"""Replies that must say what really happened: the song actually pending, why a
member could not be reached, a name typed in other quotes, a namesake told apart."""

from __future__ import annotations

from dataclasses import replace

import pytest

from sendsongs.domain.models import Address
from sendsongs.errors import RecipientUnreachable, TransientError
from tests.service.conftest import RecordingChat, World

DANA, FINN, JONAS, CHLOE = "psid-dana", "psid-finn", "psid-jonas", "psid-chloe"
DIFFERENT = "spotify:track:jYSmSOpa7vbgcK17Pex1Wl"  # 241 s
SALT = "spotify:track:orOkXbQzW7UOsL7Os6RULg"  # 1.5 s, the same ISRC
HAPPY = "https://open.spotify.com/track/46X0dXeliHXD73sxexJx7d"
BLOCKED = "they have blocked Send Songs on Telegram, so Telegram won't let me write to them"


@pytest.fixture
async def people(world: World) -> World:
    for psid, name in [(DANA, "Dana Day"), (FINN, "Finn Solo"), (JONAS, "Jonas Berg")]:
        await world.register(psid, name)
    return world


async def test_a_different_song_sharing_an_isrc_is_sent(people: World) -> None:
    await people.say(DANA, f'send_song name:"Finn Solo" pre:"one" {DIFFERENT}')
    await people.say(DANA, f'send_song name:"Finn Solo" {SALT}')
    assert people.chat.last(DANA).text.startswith("Sent Salt and Sand by Finn Solo to Finn Solo.")
    assert len(await people.store.pending_shares(FINN)) == 2


async def test_a_group_member_who_blocked_the_bot_is_given_that_reason(people: World) -> None:
    await people.say(DANA, 'create_group name:"Mix"')
    for name in ("Finn Solo", "Jonas Berg"):
        await people.say(DANA, f'add_to_group group:"Mix" name:"{name}"')
    people.chat.failing.append(RecipientUnreachable("403", BLOCKED))  # Finn's delivery
    await people.say(DANA, f'send_song group:"Mix" {HAPPY}')
    text = people.chat.last(DANA).text
    assert f"Saved it for Finn Solo, but couldn't deliver it yet: {BLOCKED}" in text
    assert "write to me first" not in text
    await people.say(DANA, f'send_song group:"Mix" {HAPPY}')
    again = people.chat.last(DANA).text
    assert not again.startswith("Everyone in Mix already has")
    assert "Jonas Berg already had it from you, still unplayed." in again
    assert "Finn Solo already has it from you, but it hasn't reached them yet" in again


async def test_a_direct_resend_of_a_held_song_says_it_never_arrived(people: World) -> None:
    people.chat.unreachable.add(FINN)
    await people.say(DANA, f'send_song name:"Finn Solo" {HAPPY}')
    await people.say(DANA, f'send_song name:"Finn Solo" {HAPPY}')
    assert people.chat.last(DANA).text.startswith(
        "I already saved Happy Now by Zedd, Elley Duhé for Finn Solo, but it hasn't reached "
        "them yet"
    )


async def test_an_outage_is_not_called_being_asked_to_wait(people: World) -> None:
    people.chat.failing.append(TransientError("messenger HTTP 503"))
    await people.say(DANA, f'send_song name:"Finn Solo" {HAPPY}')
    text = people.chat.last(DANA).text
    assert "couldn't deliver it yet. Messenger isn't answering right now" in text
    assert "asked me to wait" not in text


async def test_a_held_reason_starts_a_sentence(people: World) -> None:
    people.chat.failing.append(RecipientUnreachable("403", BLOCKED))
    await people.say(DANA, f'send_song name:"Finn Solo" {HAPPY}')
    assert "couldn't deliver it yet. They have blocked Send Songs" in people.chat.last(DANA).text


@pytest.mark.parametrize("quoted", ["'Chloé Dubois'", "\u2018Chloé Dubois\u2019"])
async def test_single_quotes_work_like_double(people: World, quoted: str) -> None:
    await people.register(CHLOE, "Chloé Dubois")
    await people.say(DANA, f"send_song name:{quoted} {HAPPY}")
    assert people.chat.last(DANA).text.startswith("Sent Happy Now by Zedd, Elley Duhé to Chloé")


async def test_a_bare_known_name_gets_the_command_to_send_them_a_song(people: World) -> None:
    await people.register(CHLOE, "Chloé Dubois")
    await people.say(DANA, "Chloé Dubois")
    assert people.chat.last(DANA).text.startswith(
        'To send Chloé Dubois a song, write: send_song name:"Chloé Dubois" https://'
    )
    await people.say(DANA, "Nobody Known Here")
    assert people.chat.last(DANA).text.startswith('I don\'t understand "Nobody Known Here".')


@pytest.mark.parametrize(("stored", "typed"), [("O\u2019Neil Park", "O'Neil Park"),
                                               ("O'Neil Park", "O\u2019Neil Park")])  # fmt: skip
async def test_curly_and_straight_apostrophes_match(people: World, stored: str, typed: str) -> None:
    await people.register("psid-oneil", stored)
    await people.say(DANA, f'send_song name:"{typed}" {HAPPY}')
    assert people.chat.last(DANA).text.startswith("Sent Happy Now")


async def test_own_empty_history_is_called_yours(people: World) -> None:
    people.lastfm.users["dana2"] = []
    await people.say("psid-new", 'register lastfm:"dana2" name:"Dana Two"')
    assert "Your history is empty so far" in people.chat.last("psid-new").text


async def test_not_registered_ends_with_a_full_stop(people: World) -> None:
    await people.say("psid-stranger", "status")
    assert people.chat.last("psid-stranger").text.endswith("send help for the other ways.")


async def _bjorns(people: World) -> RecordingChat:
    """Two Björn Ångström: one on Messenger, one on Telegram, a day apart."""
    telegram = RecordingChat(people.clock, name="telegram")
    channels = people.service.ports.channels
    assert isinstance(channels, dict)
    channels["telegram"] = telegram
    await people.register("psid-bjorn1", "Björn Ångström")
    people.clock.advance(86400)
    await people.register("psid-bjorn2", "Björn Ångström")
    second = await people.memory.person_at(Address("messenger", "psid-bjorn2"))
    assert second is not None
    people.clock.advance(60)
    await people.memory.save_person(
        replace(second, registered_at=people.clock.now()), Address("telegram", "42")
    )
    return telegram


async def test_namesakes_are_told_apart_in_groups(people: World) -> None:
    await _bjorns(people)
    await people.say(DANA, 'create_group name:"Mix"')
    await people.say(DANA, 'add_to_group group:"Mix" name:"Björn Ångström"')
    question = people.chat.last(DANA)
    assert "on Messenger, joined 1 Jan 2025" in question.text
    assert "on Telegram, joined 2 Jan 2025" in question.text
    titles = [b.title for b in question.quick_replies]
    assert len(set(titles)) == 2
    for button in question.quick_replies:
        await people.say(DANA, button.title, payload=button.payload)
    await people.say(DANA, "groups")
    listed = people.chat.last(DANA).text
    assert "Björn Ångström (on Messenger, joined 1 Jan 2025)" in listed
    assert "Björn Ångström (on Telegram, joined 2 Jan 2025)" in listed
    people.chat.unreachable.add("psid-bjorn1")
    await people.say(DANA, f'send_song group:"Mix" {HAPPY}')
    sent = people.chat.last(DANA).text
    assert "Sent Happy Now by Zedd, Elley Duhé to Mix: Björn Ångström (on Telegram" in sent
    assert "Saved it for Björn Ångström (on Messenger" in sent


async def test_the_group_summary_tells_namesakes_apart(people: World) -> None:
    await _bjorns(people)
    await people.say(DANA, 'create_group name:"Mix"')
    await people.say(DANA, 'add_to_group group:"Mix" name:"Björn Ångström"')
    for button in people.chat.last(DANA).quick_replies:
        await people.say(DANA, button.title, payload=button.payload)
    await people.say(DANA, f'send_song group:"Mix" {HAPPY}')
    people.music.play("psid-bjorn1", "46X0dXeliHXD73sxexJx7d", people.clock.now())
    await people.tick(8 * 86400)
    await people.service.delivery.deliver_outbox()
    [summary] = [t for t in people.chat.texts(DANA) if " of 2 in Mix" in t]
    assert "Not played: Björn Ångström (on Telegram, joined 2 Jan 2025" in summary
