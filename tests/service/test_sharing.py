"""Sending a song: every reply a sender or friend can get."""

from __future__ import annotations

import pytest

from sendsongs.domain.models import IncomingMessage, MessageKind
from tests.service.conftest import World, at

ALICE, BOB, BOB2 = "psid-alice", "psid-bob", "psid-bob2"
LINK = "https://open.spotify.com/track/46X0dXeliHXD73sxexJx7d?si=abc"


@pytest.fixture
async def friends(world: World) -> World:
    await world.register(ALICE, "Alice Liddell")
    await world.register(BOB, "Bob Jones")
    return world


async def test_share_delivers_link_with_pre_note_and_confirms(friends: World) -> None:
    await friends.say(ALICE, f'send_song name:"bob jones" pre:"You need this" {LINK}')
    friend = [s for s in friends.chat.sent if s.person_id == BOB][-1]
    assert friend.reply.text == (
        "Alice Liddell: You need this https://open.spotify.com/track/46X0dXeliHXD73sxexJx7d"
    )
    assert friend.kind is MessageKind.UPDATE
    assert friends.chat.last(ALICE).text.startswith(
        "Sent Happy Now by Zedd, Elley Duhé to Bob Jones."
    )
    [share] = await friends.store.pending_shares(BOB)
    assert share.sender_id == await friends.store.id_of(ALICE) and share.pre == "You need this"


async def test_the_seed_event_text_is_understood(friends: World) -> None:
    await friends.register("psid-nick", "Nick Shmkl")
    text = (
        "send_song https://open.spotify.com/track/46X0dXeliHXD73sxexJx7d?si=rLATOJAeSnqx9yZ11XYP5g"
        ' name:"Nick Shmkl" pre:"from curl" '
    )
    await friends.say(ALICE, text)
    assert friends.chat.last("psid-nick").text.startswith("Alice Liddell: from curl https://")


async def test_unregistered_sender_is_told_to_register(friends: World) -> None:
    await friends.say("psid-stranger", f'send_song name:"Bob Jones" {LINK}')
    assert "send register" in friends.chat.last("psid-stranger").text


async def test_unknown_friend_name(friends: World) -> None:
    await friends.say(ALICE, f'send_song name:"Carol" {LINK}')
    assert 'I don\'t know anyone called "Carol"' in friends.chat.last(ALICE).text
    assert await friends.store.pending_shares(BOB) == []


async def test_unknown_track(friends: World) -> None:
    await friends.say(ALICE, 'send_song name:"Bob Jones" spotify:track:0000000000000000000000')
    assert "Spotify doesn't know the song" in friends.chat.last(ALICE).text


async def test_not_a_track_link(friends: World) -> None:
    await friends.say(
        ALICE, 'send_song name:"Bob Jones" https://open.spotify.com/album/46X0dXeliHXD73sxexJx7d'
    )
    assert "isn't a Spotify song link" in friends.chat.last(ALICE).text


async def test_unknown_command_and_empty_message(friends: World) -> None:
    await friends.say(ALICE, "play something")
    assert 'I don\'t understand "play something"' in friends.chat.last(ALICE).text
    await friends.say(ALICE, "")
    assert "I only read text" in friends.chat.last(ALICE).text


async def test_help_lists_every_command(friends: World) -> None:
    await friends.say(ALICE, "help")
    text = friends.chat.last(ALICE).text
    for word in ("register", "register code:", "send_song", "pre:", "post:", "help"):
        assert word in text


async def test_namesakes_get_a_question_with_quick_replies(friends: World) -> None:
    friends.clock.advance(86400)
    await friends.register(BOB2, "BOB JONES")
    await friends.say(ALICE, f'send_song name:"Bob Jones" post:"told you" {LINK}')
    question = friends.chat.last(ALICE)
    assert "2 people are called Bob Jones" in question.text
    assert len(question.quick_replies) == 2
    assert await friends.store.pending_shares(BOB) == []
    await friends.say(
        ALICE, question.quick_replies[1].title, payload=question.quick_replies[1].payload
    )
    [share] = await friends.store.pending_shares(BOB2)
    assert share.post == "told you"
    assert await friends.store.pending_shares(BOB) == []


