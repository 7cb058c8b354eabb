"""Linking Spotify: the chat link flow and the page-and-code flow."""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

import pytest

from sendsongs.service.registration import Connected, LoginFailed, SignupCode
from sendsongs.signing import InvalidLink
from tests.service.conftest import World

ALICE = "psid-alice"


async def test_register_replies_with_a_personal_link(world: World) -> None:
    await world.say(ALICE, 'register name:"Alice Liddell"')
    text = world.chat.last(ALICE).text
    assert "Alice Liddell" in text
    assert "https://bot.example/spotify/login?t=" in text


async def test_register_without_a_name_uses_the_messenger_profile(world: World) -> None:
    world.chat.profiles[ALICE] = "Alice Liddell"
    await world.say(ALICE, "register")
    assert "as Alice Liddell" in world.chat.last(ALICE).text


async def test_register_without_any_name_asks_for_one(world: World) -> None:
    await world.say(ALICE, "register")
    assert 'register name:"Your Name"' in world.chat.last(ALICE).text


async def test_chat_flow_links_the_person_and_confirms_in_chat(world: World) -> None:
    await world.register(ALICE, "Alice Liddell")
    person = await world.store.get_person(ALICE)
    assert person is not None and person.name == "Alice Liddell"
    assert await world.store.get_grant(ALICE) is not None
    assert "You're connected, Alice Liddell" in world.chat.last(ALICE).text


async def test_state_is_single_use(world: World) -> None:
    url = await world.service.registration.start(None)
    state, code = world.music.approve(url, owner="x")
    assert isinstance(await world.service.registration.finish(state, code, None), SignupCode)
    again = await world.service.registration.finish(state, code, None)
    assert isinstance(again, LoginFailed) and "already used" in again.reason


async def test_forged_state_is_refused(world: World) -> None:
    result = await world.service.registration.finish("forged", "code", None)
    assert isinstance(result, LoginFailed)


async def test_tampered_chat_token_is_refused(world: World) -> None:
    try:
        await world.service.registration.start("not-a-token")
    except InvalidLink:
        return
    raise AssertionError("a forged token must not start a login")


async def test_denied_consent_connects_nothing(world: World) -> None:
    url = await world.service.registration.start(None)
    state = parse_qs(urlparse(url).query)["state"][0]
    result = await world.service.registration.finish(state, None, "access_denied")
    assert isinstance(result, LoginFailed) and "not granted" in result.reason


async def test_page_flow_code_completes_sign_up_once(world: World) -> None:
    url = await world.service.registration.start(None)
    state, code = world.music.approve(url, owner=ALICE)
    result = await world.service.registration.finish(state, code, None)
    assert isinstance(result, SignupCode) and len(result.code) >= 16
    assert result.command == f'register code:"{result.code}" name:"Your Name"'
    await world.say(ALICE, f'register code:"{result.code}" name:"Alice Liddell"')
    assert "You're connected, Alice Liddell" in world.chat.last(ALICE).text
    await world.say("psid-mallory", f'register code:"{result.code}" name:"Mallory"')
    assert "unknown, used or expired" in world.chat.last("psid-mallory").text
    assert await world.store.get_person("psid-mallory") is None


async def test_page_flow_code_expires_after_15_minutes(world: World) -> None:
    url = await world.service.registration.start(None)
    state, code = world.music.approve(url, owner=ALICE)
    result = await world.service.registration.finish(state, code, None)
    assert isinstance(result, SignupCode)
    world.clock.advance(15 * 60 + 1)
    await world.say(ALICE, f'register code:"{result.code}" name:"Alice"')
    assert "expired" in world.chat.last(ALICE).text


async def test_registering_again_keeps_the_person_and_says_reconnected(world: World) -> None:
    await world.register(ALICE, "Alice")
    first = await world.store.get_person(ALICE)
    world.clock.advance(3600)
    await world.say(ALICE, "register")
    assert world.chat.last(ALICE).text.startswith(
        "You're already connected as Alice through Spotify. To connect again, use this link"
    )
    await world.register(ALICE, "Alice")  # follows the link anyway
    person = await world.store.get_person(ALICE)
    assert person is not None and first is not None
    assert person.registered_at == first.registered_at
    assert "Reconnected, Alice" in world.chat.last(ALICE).text


