"""Listen detection as docs/how-it-works.md promises it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from sendsongs.domain.models import ConnectionStatus, ShareStatus
from sendsongs.errors import RateLimited, TransientError
from tests.service.conftest import World

ALICE, BOB = "psid-alice", "psid-bob"
HAPPY = "46X0dXeliHXD73sxexJx7d"  # 207 s
HAPPY_ALBUM = "2I0FOWHzP5dBiNNFLFsxVt"  # same ISRC
BLINDING = "0VjIjW4GlUZAMYd2vXMi3b"  # 200 s


@pytest.fixture
async def friends(world: World) -> World:
    await world.register(ALICE, "Alice")
    await world.register(BOB, "Bob")
    return world


async def share(world: World, track_id: str = HAPPY, post: str | None = None) -> None:
    note = f' post:"{post}"' if post else ""
    await world.say(ALICE, f'send_song name:"Bob"{note} spotify:track:{track_id}')


async def test_no_check_before_the_song_could_have_been_heard(friends: World) -> None:
    await share(friends)
    await friends.tick(206)
    assert friends.music.history_calls == []
    await friends.tick(1)
    assert len(friends.music.history_calls) == 1


async def test_a_play_after_the_share_is_a_listen(friends: World) -> None:
    await share(friends, post="Told you!")
    friends.music.play(BOB, HAPPY, friends.clock.now() + timedelta(seconds=100))
    await friends.tick(207)
    assert "Bob listened to Happy Now by Zedd, Elley Duhé!" in friends.chat.texts(ALICE)
    assert 'Alice says "Told you!" about Happy Now by Zedd, Elley Duhé' in friends.chat.texts(BOB)
    assert await friends.store.pending_shares(BOB) == []
    assert await friends.store.next_check_at(BOB) is None


async def test_a_play_from_before_the_share_does_not_count(friends: World) -> None:
    friends.music.play(BOB, HAPPY, friends.clock.now() - timedelta(days=30))
    friends.music.play(BOB, HAPPY, friends.clock.now() - timedelta(seconds=1))
    await share(friends)
    await friends.tick(300)
    assert not any("Bob listened" in t for t in friends.chat.texts(ALICE))
    assert len(await friends.store.pending_shares(BOB)) == 1


async def test_the_same_recording_on_another_release_counts(friends: World) -> None:
    await share(friends, HAPPY)
    friends.music.play(BOB, HAPPY_ALBUM, friends.clock.now() + timedelta(seconds=210))
    await friends.tick(300)
    assert any("Bob listened to Happy Now" in t for t in friends.chat.texts(ALICE))


async def test_one_history_call_settles_every_share_of_a_recipient(friends: World) -> None:
    await share(friends, HAPPY)
    await share(friends, BLINDING)
    await friends.tick(210)
    assert len(friends.music.history_calls) == 1
    friends.music.play(BOB, HAPPY, friends.clock.now())
    friends.music.play(BOB, BLINDING, friends.clock.now())
    await friends.tick(300)
    assert len(friends.music.history_calls) == 2
    assert len([t for t in friends.chat.texts(ALICE) if "Bob listened" in t]) == 2


async def test_fast_then_slow_interval_then_expiry(friends: World) -> None:
    await share(friends)
    await friends.tick(207)  # first check
    for _ in range(11):  # fast window: every 5 minutes up to one hour
        await friends.tick(300)
    fast_calls = len(friends.music.history_calls)
    assert fast_calls == 12
    await friends.tick(1800)
    assert len(friends.music.history_calls) == fast_calls + 1  # one fast-interval straggler
    await friends.tick(3600)
    assert len(friends.music.history_calls) == fast_calls + 2
    friends.clock.advance(7 * 86400)
    await friends.tick(0)
    [expired] = [t for t in friends.chat.texts(ALICE) if "expired" in t]
    assert (
        expired
        == "Bob didn't listen to Happy Now by Zedd, Elley Duhé within 7 days; the share expired."
    )
    assert await friends.store.next_check_at(BOB) is None


async def test_each_check_reads_the_window_since_the_earliest_pending_share(
    friends: World,
) -> None:
    await share(friends)
    shared_at = friends.clock.now()
    friends.music.play(BOB, BLINDING, shared_at + timedelta(seconds=60))
    await friends.tick(207)
    await friends.tick(300)
    assert [since for _, since in friends.music.history_calls] == [shared_at, shared_at]


async def test_a_play_that_reaches_the_history_late_still_counts(friends: World) -> None:
    """Offline listening: the play shows up after newer ones, with its old time."""
    await share(friends)
    played_offline = friends.clock.now() + timedelta(seconds=10)
    friends.music.play(BOB, BLINDING, played_offline + timedelta(seconds=3))
    await friends.tick(207)  # sees only the newer play of another song
    friends.music.play(BOB, HAPPY, played_offline)  # arrives late, with its real time
    await friends.tick(300)
    assert "Bob listened to Happy Now by Zedd, Elley Duhé!" in friends.chat.texts(ALICE)


async def test_a_share_added_while_its_recipients_check_is_in_flight_is_not_skipped(
    friends: World,
) -> None:
    await share(friends, BLINDING)
    second_shared: list[object] = []

    async def alice_shares_again() -> None:
        if not second_shared:  # once, while the first history request is in flight
            second_shared.append(True)
            await share(friends, HAPPY)
            friends.music.play(BOB, HAPPY, friends.clock.now() + timedelta(seconds=1))

    friends.music.in_flight.append(alice_shares_again)
    await friends.tick(200)
    friends.music.in_flight.clear()
    await friends.tick(300)
    assert "Bob listened to Happy Now by Zedd, Elley Duhé!" in friends.chat.texts(ALICE)
    [still_pending] = await friends.store.pending_shares(BOB)
    assert still_pending.track.name == "Blinding Lights"


async def test_revoked_grant_marks_reconnect_and_tells_the_person(friends: World) -> None:
    await share(friends)
    friends.music.revoked.add(BOB)
    await friends.tick(207)
    connection = await friends.store.get_connection(BOB)
    assert connection is not None and connection.status is ConnectionStatus.REVOKED
    [notice] = [t for t in friends.chat.texts(BOB) if "Reconnect with this link" in t]
    assert "https://bot.example/spotify/login?t=" in notice
    calls = len(friends.music.history_calls)
    await friends.tick(300)
    assert len(friends.music.history_calls) == calls  # no more calls with a dead grant
    friends.clock.advance(7 * 86400)
    await friends.tick(0)
    assert any("couldn't read Bob's play history" in t for t in friends.chat.texts(ALICE))
    assert not any("didn't listen" in t for t in friends.chat.texts(ALICE))


@pytest.mark.parametrize("retry_after", [0.0, 120.0])
async def test_a_rate_limit_never_makes_checks_more_frequent(
    friends: World, retry_after: float
) -> None:
    await share(friends)
    friends.music.fail_history.append(RateLimited(retry_after))
    await friends.tick(207)
    [pending] = await friends.store.pending_shares(BOB)
    assert pending.next_check_at >= friends.clock.now() + timedelta(minutes=5)
    paused = await friends.memory.paused_until("spotify")
    assert paused is not None and paused >= friends.clock.now() + timedelta(seconds=30)


async def test_a_rate_limit_pauses_the_source_for_every_recipient(friends: World) -> None:
    await friends.register("psid-carol", "Carol")
    await share(friends)
    await friends.say(ALICE, f'send_song name:"Carol" spotify:track:{BLINDING}')
    friends.music.fail_history.append(RateLimited(3600))
    await friends.tick(207)  # Carol's check (200 s) hit the limit; Bob's is due now
    assert len(friends.music.history_calls) == 1  # Bob's check waits for the pause


async def test_a_share_expires_on_time_while_the_source_keeps_failing(friends: World) -> None:
    await share(friends)
    friends.music.fail_history.extend(TransientError("502") for _ in range(1000))
    await friends.tick(207)
    for _ in range(7 * 24):
        await friends.tick(3600)
    [expired] = await friends.store.shares_sent_by(ALICE, 1)
    assert expired.status is ShareStatus.EXPIRED
    assert expired.settled_at is not None
    assert expired.settled_at - expired.shared_at <= timedelta(days=7, hours=1)
    assert any("couldn't read Bob's play history" in t for t in friends.chat.texts(ALICE))


async def test_transient_failure_is_retried_and_loses_nothing(friends: World) -> None:
    await share(friends)
    friends.music.play(BOB, HAPPY, friends.clock.now() + timedelta(seconds=1))
    friends.music.fail_history.append(TransientError("502"))
    await friends.tick(207)
    assert not any("Bob listened" in t for t in friends.chat.texts(ALICE))
    await friends.tick(300)
    assert any("Bob listened" in t for t in friends.chat.texts(ALICE))


async def test_a_crashed_workers_claim_comes_due_again(friends: World) -> None:
    await share(friends)
    friends.music.play(BOB, HAPPY, friends.clock.now() + timedelta(seconds=1))
    friends.clock.advance(207)
    now = friends.clock.now()
    claimed = await friends.store.claim_due_checks(now, now + timedelta(seconds=60), 10)
    assert len(claimed) == 1  # ...and the worker holding it dies here
    await friends.tick(30)
    assert not any("Bob listened" in t for t in friends.chat.texts(ALICE))
    await friends.tick(31)
    assert any("Bob listened" in t for t in friends.chat.texts(ALICE))
    [listened] = [s for s in await friends.store.shares_sent_by(ALICE, 10)]
    assert listened.status is ShareStatus.LISTENED


async def test_a_refusal_keeps_the_normal_schedule_instead_of_hammering(friends: World) -> None:
    from sendsongs.errors import ServiceError

    await share(friends)
    friends.music.fail_history.append(ServiceError("403 user not registered"))
    await friends.tick(207)
    [pending] = await friends.store.pending_shares(BOB)
    assert pending.next_check_at == friends.clock.now() + timedelta(minutes=5)
