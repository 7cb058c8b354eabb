"""The Last.fm source against the sandbox's Last.fm (in-process): scrobbles, paging,
now playing, private profiles, unknown users, error 29, the User-Agent."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from sendsongs.domain.models import Connection
from sendsongs.errors import AccessRefused, NotFound, RateLimited, ServiceError, TransientError
from sendsongs.sandbox.app import create_sandbox_app
from sendsongs.sandbox.config import SandboxConfig
from sendsongs.sources.lastfm.client import LastfmClient
from sendsongs.sources.lastfm.history import PAGE_SIZE, LastfmHistory
from tests.sandbox.helpers import START, FakeClock

KEY = "bot-lastfm-key"
PAPER = "46X0dXeliHXD73sxexJx7d"
HAPPY = "2I0FOWHzP5dBiNNFLFsxVt"
MBID = "8f3471b5-7e6a-48da-86a9-c1c07a0f47ae"
NOW = datetime.fromtimestamp(START, UTC)
# whole-second stamps are read as the last instant of their second (sources/wire.py)
WITHIN_THE_SECOND = timedelta(microseconds=999_999)
HOUR_AGO = NOW - timedelta(hours=1)
AGENT = "SendSongs/test (+https://bot.test)"
DAN = Connection("p_dan", "lastfm", "dan", NOW)


@pytest.fixture
async def sandbox() -> AsyncIterator[httpx.AsyncClient]:
    app = create_sandbox_app(SandboxConfig.from_env({"LASTFM_API_KEY": KEY}), clock=FakeClock())
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox.test") as client:
        yield client


def history(http: httpx.AsyncClient, key: str = KEY, gap: float = 0.0) -> LastfmHistory:
    url = "http://sandbox.test/lastfm/2.0/"
    return LastfmHistory(
        LastfmClient(http, api_url=url, api_key=key, user_agent=AGENT, min_gap=gap)
    )


async def add(sandbox: httpx.AsyncClient, path: str, **body: Any) -> Any:
    response = await sandbox.post(f"/_sandbox/lastfm/{path}", json=body)
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_scrobble_carries_names_and_maybe_an_mbid(sandbox: httpx.AsyncClient) -> None:
    await add(sandbox, "users", name="dan")
    await add(sandbox, "listens", user="dan", track_id=PAPER, ago=60, recording_mbid=MBID)
    [play] = (await history(sandbox).plays(DAN, HOUR_AGO)).plays
    assert (play.artist, play.title) == ("The Velvet Orchards", "Paper Lanterns")
    assert play.recording_mbid == MBID
    assert (play.track_uri, play.isrc) == (None, None)  # Last.fm keeps neither
    assert play.played_at == NOW - timedelta(seconds=60) + WITHIN_THE_SECOND


async def test_only_scrobbles_since_the_moment_oldest_first_never_now_playing(
    sandbox: httpx.AsyncClient,
) -> None:
    await add(sandbox, "users", name="dan")
    await add(sandbox, "listens", user="dan", track_id=HAPPY, ago=7200)
    await add(sandbox, "listens", user="dan", track_id=PAPER, ago=600)
    await add(sandbox, "listens", user="dan", track_id=HAPPY, ago=60)
    await add(sandbox, "listens", user="dan", track_id=PAPER, now_playing=True)
    plays = (await history(sandbox).plays(DAN, HOUR_AGO)).plays
    assert [p.title for p in plays] == ["Paper Lanterns", "Happy Now"]


async def test_reads_every_page_of_the_window(sandbox: httpx.AsyncClient) -> None:
    await add(sandbox, "users", name="dan")
    for i in range(PAGE_SIZE + 5):
        await add(sandbox, "listens", user="dan", track_id=PAPER, ago=3000 - i)
    plays = (await history(sandbox).plays(DAN, HOUR_AGO)).plays
    assert len(plays) == PAGE_SIZE + 5
    calls = (await sandbox.get("/_sandbox/lastfm/calls")).json()["calls"]
    assert len(calls) == 2 and all(call["user_agent"] == AGENT for call in calls)


async def test_a_single_scrobble_sent_as_an_object_is_read(sandbox: httpx.AsyncClient) -> None:
    await add(sandbox, "users", name="dan")
    await add(sandbox, "quirks", single_track_as_object=True)
    await add(sandbox, "listens", user="dan", track_id=PAPER, ago=60)
    assert len((await history(sandbox).plays(DAN, HOUR_AGO)).plays) == 1


async def test_a_private_profile_is_access_refused(sandbox: httpx.AsyncClient) -> None:
    await add(sandbox, "users", name="dan", private=True)
    with pytest.raises(AccessRefused):
        await history(sandbox).plays(DAN, HOUR_AGO)
    with pytest.raises(AccessRefused):
        await history(sandbox).look_up("dan", NOW)


async def test_an_unknown_user_is_not_found(sandbox: httpx.AsyncClient) -> None:
    with pytest.raises(NotFound):
        await history(sandbox).look_up("nobody", NOW)


async def test_error_29_is_rate_limited(sandbox: httpx.AsyncClient) -> None:
    await add(sandbox, "users", name="dan")
    await add(sandbox, "faults", error=29, method="user.getRecentTracks")
    with pytest.raises(RateLimited):
        await history(sandbox).plays(DAN, HOUR_AGO)


async def test_passing_and_lasting_failures(sandbox: httpx.AsyncClient) -> None:
    await add(sandbox, "users", name="dan")
    await add(sandbox, "faults", error=16, method="user.getRecentTracks")
    with pytest.raises(TransientError):
        await history(sandbox).plays(DAN, HOUR_AGO)
    with pytest.raises(ServiceError, match="LASTFM_API_KEY"):
        await history(sandbox, key="wrong").plays(DAN, HOUR_AGO)


async def test_look_up_counts_today_and_takes_last_fms_spelling(
    sandbox: httpx.AsyncClient,
) -> None:
    await add(sandbox, "users", name="Dan")
    for ago in (60, 600, 3 * 86400):
        await add(sandbox, "listens", user="Dan", track_id=PAPER, ago=ago)
    found = await history(sandbox).look_up("dan", NOW)
    assert (found.account, found.listens_today) == ("Dan", 2)
    assert (
        found.latest is not None
        and found.latest.played_at == NOW - timedelta(seconds=60) + WITHIN_THE_SECOND
    )


async def test_look_up_finds_an_older_scrobble_when_none_is_recent(
    sandbox: httpx.AsyncClient,
) -> None:
    await add(sandbox, "users", name="dan")
    await add(sandbox, "listens", user="dan", track_id=PAPER, ago=3 * 86400)
    found = await history(sandbox).look_up("dan", NOW)
    assert found.listens_today == 0
    assert found.latest is not None and found.latest.title == "Paper Lanterns"


async def test_calls_are_spaced_out(sandbox: httpx.AsyncClient) -> None:
    """Last.fm may suspend apps making several calls a second."""
    await add(sandbox, "users", name="dan")
    source = history(sandbox, gap=0.1)
    started = time.monotonic()
    for _ in range(4):
        await source.plays(DAN, HOUR_AGO)
    assert time.monotonic() - started >= 0.3