async def test_a_new_name_renames_and_keeps_the_source(world: World) -> None:
    world.lastfm.users["dana"] = []
    await world.say(ALICE, 'register lastfm:"dana" name:"Dana"')
    await world.say(ALICE, 'register name:"Dana X"')
    assert world.chat.last(ALICE).text == (
        "Done: friends now find you as Dana X. You're still connected through Last.fm "
        "(user dana). To switch to Spotify, send register."
    )
    person = await world.store.get_person(ALICE)
    connection = await world.store.get_connection(ALICE)
    assert person is not None and person.name == "Dana X"
    assert connection is not None and connection.source == "lastfm"
    await world.say(ALICE, "register")
    assert world.chat.last(ALICE).text.startswith(
        "You're already connected as Dana X through Last.fm (user dana). To switch to "
        "Spotify instead, use this link"
    )


async def test_connected_result_names_the_person(world: World) -> None:
    await world.say(ALICE, 'register name:"Alice"')
    link = world.chat.last(ALICE).text.split("\n")[1]
    url = await world.service.registration.start(parse_qs(urlparse(link).query)["t"][0])
    state, code = world.music.approve(url, owner=ALICE)
    result = await world.service.registration.finish(state, code, None)
    assert result == Connected("Alice", "messenger")


async def test_the_chat_link_expires_when_the_reply_says(world: World) -> None:
    await world.say(ALICE, 'register name:"Alice"')
    reply = world.chat.last(ALICE).text
    assert "valid 30 minutes" in reply
    token = parse_qs(urlparse(reply.split("\n")[1]).query)["t"][0]
    world.clock.advance(29 * 60)
    await world.service.registration.start(token)  # still good
    world.clock.advance(2 * 60)
    with pytest.raises(InvalidLink):
        await world.service.registration.start(token)


async def test_people_get_their_own_ids_not_the_channels(world: World) -> None:
    await world.register(ALICE, "Alice")
    person = await world.store.get_person(ALICE)
    assert person is not None and ALICE not in person.id
    connection = await world.store.get_connection(ALICE)
    assert connection is not None and connection.source == "spotify"
    assert connection.account == ALICE  # the source's account id, kept to refuse doubles


async def test_one_account_cannot_be_linked_to_two_people(world: World) -> None:
    await world.register(ALICE, "Alice")
    await world.say("psid-bob", 'register name:"Bob"')
    link = world.chat.last("psid-bob").text.split("\n")[1]
    url = await world.service.registration.start(parse_qs(urlparse(link).query)["t"][0])
    state, code = world.music.approve(url, owner=ALICE)  # Alice's account, in Bob's chat
    result = await world.service.registration.finish(state, code, None)
    assert isinstance(result, LoginFailed) and "already connected" in result.reason
    assert await world.store.get_person("psid-bob") is None


async def test_someone_spotify_will_not_show_is_told_what_to_do_and_senders_too(
    world: World,
) -> None:
    await world.register(ALICE, "Alice")
    world.music.unreadable.add("psid-carol")
    await world.register("psid-carol", "Carol")
    [notice] = [t for t in world.chat.texts("psid-carol") if "development mode" in t]
    assert "Ask the bot's owner to add your Spotify account" in notice
    connection = await world.store.get_connection("psid-carol")
    assert connection is not None and not connection.readable
    await world.say(ALICE, 'send_song name:"Carol" spotify:track:46X0dXeliHXD73sxexJx7d')
    reply = world.chat.last(ALICE).text
    assert reply.startswith("Sent Happy Now") and "I can't see what Carol plays" in reply
    assert "I'll tell you when they've listened" not in reply
    assert world.music.history_calls == []


async def test_a_reminder_comes_a_week_before_the_grant_lapses_once_with_a_link_that_lasts(
    world: World,
) -> None:
    await world.register(ALICE, "Alice")
    world.clock.advance(175 * 86400)  # 8 days before the 183-day lifetime
    await world.service.housekeeping()
    assert not any("Renew it" in t for t in world.chat.texts(ALICE))
    world.clock.advance(2 * 86400)
    await world.service.housekeeping()
    await world.service.housekeeping()
    [reminder] = [t for t in world.chat.texts(ALICE) if "Renew it" in t]
    link = reminder.rsplit(" ", 1)[1]
    world.clock.advance(5 * 86400)  # read days later: the link still works
    url = await world.service.registration.start(parse_qs(urlparse(link).query)["t"][0])
    state, code = world.music.approve(url, owner=ALICE)
    await world.service.registration.finish(state, code, None)
    world.clock.advance(177 * 86400)  # a new consent starts a new six months
    await world.service.housekeeping()
    assert len([t for t in world.chat.texts(ALICE) if "Renew it" in t]) == 2