async def test_a_button_payload_is_a_short_token_whatever_the_notes(friends: World) -> None:
    friends.clock.advance(86400)
    await friends.register(BOB2, "BOB JONES")
    notes = '\U0001f3b5 "quoted" ' * 30  # two long notes with emoji and quotes
    await friends.say(
        ALICE, f'send_song name:"Bob Jones" pre:"{notes[:290]}" post:"{notes[:290]}" {LINK}'
    )
    for button in friends.chat.last(ALICE).quick_replies:
        assert len(button.payload.encode()) <= 64  # Telegram's callback_data limit


async def test_a_forged_or_spent_choice_reaches_nobody(friends: World) -> None:
    friends.clock.advance(86400)
    await friends.register(BOB2, "BOB JONES")
    await friends.say(ALICE, f'send_song name:"Bob Jones" {LINK}')
    question = friends.chat.last(ALICE)
    await friends.say(ALICE, "1. Someone", payload="c:forged-token")
    assert "already used or has expired" in friends.chat.last(ALICE).text
    await friends.say(BOB, "1.", payload=question.quick_replies[0].payload)  # not BOB's to use
    assert "If the song hasn't gone out, send the send_song command" in friends.chat.last(BOB).text
    assert await friends.store.pending_shares(BOB) == []
    await friends.say(ALICE, "1.", payload=question.quick_replies[0].payload)
    assert friends.chat.last(ALICE).text.startswith("Sent Happy Now")
    await friends.say(ALICE, "1.", payload=question.quick_replies[0].payload)  # used
    assert "status shows what you've sent" in friends.chat.last(ALICE).text
    await friends.say(ALICE, "1.", payload=question.quick_replies[0].payload)
    await friends.say(ALICE, "1.", payload=question.quick_replies[0].payload)  # pressed twice
    assert len(await friends.store.pending_shares(BOB)) == 1


async def test_redelivered_message_is_handled_once(friends: World) -> None:
    from sendsongs.domain.models import IncomingMessage

    message = IncomingMessage(
        "messenger:mid.dup", at(ALICE), friends.clock.now(), f'send_song name:"Bob Jones" {LINK}'
    )
    conversation = friends.service.conversation
    assert await conversation.accept([message]) == 1
    assert await conversation.accept([message]) == 0
    await conversation.process_inbox()
    await conversation.process_inbox()
    assert len(await friends.store.pending_shares(BOB)) == 1
    assert len([t for t in friends.chat.texts(BOB) if t.startswith("Alice Liddell:")]) == 1


async def test_spotify_trouble_during_lookup_asks_to_try_again(friends: World) -> None:
    from sendsongs.errors import ServiceError

    async def broken(track_id: str) -> None:
        raise ServiceError("invalid_client")

    friends.music.track = broken  # type: ignore[method-assign,assignment]
    await friends.say(ALICE, f'send_song name:"Bob Jones" {LINK}')
    assert "Spotify isn't answering right now" in friends.chat.last(ALICE).text
    assert await friends.store.pending_shares(BOB) == []


async def test_one_slow_lookup_holds_up_nobody_else(friends: World) -> None:
    import asyncio

    from sendsongs.domain.models import IncomingMessage

    gate = asyncio.Event()
    lookup = friends.music.track

    async def slow(track_id: str):  # type: ignore[no-untyped-def]
        await gate.wait()
        return await lookup(track_id)

    friends.music.track = slow  # type: ignore[method-assign]
    now = friends.clock.now()
    await friends.service.conversation.accept(
        [
            IncomingMessage("messenger:a", at(ALICE), now, f'send_song name:"Bob Jones" {LINK}'),
            IncomingMessage("messenger:b", at(BOB), now, "help"),
        ]
    )
    handling = asyncio.create_task(friends.service.conversation.process_inbox())
    for _ in range(100):
        await asyncio.sleep(0)
        if "Send Songs tells you" in friends.chat.last(BOB).text:
            break
    assert "Send Songs tells you" in friends.chat.last(BOB).text
    assert not friends.chat.last(ALICE).text.startswith("Sent")
    gate.set()
    assert await handling == 2
    assert friends.chat.last(ALICE).text.startswith("Sent Happy Now")


