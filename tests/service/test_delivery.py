"""Messages are never lost: the outbox and Messenger's 24-hour window."""

from __future__ import annotations

from datetime import timedelta

from tests.service.conftest import WINDOW, World

ALICE, BOB = "psid-alice", "psid-bob"


async def test_message_outside_the_window_waits_until_the_person_writes(world: World) -> None:
    await world.register(ALICE, "Alice")
    await world.register(BOB, "Bob")
    world.chat.unreachable.add(BOB)
    await world.say(ALICE, 'send_song name:"Bob" post:"yes!" spotify:track:46X0dXeliHXD73sxexJx7d')
    assert not any("Alice:" in t for t in world.chat.texts(BOB))
    assert world.chat.last(ALICE).text.startswith("Saved Happy Now by Zedd, Elley Duhé for Bob")
    assert WINDOW in world.chat.last(ALICE).text  # the channel's own reason, told truthfully
    assert await world.service.delivery.deliver_outbox() == 0  # still held
    world.chat.unreachable.discard(BOB)
    await world.say(BOB, "help")
    assert any(
        t.startswith("Alice: https://open.spotify.com/track/") for t in world.chat.texts(BOB)
    )


async def test_notifications_survive_a_failed_send(world: World) -> None:
    await world.register(ALICE, "Alice")
    await world.register(BOB, "Bob")
    await world.say(ALICE, 'send_song name:"Bob" spotify:track:46X0dXeliHXD73sxexJx7d')
    world.music.play(BOB, "46X0dXeliHXD73sxexJx7d", world.clock.now() + timedelta(seconds=5))
    world.chat.unreachable.add(ALICE)
    await world.tick(207)
    assert not any("Bob listened" in t for t in world.chat.texts(ALICE))
    world.chat.unreachable.discard(ALICE)
    await world.say(ALICE, "help")
    assert any("Bob listened to Happy Now" in t for t in world.chat.texts(ALICE))


async def test_a_message_refused_for_good_is_dropped_not_retried_forever(world: World) -> None:
    from sendsongs.errors import ServiceError

    async def refuse(*args: object) -> None:
        raise ServiceError("(#100) Invalid parameter")

    world.chat.send = refuse  # type: ignore[method-assign]
    await world.say(ALICE, "help")  # must not raise
    assert await world.service.delivery.deliver_outbox() == 0


async def test_housekeeping_forgets_old_handled_messages(world: World) -> None:
    await world.say(ALICE, "help")
    await world.service.housekeeping()
    assert len(world.memory.inbox) == 1  # still needed to drop a redelivery
    world.clock.advance(8 * 86400)
    await world.service.housekeeping()
    assert world.memory.inbox == {}


async def test_a_passing_send_failure_is_kept_and_retried_not_dropped(world: World) -> None:
    from sendsongs.errors import TransientError

    world.chat.failing.append(TransientError("503"))
    await world.say(ALICE, "help")
    assert world.chat.texts(ALICE) == []
    assert await world.service.delivery.deliver_outbox() == 0  # not before its retry time
    world.clock.advance(600)
    assert await world.service.delivery.deliver_outbox() == 1
    assert "Send Songs tells you" in world.chat.last(ALICE).text


async def test_an_outbox_retry_failing_again_is_kept_again(world: World) -> None:
    from sendsongs.errors import ChannelUnavailable

    world.chat.failing.append(ChannelUnavailable("(#190) token invalidated"))
    await world.say(ALICE, "help")
    world.clock.advance(600)
    world.chat.failing.append(ChannelUnavailable("(#190) token invalidated"))
    assert await world.service.delivery.deliver_outbox() == 0
    world.clock.advance(1200)
    assert await world.service.delivery.deliver_outbox() == 1


async def test_a_text_cut_in_two_is_not_repeated_when_its_second_part_is_retried(
    world: World,
) -> None:
    from sendsongs.domain.models import Reply
    from sendsongs.errors import PartlyDelivered, TransientError

    world.chat.failing.append(
        PartlyDelivered(Reply("part two"), TransientError("503 after part one"))
    )
    await world.say(ALICE, "help")  # part one reached Alice; part two failed
    world.clock.advance(600)
    assert await world.service.delivery.deliver_outbox() == 1
    assert world.chat.texts(ALICE) == ["part two"]


async def test_a_song_held_for_a_week_lapses_and_its_sender_is_told(world: World) -> None:
    await world.register(ALICE, "Alice")
    await world.register(BOB, "Bob")
    world.chat.unreachable.add(BOB)
    await world.say(ALICE, 'send_song name:"Bob" spotify:track:46X0dXeliHXD73sxexJx7d')
    assert "I keep it for a week" in world.chat.last(ALICE).text
    world.clock.advance(6 * 86400)
    await world.service.housekeeping()
    assert not any("gave up" in t for t in world.chat.texts(ALICE))
    world.clock.advance(2 * 86400)
    await world.service.housekeeping()
    assert "couldn't deliver your song to Bob within 7 days" in world.chat.last(ALICE).text
    world.chat.unreachable.discard(BOB)
    await world.say(BOB, "help")  # writing again finds nothing old waiting
    assert not any(t.startswith("Alice:") for t in world.chat.texts(BOB))
