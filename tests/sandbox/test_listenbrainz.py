"""The fake ListenBrainz API: listens windows, playing-now, lag, rate-limit headers, faults."""

from __future__ import annotations

from typing import Any

import httpx
from starlette.applications import Starlette

from sendsongs.sandbox.history_world import Listen

from .helpers import START, FakeClock

PAPER = "46X0dXeliHXD73sxexJx7d"
HAPPY = "2I0FOWHzP5dBiNNFLFsxVt"
LISTENS = "/listenbrainz/1/user/carol/listens"
MBID = "98255a8c-017a-4bc7-8dd6-1fa36124572b"
NOW = int(START)


async def carol(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.post("/_sandbox/listenbrainz/users", json={"name": "carol"})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def listen(client: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    response = await client.post("/_sandbox/listenbrainz/listens", json={"user": "carol", **fields})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def listens(client: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    response = await client.get(LISTENS, params=params)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["payload"]["listens"]
    return found


async def test_listens_are_newest_first_with_the_documented_shape(
    client: httpx.AsyncClient,
) -> None:
    await carol(client)
    await listen(client, track_id=PAPER, ago=600)
    await listen(client, track_id=HAPPY, ago=60)
    response = await client.get("/listenbrainz/1/user/Carol/listens")
    assert response.status_code == 200
    payload = response.json()["payload"]
    assert payload["count"] == 2 and payload["user_id"] == "Carol"
    assert payload["latest_listen_ts"] == NOW - 60
    assert payload["oldest_listen_ts"] == NOW - 600
    newest, older = payload["listens"]
    assert [newest["listened_at"], older["listened_at"]] == [NOW - 60, NOW - 600]
    assert {"inserted_at", "listened_at", "recording_msid", "track_metadata"} <= set(newest)
    metadata = older["track_metadata"]
    assert metadata["artist_name"] == "The Velvet Orchards"
    assert metadata["track_name"] == "Paper Lanterns"
    assert metadata["release_name"] == "Low Tide Radio"
    info = metadata["additional_info"]
    assert info["spotify_id"] == f"https://open.spotify.com/track/{PAPER}"  # a URL, as documented
    assert info["isrc"] == "USXR11700231" and info["duration_ms"] == 221_480
    assert info["music_service"] == "spotify.com"
    # Two artists are joined, as ListenBrainz's Spotify importer does.
    assert newest["track_metadata"]["artist_name"] == "Mara Quell, Juno Ashby"


async def test_a_listen_with_only_artist_and_title_carries_no_ids(
    client: httpx.AsyncClient,
) -> None:
    await carol(client)
    await listen(
        client, artist="The Velvet Orchards", title="Paper Lanterns (Remastered 2011)", ago=90
    )
    await listen(client, artist="Mara Quell", title="Happy Now", mapped_recording_mbid=MBID)
    mapped, bare = await listens(client)
    assert bare["track_metadata"]["track_name"] == "Paper Lanterns (Remastered 2011)"
    info = bare["track_metadata"]["additional_info"]
    assert not {"spotify_id", "isrc", "recording_mbid", "duration_ms"} & set(info)
    assert "mbid_mapping" not in bare["track_metadata"]
    # The service's own mapper found the recording: mbid_mapping only, not additional_info.
    assert mapped["track_metadata"]["mbid_mapping"]["recording_mbid"] == MBID
    assert "recording_mbid" not in mapped["track_metadata"]["additional_info"]


async def test_min_ts_and_max_ts_are_exclusive_and_count_limits(
    client: httpx.AsyncClient,
) -> None:
    await carol(client)
    for ago in (300, 200, 100):
        await listen(client, track_id=PAPER, ago=ago)
    assert [x["listened_at"] for x in await listens(client, min_ts=NOW - 200)] == [NOW - 100]
    assert [x["listened_at"] for x in await listens(client, max_ts=NOW - 200)] == [NOW - 300]
    both = await listens(client, min_ts=NOW - 301, max_ts=NOW - 100)
    assert [x["listened_at"] for x in both] == [NOW - 200, NOW - 300]
    assert [x["listened_at"] for x in await listens(client, count=1)] == [NOW - 100]
    # With only min_ts the store reads forward from it: the listen just after min_ts.
    forward = await listens(client, min_ts=NOW - 301, count=1)
    assert [x["listened_at"] for x in forward] == [NOW - 300]


async def test_count_defaults_to_25_and_is_capped_at_1000(
    client: httpx.AsyncClient, app: Starlette
) -> None:
    await carol(client)
    world = app.state.history.listenbrainz
    for i in range(1001):
        world.add(Listen("carol", "Kaia Lund", "Slow Satellites", NOW - 10 * i - 10, NOW))
    assert len(await listens(client)) == 25
    assert len(await listens(client, count=5000)) == 1000


async def test_bad_arguments_and_unknown_users_answer_code_and_error(
    client: httpx.AsyncClient,
) -> None:
    await carol(client)
    cases = {
        "count=abc": "Invalid count argument: abc",
        "count=-1": "Number of items requested should be positive",
        f"min_ts={NOW}&max_ts={NOW}": "min_ts should be less than max_ts",
    }
    for query, message in cases.items():
        response = await client.get(f"{LISTENS}?{query}")
        assert response.status_code == 400
        assert response.json() == {"code": 400, "error": message}
    for path in ("listens", "playing-now"):
        missing = await client.get(f"/listenbrainz/1/user/nobody/{path}")
        assert missing.status_code == 404
        assert missing.json() == {"code": 404, "error": "Cannot find user: nobody"}


async def test_an_imported_listen_appears_only_after_its_lag(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    await carol(client)
    await listen(client, track_id=PAPER, ago=30, visible_after=300)
    assert await listens(client) == []
    clock.advance(300)
    [late] = await listens(client)
    assert late["listened_at"] == NOW - 30  # the play time, earlier than its arrival
    assert late["inserted_at"] == NOW + 300


async def test_playing_now_is_not_a_listen_and_ends_with_the_track(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    await carol(client)
    await listen(client, track_id=HAPPY, now_playing=True)
    response = await client.get("/listenbrainz/1/user/carol/playing-now")
    payload = response.json()["payload"]
    assert payload["playing_now"] is True and payload["count"] == 1
    [entry] = payload["listens"]
    assert entry["playing_now"] is True and "listened_at" not in entry
    assert entry["track_metadata"]["track_name"] == "Happy Now"
    assert await listens(client) == []
    clock.advance(208)  # the track's length
    ended = await client.get("/listenbrainz/1/user/carol/playing-now")
    assert ended.json()["payload"]["listens"] == []


async def test_every_answer_carries_rate_limit_headers(client: httpx.AsyncClient) -> None:
    await carol(client)
    for path in (LISTENS, "/listenbrainz/1/user/nobody/listens"):
        response = await client.get(path)
        assert int(response.headers["X-RateLimit-Remaining"]) >= 0
        assert int(response.headers["X-RateLimit-Limit"]) > 0
        reset_in = int(response.headers["X-RateLimit-Reset-In"])
        assert 0 < reset_in <= 10
        assert int(response.headers["X-RateLimit-Reset"]) == NOW + reset_in


async def test_a_configured_limit_refuses_with_429_until_the_window_resets(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    await carol(client)
    await client.post("/_sandbox/listenbrainz/rate-limit", json={"limit": 2, "window": 10})
    first = await client.get(LISTENS)
    assert first.headers["X-RateLimit-Remaining"] == "1"
    assert (await client.get(LISTENS)).headers["X-RateLimit-Remaining"] == "0"
    refused = await client.get(LISTENS)
    assert refused.status_code == 429
    assert refused.json()["code"] == 429
    assert refused.json()["error"].startswith("You have exceeded your rate limit.")
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    clock.advance(int(refused.headers["X-RateLimit-Reset-In"]))
    assert (await client.get(LISTENS)).status_code == 200


async def test_injected_faults_wear_listenbrainz_shapes(client: httpx.AsyncClient) -> None:
    await carol(client)
    await client.post(
        "/_sandbox/faults", json={"path_prefix": LISTENS, "status": 429, "retry_after": 7}
    )
    await client.post("/_sandbox/faults", json={"path_prefix": "/listenbrainz/", "status": 503})
    limited = await client.get(LISTENS)
    assert limited.status_code == 429
    assert limited.headers["X-RateLimit-Remaining"] == "0"
    assert limited.headers["X-RateLimit-Reset-In"] == "7"
    assert "Retry-After" not in limited.headers  # ListenBrainz sends only its own headers
    down = await client.get(LISTENS)
    assert down.status_code == 503 and down.json()["code"] == 503
    assert (await client.get(LISTENS)).status_code == 200
    stats = (await client.get("/_sandbox/stats")).json()["calls"]
    assert stats["GET /listenbrainz/1/user/{user}/listens"] == 3


async def test_validate_token_and_the_call_log(client: httpx.AsyncClient) -> None:
    token = (await carol(client))["token"]
    valid = await client.get("/listenbrainz/1/validate-token", params={"token": token})
    assert valid.json() == {
        "code": 200,
        "message": "Token valid.",
        "valid": True,
        "user_name": "carol",
    }
    invalid = await client.get("/listenbrainz/1/validate-token", params={"token": "nope"})
    assert invalid.json()["valid"] is False
    await client.get(LISTENS, params={"min_ts": NOW}, headers={"User-Agent": "SendSongs/1.0"})
    last = (await client.get("/_sandbox/listenbrainz/calls")).json()["calls"][-1]
    assert last["path"] == LISTENS and last["query"] == {"min_ts": str(NOW)}
    assert last["user_agent"] == "SendSongs/1.0" and last["status"] == 200


async def test_control_refuses_bad_listens(client: httpx.AsyncClient) -> None:
    await carol(client)
    bad = [
        ({"user": "nobody", "artist": "A", "title": "B"}, 404),
        ({"user": "carol", "artist": "A"}, 400),
        ({"user": "carol", "artist": "A", "title": "B", "recording_mbid": "x"}, 400),
        ({"user": "carol", "artist": "A", "title": "B", "spotify_id": "x"}, 400),
        ({"user": "carol", "artist": "A", "title": "B", "ago": 5, "listened_at": NOW}, 400),
    ]
    for body, status in bad:
        response = await client.post("/_sandbox/listenbrainz/listens", json=body)
        assert response.status_code == status, body
    private = await client.post("/_sandbox/listenbrainz/users", json={"name": "x", "private": True})
    assert private.status_code == 400


async def test_reset_forgets_users_listens_and_limits(client: httpx.AsyncClient) -> None:
    await carol(client)
    await listen(client, track_id=PAPER)
    await client.post("/_sandbox/listenbrainz/rate-limit", json={"limit": 1})
    await client.post("/_sandbox/reset")
    assert (await client.get(LISTENS)).status_code == 404
    assert (await client.get("/_sandbox/listenbrainz/users")).json() == {"users": []}
    await carol(client)
    assert (await client.get(LISTENS)).status_code == 200
    assert (await client.get(LISTENS)).status_code == 200  # no limit after reset
