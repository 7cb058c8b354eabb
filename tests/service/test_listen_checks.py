"""Listen detection as DESIGN.md §5 promises it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from sendsongs.domain.models import ShareStatus
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


async def test_cursor_moves_forward_and_is_sent_as_after(friends: World) -> None:
    await share(friends)
    shared_at = friends.clock.now()
    friends.music.play(BOB, BLINDING, shared_at + timedelta(seconds=60))
    await friends.tick(207)
    await friends.tick(300)
    (_, first_after), (_, second_after) = friends.music.history_calls
    assert first_after == shared_at - timedelta(milliseconds=1)
    assert second_after == shared_at + timedelta(seconds=60)


async def test_tokens_refresh_only_when_expired_and_rotation_is_stored(friends: World) -> None:
    await share(friends)
    await friends.tick(207)
    await friends.tick(300)
    assert friends.music.refreshes == 0
    before = await friends.store.get_grant(BOB)
    await friends.tick(3600)
    assert friends.music.refreshes == 1
    after = await friends.store.get_grant(BOB)
    assert before is not None and after is not None
    assert after.refresh_token != before.refresh_token


async def test_revoked_grant_marks_reconnect_and_tells_the_person(friends: World) -> None:
    await share(friends)
    friends.music.revoked.add(BOB)
    await friends.tick(207)
    person = await friends.store.get_person(BOB)
    assert person is not None and person.needs_reconnect
    assert any("Send register to reconnect" in t for t in friends.chat.texts(BOB))
    calls = len(friends.music.history_calls)
    await friends.tick(300)
    assert len(friends.music.history_calls) == calls  # no more calls with a dead grant
    friends.clock.advance(7 * 86400)
    await friends.tick(0)
    assert any("expired" in t for t in friends.chat.texts(ALICE))


async def test_rate_limit_reschedules_after_retry_after(friends: World) -> None:
    await share(friends)
    friends.music.fail_history.append(RateLimited(120))
    friends.clock.advance(207)
    sweep = await friends.service.checks.run_due()
    assert sweep.backoff == 120
    [pending] = await friends.store.pending_shares(BOB)
    assert pending.next_check_at == friends.clock.now() + timedelta(seconds=120)


async def test_transient_failure_is_retried_and_loses_nothing(friends: World) -> None:
    await share(friends)
    friends.music.play(BOB, HAPPY, friends.clock.now() + timedelta(seconds=1))
    friends.music.fail_history.append(TransientError("502"))
    await friends.tick(207)
    assert not any("Bob listened" in t for t in friends.chat.texts(ALICE))
    await friends.tick(30)
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
