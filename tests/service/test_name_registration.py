"""Connecting ListenBrainz or Last.fm by user name, and listens read from them."""

from __future__ import annotations

from datetime import timedelta

from sendsongs.domain.models import ConnectionStatus, Play, Reply
from sendsongs.errors import RateLimited, TransientError
from sendsongs.ports import Ports
from sendsongs.service import Service
from sendsongs.signing import Signer
from tests.fakes import FakeClock, MemoryStore
from tests.service.conftest import CHANNEL, SCHEDULE, TRACKS, RecordingChat, ScriptedMusic, World

ALICE, CAROL, DAN = "psid-alice", "psid-carol", "psid-dan"
BLINDING = "0VjIjW4GlUZAMYd2vXMi3b"  # "Blinding Lights" by The Weeknd, 200 s


def play(world: World, ago: float, artist: str, title: str, **ids: object) -> Play:
    return Play(world.clock.now() - timedelta(seconds=ago), artist=artist, title=title, **ids)  # type: ignore[arg-type]


async def test_listenbrainz_registration_says_what_it_found(world: World) -> None:
    world.listenbrainz.users["Carol"] = [
        play(world, 60, "The Weeknd", "Blinding Lights"),
        play(world, 3600, "Zedd", "Happy Now"),
        play(world, 3 * 86400, "Zedd", "Happy Now"),
    ]
    await world.say(CAROL, 'register listenbrainz:"carol" name:"Carol Danvers"')
    text = world.chat.last(CAROL).text
    assert "You're connected, Carol Danvers!" in text
    assert "ListenBrainz user Carol" in text
    assert "I see 2 listens today" in text and "Blinding Lights by The Weeknd" in text
    connection = await world.store.get_connection(CAROL)
    assert connection is not None
    assert (connection.source, connection.account, connection.grant) == (
        "listenbrainz", "Carol", None,
    )  # fmt: skip


async def test_an_empty_history_is_connected_with_what_to_do(world: World) -> None:
    world.listenbrainz.users["carol"] = []
    await world.say(CAROL, 'register listenbrainz:carol name:"Carol"')
    text = world.chat.last(CAROL).text
    assert "history is empty so far" in text
    assert "listenbrainz.org/settings/music-services" in text
    assert await world.store.get_connection(CAROL) is not None


async def test_a_quiet_history_names_its_latest_listen(world: World) -> None:
    world.lastfm.users["dan"] = [play(world, 3 * 86400, "Zedd", "Happy Now")]
    await world.say(DAN, 'register lastfm:"dan" name:"Dan"')
    assert "no listens today" in world.chat.last(DAN).text
    assert "Happy Now by Zedd" in world.chat.last(DAN).text


async def test_an_unknown_user_connects_nothing(world: World) -> None:
    await world.say(CAROL, 'register listenbrainz:"nobdy" name:"Carol"')
    text = world.chat.last(CAROL).text
    assert 'can\'t find a ListenBrainz user called "nobdy"' in text
    assert "listenbrainz.org/user/" in text
    assert await world.store.get_person(CAROL) is None


async def test_a_private_last_fm_profile_connects_nothing_and_says_how_to_fix_it(
    world: World,
) -> None:
    world.lastfm.users["dan"] = [play(world, 60, "Zedd", "Happy Now")]
    world.lastfm.private.add("dan")
    await world.say(DAN, 'register lastfm:"dan" name:"Dan"')
    text = world.chat.last(DAN).text
    assert "hides their recent listening" in text
    assert "Hide recent listening information" in text
    assert await world.store.get_person(DAN) is None


async def test_a_rate_limit_pauses_the_source_for_everyone(world: World) -> None:
    world.lastfm.users["dan"] = []
    world.lastfm.fail.append(RateLimited(120))
    await world.say(DAN, 'register lastfm:"dan" name:"Dan"')
    assert "Last.fm asked me to slow down" in world.chat.last(DAN).text
    assert await world.memory.paused_until("lastfm") is not None
    await world.say(DAN, 'register lastfm:"dan" name:"Dan"')  # still paused: not called
    assert "slow down" in world.chat.last(DAN).text
    assert await world.store.get_person(DAN) is None


async def test_a_failing_source_connects_nothing(world: World) -> None:
    world.listenbrainz.fail.append(TransientError("503"))
    await world.say(CAROL, 'register listenbrainz:"carol" name:"Carol"')
    assert "isn't answering" in world.chat.last(CAROL).text


