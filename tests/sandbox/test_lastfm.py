"""The fake Last.fm API: recent tracks, now playing, paging, private profiles, error codes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from sendsongs.sandbox.config import SandboxConfig

from .helpers import START, FakeClock

KEY = "bot-lastfm-key"
PAPER = "46X0dXeliHXD73sxexJx7d"
HAPPY = "2I0FOWHzP5dBiNNFLFsxVt"
NOW = int(START)
API = "/lastfm/2.0/"


@pytest.fixture
def config() -> SandboxConfig:
    # The key the sandbox accepts is the bot's own LASTFM_API_KEY.
    return SandboxConfig.from_env({"LASTFM_API_KEY": KEY})


async def dan(client: httpx.AsyncClient, **extra: Any) -> None:
    response = await client.post("/_sandbox/lastfm/users", json={"name": "dan", **extra})
    assert response.status_code == 200, response.text


async def scrobble(client: httpx.AsyncClient, **fields: Any) -> None:
    response = await client.post("/_sandbox/lastfm/listens", json={"user": "dan", **fields})
    assert response.status_code == 200, response.text


async def call(client: httpx.AsyncClient, method: str, **params: Any) -> httpx.Response:
    query = {"method": method, "user": "dan", "api_key": KEY, "format": "json", **params}
    return await client.get(API, params=query)


async def recent(client: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    response = await call(client, "user.getRecentTracks", **params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()["recenttracks"]
    return body


async def test_recent_tracks_are_newest_first_with_strings_for_numbers(
    client: httpx.AsyncClient,
) -> None:
    await dan(client)
    await scrobble(client, track_id=PAPER, ago=600)
    await scrobble(client, track_id=HAPPY, ago=60)
    body = await recent(client)
    assert body["@attr"] == {
        "user": "dan",
        "totalPages": "1",
        "page": "1",
        "perPage": "50",
        "total": "2",
    }
    newest, older = body["track"]
    assert newest["date"] == {"uts": str(NOW - 60), "#text": "18 Nov 2026, 11:05"}
    assert older["date"]["uts"] == str(NOW - 600)
    assert older["artist"] == {"mbid": "", "#text": "The Velvet Orchards"}
    assert older["name"] == "Paper Lanterns"
    assert older["album"] == {"mbid": "", "#text": "Low Tide Radio"}
    assert older["url"] == "https://www.last.fm/music/The+Velvet+Orchards/_/Paper+Lanterns"
    assert newest["artist"]["#text"] == "Mara Quell"  # scrobblers send the first artist
    assert "@attr" not in newest


async def test_now_playing_comes_first_without_a_date_and_beyond_the_limit(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    await dan(client)
    await scrobble(client, track_id=PAPER, ago=600)
    await scrobble(client, track_id=HAPPY, now_playing=True)
    body = await recent(client, limit=1)
    playing, last = body["track"]
    assert playing["@attr"] == {"nowplaying": "true"} and "date" not in playing
    assert playing["name"] == "Happy Now"
    assert last["name"] == "Paper Lanterns"
    assert body["@attr"]["total"] == "1"  # now playing is not a scrobble
    clock.advance(208)
    assert [t["name"] for t in (await recent(client))["track"]] == ["Paper Lanterns"]


async def test_from_and_to_are_exclusive(client: httpx.AsyncClient) -> None:
    await dan(client)
    for ago in (300, 200, 100):
        await scrobble(client, track_id=PAPER, ago=ago)

    async def times(**params: Any) -> list[int]:
        return [int(t["date"]["uts"]) for t in (await recent(client, **params))["track"]]

    assert await times(**{"from": NOW - 200}) == [NOW - 100]
    assert await times(to=NOW - 200) == [NOW - 300]
    assert await times(**{"from": NOW - 301, "to": NOW - 100}) == [NOW - 200, NOW - 300]


async def test_pages_and_limits(client: httpx.AsyncClient) -> None:
    await dan(client)
    for ago in (500, 400, 300, 200, 100):
        await scrobble(client, track_id=PAPER, ago=ago)
    second = await recent(client, limit=2, page=2)
    assert second["@attr"]["totalPages"] == "3" and second["@attr"]["page"] == "2"
    assert [int(t["date"]["uts"]) for t in second["track"]] == [NOW - 300, NOW - 400]
    assert (await recent(client, limit=2, page=4))["track"] == []
    for limit in (0, 1001):
        response = await call(client, "user.getRecentTracks", limit=limit)
        assert response.status_code == 400
        assert response.json() == {"error": 6, "message": "limit param out of bounds (1-1000)"}


async def test_extended_changes_the_artist_shape(client: httpx.AsyncClient) -> None:
    await dan(client)
    await scrobble(client, track_id=PAPER)
    [track] = (await recent(client, extended=1))["track"]
    assert track["artist"]["name"] == "The Velvet Orchards"
    assert track["artist"]["url"] == "https://www.last.fm/music/The+Velvet+Orchards"
    assert track["loved"] == "0"


async def test_a_scrobble_with_another_spelling_and_an_mbid(client: httpx.AsyncClient) -> None:
    await dan(client)
    mbid = "98255a8c-017a-4bc7-8dd6-1fa36124572b"
    await scrobble(
        client,
        artist="The Velvet Orchards",
        title="Paper Lanterns - Remastered 2011",
        recording_mbid=mbid,
    )
    [track] = (await recent(client))["track"]
    assert track["name"] == "Paper Lanterns - Remastered 2011" and track["mbid"] == mbid
    assert track["album"]["#text"] == ""


async def test_a_scrobble_appears_only_after_its_lag(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    await dan(client)
    await scrobble(client, track_id=PAPER, ago=10, visible_after=120)
    assert (await recent(client))["track"] == []
    clock.advance(120)
    [track] = (await recent(client))["track"]
    assert track["date"]["uts"] == str(NOW - 10)


async def test_a_private_profile_hides_recent_tracks_but_not_the_profile(
    client: httpx.AsyncClient,
) -> None:
    await dan(client, private=True, realname="Dan")
    hidden = await call(client, "user.getRecentTracks")
    assert hidden.status_code == 403
    assert hidden.json() == {"error": 17, "message": "Login: User required to be logged in"}
    info = await call(client, "User.getInfo")
    assert info.status_code == 200
    user = info.json()["user"]
    assert user["name"] == "dan" and user["realname"] == "Dan" and user["playcount"] == "0"
    assert user["registered"] == {"unixtime": str(NOW), "#text": NOW}
    await dan(client, private=False)
    assert (await call(client, "user.getRecentTracks")).status_code == 200


async def test_errors_carry_codes_and_statuses(client: httpx.AsyncClient) -> None:
    await dan(client)
    missing = await call(client, "user.getRecentTracks", user="nobody")
    assert missing.status_code == 404
    assert missing.json() == {"error": 6, "message": "User not found"}
    bad_key = await call(client, "user.getInfo", api_key=SandboxConfig().lastfm_api_key)
    assert bad_key.status_code == 403 and bad_key.json()["error"] == 10
    assert (await call(client, "user.getNothing")).json()["error"] == 3
    no_user = await client.get(API, params={"method": "user.getInfo", "api_key": KEY})
    assert no_user.json()["error"] == 5  # JSON only: format=json is required here
    anonymous = await call(client, "user.getInfo", user="")
    assert anonymous.status_code == 400 and anonymous.json()["error"] == 6


@pytest.mark.parametrize(
    ("code", "status"), [(29, 429), (8, 500), (11, 503), (16, 503), (17, 403), (26, 403)]
)
async def test_lastfm_faults_answer_their_code(
    client: httpx.AsyncClient, code: int, status: int
) -> None:
    await dan(client)
    fault = {"error": code, "method": "user.getRecentTracks"}
    assert (await client.post("/_sandbox/lastfm/faults", json=fault)).status_code == 200
    listed = (await client.get("/_sandbox/faults")).json()["faults"]
    assert listed[0]["error"] == code and listed[0]["status"] == status
    assert (await call(client, "user.getInfo")).status_code == 200  # another method
    failed = await call(client, "user.getRecentTracks")
    assert failed.status_code == status and failed.json()["error"] == code
    assert failed.json()["message"]
    assert (await call(client, "user.getRecentTracks")).status_code == 200


async def test_generic_faults_map_to_lastfm_codes(client: httpx.AsyncClient) -> None:
    await dan(client)
    await client.post("/_sandbox/faults", json={"path_prefix": "/lastfm/", "status": 429})
    limited = await call(client, "user.getInfo")
    assert limited.status_code == 429 and limited.json()["error"] == 29
    assert limited.json()["message"].startswith("Rate Limit Exceeded")
    calls = (await client.get("/_sandbox/stats")).json()["calls"]
    assert calls == {"GET /lastfm/2.0/?method=user.getinfo": 1}


async def test_single_track_quirk_and_call_log(client: httpx.AsyncClient) -> None:
    await dan(client)
    await scrobble(client, track_id=PAPER)
    assert isinstance((await recent(client))["track"], list)
    await client.post("/_sandbox/lastfm/quirks", json={"single_track_as_object": True})
    assert (await recent(client))["track"]["name"] == "Paper Lanterns"
    await client.get(
        API,
        params={"method": "user.getInfo", "user": "dan", "api_key": KEY, "format": "json"},
        headers={"User-Agent": "SendSongs/1.0 (+https://example.test)"},
    )
    last = (await client.get("/_sandbox/lastfm/calls")).json()["calls"][-1]
    assert last["user_agent"] == "SendSongs/1.0 (+https://example.test)"
    assert "api_key" not in last["query"] and last["query"]["user"] == "dan"