@pytest.mark.parametrize("host", ["spotify.link", "link.tospotify.com"])
async def test_a_short_link_is_followed_to_its_track(friends: World, host: str) -> None:
    friends.music.short_links["Zq9XwV3KpLm"] = "46X0dXeliHXD73sxexJx7d"
    await friends.say(ALICE, f'send_song name:"Bob Jones" https://{host}/Zq9XwV3KpLm')
    assert friends.chat.last(ALICE).text.startswith("Sent Happy Now by Zedd, Elley Duhé")
    [share] = await friends.store.pending_shares(BOB)
    assert share.track.uri == "spotify:track:46X0dXeliHXD73sxexJx7d"


async def test_a_short_link_to_anything_but_a_track_is_refused_clearly(friends: World) -> None:
    friends.music.short_links["AlbumCode1"] = None  # leads to an album
    await friends.say(ALICE, 'send_song name:"Bob Jones" https://spotify.link/AlbumCode1')
    assert "leads to an album, a playlist or another page" in friends.chat.last(ALICE).text
    assert await friends.store.pending_shares(BOB) == []


async def test_an_unknown_short_link_is_called_broken_not_an_album(friends: World) -> None:
    await friends.say(ALICE, 'send_song name:"Bob Jones" https://spotify.link/Gone12345')
    text = friends.chat.last(ALICE).text
    assert text.startswith("https://spotify.link/Gone12345 doesn't work: Spotify doesn't know")
    assert "album" not in text
    assert await friends.store.pending_shares(BOB) == []


async def test_a_bare_short_link_is_answered_with_the_command_to_send_it(friends: World) -> None:
    await friends.say(ALICE, "https://spotify.link/Zq9XwV3KpLm")
    assert 'send_song name:"Friend\'s Name" https://spotify.link/Zq9XwV3KpLm' in (
        friends.chat.last(ALICE).text
    )


async def test_a_song_in_an_attachment_is_suggested_with_its_own_link(friends: World) -> None:
    wrapped = (
        "https://l.facebook.com/l.php?u=https%3A%2F%2Fopen.spotify.com%2Ftrack%2F"
        "0VjIjW4GlUZAMYd2vXMi3b%3Fsi%3Dabc&h=x"
    )
    for text, attachment in (
        ("Harbor Song", wrapped),
        ("", "https://open.spotify.com/track/0VjIjW4GlUZAMYd2vXMi3b?si=abc"),
    ):
        message = IncomingMessage(
            f"messenger:att-{len(text)}", at(ALICE), friends.clock.now(), text,
            attachments=(attachment,),
        )  # fmt: skip
        await friends.service.conversation.handle(message)
        reply = friends.chat.last(ALICE).text
        assert "https://open.spotify.com/track/0VjIjW4GlUZAMYd2vXMi3b" in reply, reply
        assert "46X0dXeliHXD73sxexJx7d" not in reply  # never the help's example song


async def test_a_command_written_around_an_attached_song_sends_it(friends: World) -> None:
    message = IncomingMessage(
        "messenger:att-cmd", at(ALICE), friends.clock.now(), 'send_song name:"Bob Jones"',
        attachments=("https://open.spotify.com/track/0VjIjW4GlUZAMYd2vXMi3b",),
    )  # fmt: skip
    await friends.service.conversation.handle(message)
    assert friends.chat.last(ALICE).text.startswith("Sent Blinding Lights")


async def test_a_rate_limited_lookup_pauses_spotify_for_every_sender(friends: World) -> None:
    from sendsongs.errors import RateLimited

    calls = []
    lookup = friends.music.track

    async def limited(track_id: str) -> object:
        calls.append(track_id)
        raise RateLimited(0)

    friends.music.track = limited  # type: ignore[method-assign,assignment]
    await friends.say(ALICE, f'send_song name:"Bob Jones" {LINK}')
    assert "slow down" in friends.chat.last(ALICE).text
    friends.music.track = lookup  # type: ignore[method-assign]
    await friends.say(BOB, f'send_song name:"Alice Liddell" {LINK}')
    assert "slow down" in friends.chat.last(BOB).text  # the pause is app-wide
    assert len(calls) == 1