async def test_without_a_last_fm_key_the_bot_says_it_does_not_offer_it() -> None:
    clock = FakeClock()
    music, chat = ScriptedMusic(clock), RecordingChat(clock)
    service = Service(
        Ports(
            stores=MemoryStore().roles(), channels={CHANNEL: chat}, catalog=music,
            histories={"spotify": music}, account_links={"spotify": music}, clock=clock,
        ),
        schedule=SCHEDULE, signer=Signer("a-test-secret-key-of-some-length", clock),
        public_url="https://bot.example",
    )  # fmt: skip
    world = World(service, MemoryStore(), chat, music, clock, None, None)  # type: ignore[arg-type]
    await world.say(DAN, 'register lastfm:"dan" name:"Dan"')
    assert "doesn't offer Last.fm" in chat.last(DAN).text
    await world.say(DAN, "help")
    assert "lastfm:" not in chat.last(DAN).text


async def test_help_lists_the_sources_and_the_one_in_use(world: World) -> None:
    await world.say(CAROL, "help")
    text = world.chat.last(CAROL).text
    assert 'register listenbrainz:"your user name"' in text
    assert 'register lastfm:"your user name"' in text
    assert "connected through" not in text
    world.listenbrainz.users["carol"] = []
    await world.say(CAROL, 'register listenbrainz:"carol" name:"Carol"')
    await world.say(CAROL, "help")
    assert "You're connected through ListenBrainz." in world.chat.last(CAROL).text


async def test_registering_again_switches_the_source(world: World) -> None:
    await world.register(CAROL, "Carol")
    world.listenbrainz.users["carol"] = []
    await world.say(CAROL, 'register listenbrainz:"carol"')  # keeps the name she has
    text = world.chat.last(CAROL).text
    assert "Switched, Carol: I'll watch ListenBrainz user carol instead of Spotify" in text
    connection = await world.store.get_connection(CAROL)
    assert connection is not None and connection.source == "listenbrainz"
    world.lastfm.users["carol"] = []
    await world.say(CAROL, 'register lastfm:"carol"')
    connection = await world.store.get_connection(CAROL)
    assert connection is not None and connection.source == "lastfm"


async def test_one_public_account_one_person(world: World) -> None:
    world.listenbrainz.users["carol"] = []
    await world.say(CAROL, 'register listenbrainz:"carol" name:"Carol"')
    await world.say(DAN, 'register listenbrainz:"carol" name:"Dan"')
    assert "already connected to someone else" in world.chat.last(DAN).text
    assert await world.store.get_person(DAN) is None


async def test_a_scrobble_from_another_player_counts_and_another_song_does_not(
    world: World,
) -> None:
    """Carol listens in Apple Music, scrobbled to ListenBrainz with names only."""
    world.listenbrainz.users["carol"] = []
    await world.register(ALICE, "Alice")
    await world.say(CAROL, 'register listenbrainz:"carol" name:"Carol"')
    await world.say(ALICE, f'send_song name:"Carol" https://open.spotify.com/track/{BLINDING}')
    assert "I'll tell you when they've listened" in world.chat.last(ALICE).text
    track = TRACKS[BLINDING]
    world.listenbrainz.users["carol"].append(play(world, -30, "The Weeknd", "Save Your Tears"))
    await world.tick(track.duration_ms / 1000 + 1)
    assert not any("listened to" in t for t in world.chat.texts(ALICE))
    world.listenbrainz.users["carol"].append(
        play(world, 0, "The Weeknd", "Blinding Lights - Remastered 2011", duration_ms=201_000)
    )
    await world.tick(SCHEDULE.fast_interval.total_seconds())
    assert "Carol listened to Blinding Lights by The Weeknd!" in world.chat.texts(ALICE)


async def test_a_history_made_private_later_is_told(world: World) -> None:
    world.lastfm.users["dan"] = []
    await world.register(ALICE, "Alice")
    await world.say(DAN, 'register lastfm:"dan" name:"Dan"')
    await world.say(ALICE, f'send_song name:"Dan" https://open.spotify.com/track/{BLINDING}')
    world.lastfm.private.add("dan")
    await world.tick(TRACKS[BLINDING].duration_ms / 1000 + 1)
    assert "I can no longer read the Last.fm history of dan" in world.chat.last(DAN).text
    connection = await world.store.get_connection(DAN)
    assert connection is not None and connection.status is ConnectionStatus.REFUSED
    assert isinstance(world.chat.last(DAN), Reply)
