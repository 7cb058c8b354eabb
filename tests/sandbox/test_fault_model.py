"""One fault model for every vendor: options combine, vendor errors stay with their vendor."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from sendsongs.sandbox.config import SandboxConfig

from .helpers import FakeClock

SEND = "/v26.0/me/messages"
ALICE, BOB = "1001", "1003"
TELEGRAM = f"/bot{SandboxConfig().telegram_bot_token}"
LASTFM_KEY = SandboxConfig().lastfm_api_key


async def fault(client: httpx.AsyncClient, route: str = "/_sandbox/faults", **body: Any) -> Any:
    response = await client.post(route, json=body)
    assert response.status_code == 200, response.text
    return response.json()["fault"]


async def send(client: httpx.AsyncClient, psid: str) -> httpx.Response:
    body = {"recipient": {"id": psid}, "messaging_type": "UPDATE", "message": {"text": "hi"}}
    return await client.post(SEND, params={"access_token": "sandbox-page-token"}, json=body)


async def telegram_send(client: httpx.AsyncClient, chat_id: int) -> httpx.Response:
    return await client.post(f"{TELEGRAM}/sendMessage", json={"chat_id": chat_id, "text": "hi"})


async def lastfm(client: httpx.AsyncClient, method: str = "user.getInfo") -> httpx.Response:
    query = {"method": method, "user": "dan", "api_key": LASTFM_KEY, "format": "json"}
    return await client.get("/lastfm/2.0/", params=query)


@pytest.fixture(autouse=True)
async def people(client: httpx.AsyncClient) -> None:
    for psid in (ALICE, BOB):
        await client.post("/_sandbox/messenger/users", json={"psid": psid, "first_name": "P"})
    for user_id in (7001, 7002):
        body = {"id": user_id, "first_name": "T", "started": True}
        assert (await client.post("/_sandbox/telegram/users", json=body)).status_code == 200
    await client.post("/_sandbox/lastfm/users", json={"name": "dan"})


async def test_graph_fault_scoped_to_a_psid_until_cleared_with_a_description(
    client: httpx.AsyncClient,
) -> None:
    created = await fault(
        client, path_prefix=SEND, psid=BOB, status=503, count=None, description="Down for Bob"
    )
    assert created["until_cleared"] is True and created["remaining"] is None
    assert created["psid"] == BOB and created["chat_id"] is None
    for _ in range(3):
        refused = await send(client, BOB)
        assert refused.status_code == 503
        assert refused.json()["error"]["message"] == "Down for Bob"
    assert (await send(client, ALICE)).status_code == 200
    await client.delete("/_sandbox/faults")
    assert (await send(client, BOB)).status_code == 200


async def test_telegram_fault_until_cleared_by_flag_scoped_to_a_chat(
    client: httpx.AsyncClient,
) -> None:
    body = {"path_prefix": f"{TELEGRAM}/sendMessage", "chat_id": 7002, "status": 403}
    created = await fault(client, **body, until_cleared=True)
    assert created["chat_id"] == "7002" and created["until_cleared"] is True
    for _ in range(2):
        refused = await telegram_send(client, 7002)
        assert refused.status_code == 403
        assert refused.json()["description"] == "Forbidden: bot was blocked by the user"
    assert (await telegram_send(client, 7001)).json()["ok"] is True


async def test_vendor_errors_only_answer_their_vendor(client: httpx.AsyncClient) -> None:
    await fault(client, path_prefix="/", error="unavailable")
    await fault(client, path_prefix="/", error=29)
    assert (await client.post(f"{TELEGRAM}/getMe")).json()["ok"] is True
    checked = await client.get("/listenbrainz/1/validate-token", params={"token": "x"})
    assert checked.json()["valid"] is False
    limited = await lastfm(client)
    assert limited.status_code == 429 and limited.json()["error"] == 29
    refused = await send(client, ALICE)
    assert refused.status_code == 400 and refused.json()["error"]["code"] == 551
    assert (await client.get("/_sandbox/faults")).json() == {"faults": []}


async def test_history_services_take_drops_descriptions_and_lasting_codes(
    client: httpx.AsyncClient,
) -> None:
    await fault(client, path_prefix="/listenbrainz/", status="drop")
    with pytest.raises(httpx.RemoteProtocolError):
        await client.get("/listenbrainz/1/validate-token")
    await fault(client, path_prefix="/lastfm/", status=503, description="Down")
    offline = await lastfm(client)
    assert offline.status_code == 503 and offline.json() == {"error": 11, "message": "Down"}
    created = await fault(
        client, "/_sandbox/lastfm/faults", error=26, method="user.getRecentTracks", count=None
    )
    assert created["error"] == 26 and created["until_cleared"] is True
    assert created["path_prefix"] == "/lastfm/2.0/?method=user.getrecenttracks"
    for _ in range(2):
        suspended = await lastfm(client, "user.getRecentTracks")
        assert suspended.status_code == 403 and suspended.json()["error"] == 26
    assert (await lastfm(client)).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"error": 29, "status": "timeout"},
        {"error": "unavailable", "status": "drop"},
        {"error": "no_such_error"},
        {"error": 999, "path_prefix": "/lastfm/"},
        {"path_prefix": SEND, "status": 503, "count": 0},
        {"path_prefix": SEND, "status": 503, "until_cleared": "yes"},
        {"path_prefix": SEND, "status": 503, "duration": 5, "until_cleared": True},
        {"path_prefix": SEND, "status": 503, "duration": -1},
        {"path_prefix": SEND, "status": 429, "retry_after": "later"},
    ],
)
async def test_contradictory_or_unknown_faults_are_refused(
    client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    assert (await client.post("/_sandbox/faults", json=body)).status_code == 400
    assert (await client.get("/_sandbox/faults")).json() == {"faults": []}


async def test_a_duration_bounds_a_fault_scoped_to_one_recipient(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    created = await fault(client, path_prefix=SEND, psid=BOB, status=503, duration=30)
    assert created["remaining"] is None and created["until_cleared"] is False
    assert created["until"] == clock() + 30
    for _ in range(3):
        assert (await send(client, BOB)).status_code == 503
    assert (await send(client, ALICE)).status_code == 200
    clock.advance(30)
    assert (await client.get("/_sandbox/faults")).json() == {"faults": []}
    assert (await send(client, BOB)).status_code == 200


async def test_telegram_retry_hint_zero_or_none(client: httpx.AsyncClient) -> None:
    path = f"{TELEGRAM}/sendMessage"
    await fault(client, path_prefix=path, status=429, retry_after=0)
    now = (await telegram_send(client, 7001)).json()
    assert now["parameters"] == {"retry_after": 0}
    assert now["description"] == "Too Many Requests: retry after 0"
    listed = await fault(client, path_prefix=path, status=429, retry_after="none")
    assert listed["retry_after"] == "none"
    bare = await telegram_send(client, 7001)
    assert bare.status_code == 429 and "retry-after" not in bare.headers
    assert bare.json() == {"ok": False, "error_code": 429, "description": "Too Many Requests"}


async def test_listenbrainz_429_without_a_hint_drops_its_rate_headers(
    client: httpx.AsyncClient,
) -> None:
    await client.post("/_sandbox/listenbrainz/users", json={"name": "carol"})
    await fault(client, path_prefix="/listenbrainz/", status=429, retry_after=None)
    limited = await client.get("/listenbrainz/1/user/carol/listens")
    assert limited.status_code == 429
    assert not [h for h in limited.headers if h.lower().startswith("x-ratelimit")]
    healthy = await client.get("/listenbrainz/1/user/carol/listens")
    assert healthy.status_code == 200 and "X-RateLimit-Limit" in healthy.headers


async def test_graph_named_throttle_without_retry_after_and_reason_stays_on_spotify(
    client: httpx.AsyncClient,
) -> None:
    await fault(client, error="unavailable", retry_after=0)
    await fault(client, path_prefix=SEND, status=429, reason="QUOTA_EXCEEDED", retry_after="none")
    named = await send(client, ALICE)
    assert named.status_code == 400 and named.headers["Retry-After"] == "0"
    throttled = await send(client, ALICE)
    assert throttled.status_code == 429 and "retry-after" not in throttled.headers
    assert "reason" not in throttled.json()["error"]  # Graph's body knows no reason
