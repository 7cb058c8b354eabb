"""The ListenBrainz source against the sandbox's ListenBrainz (in-process) and, for
what the sandbox cannot be made to send, MockTransport."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from sendsongs.domain.models import Connection
from sendsongs.errors import NotFound, RateLimited
from sendsongs.sandbox.app import create_sandbox_app
from sendsongs.sandbox.config import SandboxConfig
from sendsongs.sources.listenbrainz.client import ListenBrainzClient
from sendsongs.sources.listenbrainz.history import PAGE_SIZE, ListenBrainzHistory
from tests.sandbox.helpers import START, FakeClock

PAPER = "46X0dXeliHXD73sxexJx7d"
HAPPY = "2I0FOWHzP5dBiNNFLFsxVt"
NOW = datetime.fromtimestamp(START, UTC)
# whole-second stamps are read as the last instant of their second (sources/wire.py)
WITHIN_THE_SECOND = timedelta(microseconds=999_999)
MBID_1 = "8f3471b5-7e6a-48da-86a9-c1c07a0f47ae"
MBID_2 = "1b1ba1c4-3a0f-4c4a-9a56-0e4a2bb7c2a1"
AGENT = "SendSongs/test (+https://bot.test)"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def sandbox(clock: FakeClock) -> AsyncIterator[httpx.AsyncClient]:
    app = create_sandbox_app(SandboxConfig(), clock=clock)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox.test") as client:
        yield client


def history(http: httpx.AsyncClient, api_url: str = "http://sandbox.test/listenbrainz") -> Any:
    return ListenBrainzHistory(ListenBrainzClient(http, api_url=api_url, user_agent=AGENT))


def carol(account: str = "carol") -> Connection:
    return Connection("p_carol", "listenbrainz", account, NOW)


async def add(sandbox: httpx.AsyncClient, path: str, **body: Any) -> Any:
    response = await sandbox.post(f"/_sandbox/listenbrainz/{path}", json=body)
    assert response.status_code == 200, response.text
    return response.json()


async def test_every_id_a_listen_carries_is_read(sandbox: httpx.AsyncClient) -> None:
    await add(sandbox, "users", name="carol")
    await add(sandbox, "listens", user="carol", track_id=PAPER, ago=60, recording_mbid=MBID_1)
    [play] = (await history(sandbox).plays(carol(), NOW - timedelta(hours=1))).plays
    assert play.track_uri == f"spotify:track:{PAPER}"  # from the spotify_id URL
    assert play.isrc == "USXR11700231"
    assert play.duration_ms == 221_480
    assert play.recording_mbid == MBID_1
    assert (play.artist, play.title) == ("The Velvet Orchards", "Paper Lanterns")
    assert play.played_at == NOW - timedelta(seconds=60) + WITHIN_THE_SECOND


async def test_a_listen_with_names_only_and_a_mapped_mbid(sandbox: httpx.AsyncClient) -> None:
    await add(sandbox, "users", name="carol")
    await add(
        sandbox, "listens", user="carol", artist="The Velvet Orchards",
        title="Paper Lanterns (Remastered 2011)", mapped_recording_mbid=MBID_2, ago=5,
    )  # fmt: skip
    [play] = (await history(sandbox).plays(carol(), NOW - timedelta(hours=1))).plays
    assert (play.track_uri, play.isrc, play.duration_ms) == (None, None, None)
    assert play.recording_mbid == MBID_2
    assert play.title == "Paper Lanterns (Remastered 2011)"


async def test_only_listens_since_the_moment_oldest_first_and_never_now_playing(
    sandbox: httpx.AsyncClient,
) -> None:
    await add(sandbox, "users", name="carol")
    await add(sandbox, "listens", user="carol", track_id=HAPPY, ago=7200)  # before
    await add(sandbox, "listens", user="carol", track_id=PAPER, ago=600)
    await add(sandbox, "listens", user="carol", track_id=HAPPY, ago=60)
    await add(sandbox, "listens", user="carol", track_id=PAPER, now_playing=True)
    plays = (await history(sandbox).plays(carol(), NOW - timedelta(hours=1))).plays
    assert [p.track_uri for p in plays] == [f"spotify:track:{PAPER}", f"spotify:track:{HAPPY}"]


async def test_pages_back_to_the_moment_asked_for(sandbox: httpx.AsyncClient) -> None:
    await add(sandbox, "users", name="carol")
    for i in range(PAGE_SIZE + 30):  # more than a page within the window, two per second
        await add(sandbox, "listens", user="carol", track_id=PAPER, ago=1000 - i // 2)
    plays = (await history(sandbox).plays(carol(), NOW - timedelta(hours=1))).plays
    assert len({p.played_at for p in plays}) == (PAGE_SIZE + 30) // 2
    calls = (await sandbox.get("/_sandbox/listenbrainz/calls")).json()["calls"]
    assert len(calls) == 2
    assert all(call["user_agent"] == AGENT for call in calls)


async def test_a_late_listen_is_seen_by_the_next_read(
    sandbox: httpx.AsyncClient, clock: FakeClock
) -> None:
    """ListenBrainz's Spotify import lags: the listen appears minutes later with its
    earlier time, and the next read of the window finds it."""
    await add(sandbox, "users", name="carol")
    await add(sandbox, "listens", user="carol", track_id=PAPER, ago=60, visible_after=300)
    source = history(sandbox)
    assert (await source.plays(carol(), NOW - timedelta(hours=1))).plays == []
    clock.advance(400)
    [play] = (await source.plays(carol(), NOW - timedelta(hours=1))).plays
    assert play.played_at == NOW - timedelta(seconds=60) + WITHIN_THE_SECOND


async def test_unknown_user_is_not_found(sandbox: httpx.AsyncClient) -> None:
    with pytest.raises(NotFound):
        await history(sandbox).look_up("nobody", NOW)


async def test_429_becomes_a_pause_of_the_reset_time(sandbox: httpx.AsyncClient) -> None:
    await add(sandbox, "users", name="carol")
    await sandbox.post(
        "/_sandbox/faults",
        json={"path_prefix": "/listenbrainz/1/user/carol/listens", "status": 429, "retry_after": 7},
    )
    with pytest.raises(RateLimited) as raised:
        await history(sandbox).plays(carol(), NOW - timedelta(hours=1))
    assert raised.value.retry_after == 7


async def test_a_spent_window_stops_before_the_next_page() -> None:
    """X-RateLimit-Remaining: 0 with more to read: pause instead of earning a 429."""
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        listens = [
            {
                "listened_at": int(START) - i,
                "track_metadata": {"artist_name": "A", "track_name": "T"},
            }
            for i in range(PAGE_SIZE)
        ]
        headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset-In": "9"}
        return httpx.Response(200, json={"payload": {"listens": listens}}, headers=headers)

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        with pytest.raises(RateLimited) as raised:
            await history(http, "https://lb.test").plays(carol(), NOW - timedelta(hours=1))
    assert raised.value.retry_after == 9
    assert len(seen) == 1


async def test_look_up_counts_today_and_spells_the_name_as_listenbrainz_does(
    sandbox: httpx.AsyncClient,
) -> None:
    await add(sandbox, "users", name="Carol")
    for ago in (60, 600, 3600, 3 * 86400):
        await add(sandbox, "listens", user="Carol", track_id=PAPER, ago=ago)
    found = await history(sandbox).look_up("carol", NOW)
    assert found.account == "Carol"
    assert found.listens_today == 3
    assert found.latest is not None and found.latest.title == "Paper Lanterns"


async def test_look_up_of_an_empty_history(sandbox: httpx.AsyncClient) -> None:
    await add(sandbox, "users", name="carol")
    found = await history(sandbox).look_up("carol", NOW)
    assert (found.listens_today, found.latest) == (0, None)
