"""One failure stays one failure: a broken message or check never stops the others,
and a message handled twice (a crashed worker, a redelivery) shares once."""

from __future__ import annotations

from datetime import timedelta

from sendsongs.domain.models import Connection, IncomingMessage
from sendsongs.ports import History
from tests.service.conftest import TRACKS, World, at

ALICE, BOB, CAROL = "psid-alice", "psid-bob", "psid-carol"
HAPPY = "46X0dXeliHXD73sxexJx7d"


async def test_a_message_that_breaks_is_answered_and_the_next_person_still_served(
    world: World,
) -> None:
    await world.register(ALICE, "Alice")
    await world.register(BOB, "Bob")

    async def broken(track_id: str) -> None:
        raise RuntimeError("a bug in the look-up")

    world.music.track = broken  # type: ignore[method-assign,assignment]
    now = world.clock.now()
    await world.service.conversation.accept(
        [
            IncomingMessage(
                "messenger:a", at(ALICE), now, f'send_song name:"Bob" spotify:track:{HAPPY}'
            ),
            IncomingMessage("messenger:b", at(BOB), now, "help"),
        ]
    )
    assert await world.service.conversation.process_inbox() == 2
    assert "something went wrong on my side" in world.chat.last(ALICE).text
    assert "Send Songs tells you" in world.chat.last(BOB).text
    assert await world.service.conversation.process_inbox() == 0  # finished, not retried


async def test_a_check_that_breaks_does_not_stop_the_other_recipients(world: World) -> None:
    for psid, name in ((ALICE, "Alice"), (BOB, "Bob"), (CAROL, "Carol")):
        await world.register(psid, name)
    await world.say(ALICE, f'send_song name:"Bob" spotify:track:{HAPPY}')
    await world.say(ALICE, f'send_song name:"Carol" spotify:track:{HAPPY}')
    world.music.play(CAROL, HAPPY, world.clock.now() + timedelta(seconds=1))
    plays = world.music.plays

    async def bob_breaks(connection: Connection, since: object) -> History:
        if connection.account == BOB:
            raise RuntimeError("a bug reading Bob's history")
        return await plays(connection, since)  # type: ignore[arg-type]

    world.music.plays = bob_breaks  # type: ignore[method-assign]
    await world.tick(TRACKS[HAPPY].duration_ms / 1000)
    assert "Carol listened to Happy Now by Zedd, Elley Duhé!" in world.chat.texts(ALICE)
    assert len(await world.store.pending_shares(BOB)) == 1  # due again after its lease


async def test_a_message_handled_twice_shares_once(world: World) -> None:
    await world.register(ALICE, "Alice")
    await world.register(BOB, "Bob")
    message = IncomingMessage(
        "messenger:m1", at(ALICE), world.clock.now(), f'send_song name:"Bob" spotify:track:{HAPPY}'
    )
    await world.service.conversation.handle(message)
    await world.service.conversation.handle(message)  # e.g. a worker died before finishing it
    [share] = await world.store.pending_shares(BOB)
    assert share.id.startswith("share:messenger:m1:")
