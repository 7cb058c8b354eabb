"""The fake Spotify Web API: tracks, recently-played windows and cursors, token failures."""

from __future__ import annotations

from typing import Any

import httpx

from sendsongs.sandbox.clock import iso
from sendsongs.sandbox.config import SandboxConfig

from .helpers import FakeClock, basic, bearer, login

PAPER = "46X0dXeliHXD73sxexJx7d"
HAPPY = "2I0FOWHzP5dBiNNFLFsxVt"
RECENT = "/v1/me/player/recently-played"


async def app_token(client: httpx.AsyncClient, config: SandboxConfig) -> str:
    response = await client.post(
        "/api/token", data={"grant_type": "client_credentials"}, headers=basic(config)
    )
    token: str = response.json()["access_token"]
    return token


async def play(client: httpx.AsyncClient, user: str, track: str, **extra: Any) -> Any:
    response = await client.post(
        "/_sandbox/spotify/play", json={"user": user, "track_id": track, **extra}
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_track_is_a_full_track_object(
    client: httpx.AsyncClient, config: SandboxConfig
) -> None:
    response = await client.get(
        f"/v1/tracks/{HAPPY}", headers=bearer(await app_token(client, config))
    )
    assert response.status_code == 200
    track = response.json()
    assert track["id"] == HAPPY and track["uri"] == f"spotify:track:{HAPPY}"
    assert track["name"] == "Happy Now"
    assert track["external_urls"] == {"spotify": f"https://open.spotify.com/track/{HAPPY}"}
    assert track["external_ids"]["isrc"] == "GBKQU1800417"
    assert {"id", "name", "uri"} <= set(track["artists"][0])
    assert {"id", "name"} <= set(track["album"])
    assert track["href"] == f"http://sandbox.test/v1/tracks/{HAPPY}"
    assert isinstance(track["explicit"], bool)
    assert "popularity" not in track  # removed by Spotify's February 2026 changes
    assert 120_000 <= track["duration_ms"] <= 300_000


async def test_track_errors(client: httpx.AsyncClient, config: SandboxConfig) -> None:
    headers = bearer(await app_token(client, config))
    bad = await client.get("/v1/tracks/not-an-id!", headers=headers)
    assert bad.status_code == 400
    assert bad.json() == {"error": {"status": 400, "message": "invalid id"}}
    missing = await client.get("/v1/tracks/0000000000000000000000", headers=headers)
    assert missing.status_code == 404
    assert missing.json() == {"error": {"status": 404, "message": "Resource not found"}}
    anonymous = await client.get(f"/v1/tracks/{HAPPY}")
    assert anonymous.status_code == 401
    unknown = await client.get(f"/v1/tracks/{HAPPY}", headers=bearer("made-up"))
    assert unknown.json() == {"error": {"status": 401, "message": "Invalid access token"}}


async def test_tokens_expire_with_time_and_on_demand(
    client: httpx.AsyncClient, config: SandboxConfig, clock: FakeClock
) -> None:
    expired = {"error": {"status": 401, "message": "The access token expired"}}
    token = (await login(client, config))["access_token"]
    assert (await client.get(RECENT, headers=bearer(token))).status_code == 200
    clock.advance(3600)
    response = await client.get(RECENT, headers=bearer(token))
    assert response.status_code == 401 and response.json() == expired

    token = (await login(client, config))["access_token"]
    await client.post("/_sandbox/spotify/expire-tokens")
    assert (await client.get(RECENT, headers=bearer(token))).json() == expired


async def test_revoked_access_token_is_refused(
    client: httpx.AsyncClient, config: SandboxConfig
) -> None:
    token = (await login(client, config, "alice"))["access_token"]
    await client.post("/_sandbox/spotify/users/alice/revoke")
    response = await client.get(RECENT, headers=bearer(token))
    assert response.status_code == 401


async def test_user_endpoints_refuse_app_tokens_and_missing_scopes(
    client: httpx.AsyncClient, config: SandboxConfig
) -> None:
    app_only = await client.get(RECENT, headers=bearer(await app_token(client, config)))
    assert app_only.status_code == 401
    assert app_only.json()["error"]["message"] == "Valid user authentication required"
    token = (await login(client, config, scope="user-read-email"))["access_token"]
    no_scope = await client.get(RECENT, headers=bearer(token))
    assert no_scope.status_code == 403
    assert no_scope.json() == {"error": {"status": 403, "message": "Insufficient client scope"}}


async def test_recently_played_newest_first_with_cursors(
    client: httpx.AsyncClient, config: SandboxConfig, clock: FakeClock
) -> None:
    token = (await login(client, config, "alice"))["access_token"]
    empty = (await client.get(RECENT, headers=bearer(token))).json()
    assert empty["items"] == [] and empty["cursors"] is None and empty["next"] is None
    await play(client, "alice", PAPER, played_at="2026-11-28T10:00:00.123Z")
    await play(client, "alice", HAPPY, played_at="2026-11-28T10:05:00Z")
    body = (await client.get(RECENT, headers=bearer(token))).json()
    assert [i["track"]["id"] for i in body["items"]] == [HAPPY, PAPER]
    assert body["items"][1]["played_at"] == "2026-11-28T10:00:00.123Z"
    assert body["items"][1]["context"] is None
    assert body["limit"] == 20
    assert body["cursors"] == {"after": "1795860300000", "before": "1795860000123"}
    assert body["href"].startswith("http://sandbox.test/v1/me/player/recently-played")


async def test_after_is_exclusive_and_before_excludes_too(
    client: httpx.AsyncClient, config: SandboxConfig
) -> None:
    token = (await login(client, config, "alice"))["access_token"]
    await play(client, "alice", PAPER, played_at="2026-11-28T10:00:00.000Z")
    await play(client, "alice", HAPPY, played_at="2026-11-28T10:05:00.000Z")
    first_ms = 1795860000000
    after = await client.get(RECENT, params={"after": first_ms}, headers=bearer(token))
    assert [i["track"]["id"] for i in after.json()["items"]] == [HAPPY]
    before = await client.get(RECENT, params={"before": first_ms + 300_000}, headers=bearer(token))
    assert [i["track"]["id"] for i in before.json()["items"]] == [PAPER]
    both = await client.get(RECENT, params={"after": 1, "before": 2}, headers=bearer(token))
    assert both.status_code == 400


async def test_limit_and_paging(
    client: httpx.AsyncClient, config: SandboxConfig, clock: FakeClock
) -> None:
    token = (await login(client, config, "alice"))["access_token"]
    for _ in range(5):
        clock.advance(300)
        await play(client, "alice", PAPER)
    newest = (await client.get(RECENT, params={"limit": 2}, headers=bearer(token))).json()
    assert len(newest["items"]) == 2 and newest["limit"] == 2
    assert "before=" in newest["next"]
    older = await client.get(newest["next"], headers=bearer(token))
    assert older.json()["items"][0]["played_at"] < newest["items"][-1]["played_at"]
    for bad in ("0", "51", "ten"):
        response = await client.get(RECENT, params={"limit": bad}, headers=bearer(token))
        assert response.status_code == 400


async def test_after_pages_forward_from_the_cursor(
    client: httpx.AsyncClient, config: SandboxConfig, clock: FakeClock
) -> None:
    token = (await login(client, config, "alice"))["access_token"]
    start_ms = int(clock.now * 1000)
    for _ in range(3):
        clock.advance(300)
        await play(client, "alice", PAPER)
    page = (
        await client.get(RECENT, params={"after": start_ms, "limit": 2}, headers=bearer(token))
    ).json()
    times = [i["played_at"] for i in page["items"]]
    assert len(times) == 2 and times[0] > times[1]
    assert "after=" in page["next"]
    rest = (await client.get(page["next"], headers=bearer(token))).json()
    assert len(rest["items"]) == 1 and rest["items"][0]["played_at"] > times[0]


async def test_only_plays_of_more_than_30_seconds_count(
    client: httpx.AsyncClient, config: SandboxConfig
) -> None:
    token = (await login(client, config, "alice"))["access_token"]
    short = await play(client, "alice", PAPER, ms_played=30_000)
    assert short["recorded"] is False and "30" in short["reason"]
    assert (await play(client, "alice", HAPPY, ms_played=30_001))["recorded"] is True
    body = (await client.get(RECENT, headers=bearer(token))).json()
    assert [i["track"]["id"] for i in body["items"]] == [HAPPY]
    plays = (await client.get("/_sandbox/spotify/users/alice/plays")).json()
    assert [p["track_id"] for p in plays["plays"]] == [HAPPY]
    assert [p["track_id"] for p in plays["hidden"]] == [PAPER]


async def test_history_reaches_back_only_50_plays(
    client: httpx.AsyncClient, config: SandboxConfig, clock: FakeClock
) -> None:
    token = (await login(client, config, "alice"))["access_token"]
    first_ms = int(clock.now * 1000)
    await play(client, "alice", HAPPY)
    for _ in range(50):
        clock.advance(60)
        await play(client, "alice", PAPER)
    body = (
        await client.get(RECENT, params={"after": first_ms - 1, "limit": 50}, headers=bearer(token))
    ).json()
    assert len(body["items"]) == 50
    assert all(i["track"]["id"] == PAPER for i in body["items"])
    plays = (await client.get("/_sandbox/spotify/users/alice/plays")).json()["plays"]
    assert len(plays) == 51


async def test_currently_playing(
    client: httpx.AsyncClient, config: SandboxConfig, clock: FakeClock
) -> None:
    token = (await login(client, config, "alice", scope="user-read-currently-playing"))[
        "access_token"
    ]
    url = "/v1/me/player/currently-playing"
    assert (await client.get(url, headers=bearer(token))).status_code == 204
    await client.post(
        "/_sandbox/spotify/users/alice/now-playing", json={"track_id": HAPPY, "progress_ms": 1000}
    )
    clock.advance(2)
    body = (await client.get(url, headers=bearer(token))).json()
    assert body["is_playing"] is True and body["item"]["id"] == HAPPY
    assert body["progress_ms"] == 3000
    clock.advance(600)
    assert (await client.get(url, headers=bearer(token))).status_code == 204


async def test_me_names_the_spotify_account_behind_a_user_token(
    client: httpx.AsyncClient, config: SandboxConfig
) -> None:
    await client.post("/_sandbox/spotify/users", json={"id": "bob", "display_name": "Bob J"})
    token = (await login(client, config, "bob"))["access_token"]
    me = await client.get("/v1/me", headers=bearer(token))
    assert me.status_code == 200
    assert me.json() == {
        "display_name": "Bob J",
        "external_urls": {"spotify": "https://open.spotify.com/user/bob"},
        "href": "http://sandbox.test/v1/users/bob",
        "id": "bob",
        "images": [],
        "type": "user",
        "uri": "spotify:user:bob",
    }
    assert (await client.get("/v1/me", headers=bearer("made-up"))).status_code == 401
    app_only = await client.get("/v1/me", headers=bearer(await app_token(client, config)))
    assert app_only.status_code == 401
    await client.post("/_sandbox/spotify/expire-tokens")
    expired = await client.get("/v1/me", headers=bearer(token))
    assert expired.json() == {"error": {"status": 401, "message": "The access token expired"}}


async def test_development_mode_refuses_people_off_the_allow_list(
    client: httpx.AsyncClient, config: SandboxConfig
) -> None:
    scope = "user-read-recently-played user-read-currently-playing"
    carol = (await login(client, config, "carol", scope=scope))["access_token"]
    alice = (await login(client, config, "alice", scope=scope))["access_token"]
    assert (await client.get("/v1/me", headers=bearer(carol))).status_code == 200  # off
    settings = {"development_mode": True, "allowed_users": ["alice"]}
    assert (await client.post("/_sandbox/spotify/settings", json=settings)).status_code == 200
    for path in ("/v1/me", RECENT, "/v1/me/player/currently-playing"):
        refused = await client.get(path, headers=bearer(carol))
        assert refused.status_code == 403, path
        assert refused.headers["content-type"].startswith("text/plain")
        assert refused.text == (
            "Check settings on developer.spotify.com/dashboard, the user may not be registered."
        )
        assert (await client.get(path, headers=bearer(alice))).status_code in (200, 204)
    # The trap: consent and the token exchange still work for someone off the list.
    dana = await login(client, config, "dana")
    assert dana["access_token"].startswith("BQ")
    # An app token is not a person's: catalogue calls go through.
    track = await client.get(f"/v1/tracks/{HAPPY}", headers=bearer(await app_token(client, config)))
    assert track.status_code == 200
    legacy = {"not_registered_message": "User not registered in the Developer Dashboard"}
    await client.post("/_sandbox/spotify/settings", json=legacy)
    assert (await client.get(RECENT, headers=bearer(carol))).text == legacy[
        "not_registered_message"
    ]


async def test_track_objects_can_lose_their_isrc(
    client: httpx.AsyncClient, config: SandboxConfig
) -> None:
    headers = bearer(await app_token(client, config))
    await client.post("/_sandbox/spotify/settings", json={"track_external_ids": False})
    track = (await client.get(f"/v1/tracks/{HAPPY}", headers=headers)).json()
    assert "external_ids" not in track and track["id"] == HAPPY


async def test_a_late_play_appears_after_its_delay_behind_newer_ones(
    client: httpx.AsyncClient, config: SandboxConfig, clock: FakeClock
) -> None:
    token = (await login(client, config, "bob"))["access_token"]
    start_ms = int(clock.now * 1000)
    # The phone played PAPER offline 3 s before the laptop played HAPPY; the phone's
    # play reaches the history 12 s later, with its own played_at.
    late = await play(client, "bob", PAPER, played_ago=3, visible_after=12)
    assert late["recorded"] is True
    assert late["played_at"] == iso(clock.now - 3) and late["visible_at"] == iso(clock.now + 12)
    await play(client, "bob", HAPPY)
    seen = (await client.get(RECENT, headers=bearer(token))).json()
    assert [i["track"]["id"] for i in seen["items"]] == [HAPPY]
    clock.advance(12)
    later = (await client.get(RECENT, headers=bearer(token))).json()
    assert [i["track"]["id"] for i in later["items"]] == [HAPPY, PAPER]
    assert later["items"][1]["played_at"] == iso(start_ms / 1000 - 3)
    # A cursor taken from the first answer never sees it: `after` is exclusive of the
    # plays before it, late or not.
    cursor = seen["cursors"]["after"]
    after = (await client.get(RECENT, params={"after": cursor}, headers=bearer(token))).json()
    assert after["items"] == []


async def test_private_session_plays_never_appear(
    client: httpx.AsyncClient, config: SandboxConfig
) -> None:
    token = (await login(client, config, "bob"))["access_token"]
    answer = await play(client, "bob", PAPER, private_session=True)
    assert answer["recorded"] is False and "Private Session" in answer["reason"]
    assert (await client.get(RECENT, headers=bearer(token))).json()["items"] == []
    plays = (await client.get("/_sandbox/spotify/users/bob/plays")).json()
    assert plays["plays"] == [] and plays["hidden"][0]["track_id"] == PAPER


async def test_a_full_play_of_a_very_short_track_never_counts(
    client: httpx.AsyncClient, config: SandboxConfig
) -> None:
    await login(client, config, "bob")
    salt = "orOkXbQzW7UOsL7Os6RULg"  # "Salt and Sand", 1.5 s long
    assert (await play(client, "bob", salt))["recorded"] is False
