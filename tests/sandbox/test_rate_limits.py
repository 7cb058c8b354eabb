"""Rate-limit faults as Spotify answers them: `Retry-After: 0`, no header, a quota
429 asking for hours, scoped to one endpoint for a count of calls or a duration."""

from __future__ import annotations

from typing import Any

import httpx

from sendsongs.sandbox.config import SandboxConfig

from .helpers import FakeClock, bearer, login

RECENT = "/v1/me/player/recently-played"
TRACK = "/v1/tracks/46X0dXeliHXD73sxexJx7d"


async def fault(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    response = await client.post("/_sandbox/faults", json=body)
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()["fault"]
    return answer


async def test_retry_after_zero_for_ten_seconds_then_healthy(
    client: httpx.AsyncClient, config: SandboxConfig, clock: FakeClock
) -> None:
    token = bearer((await login(client, config))["access_token"])
    await fault(client, path_prefix="/v1/", status=429, retry_after=0, duration=10)
    for _ in range(20):  # no count: every call inside the ten seconds is refused
        limited = await client.get(RECENT, headers=token)
        assert limited.status_code == 429 and limited.headers["Retry-After"] == "0"
    assert (await client.get(TRACK, headers=token)).status_code == 429  # the whole API
    clock.advance(10)
    assert (await client.get(RECENT, headers=token)).status_code == 200
    assert (await client.get("/_sandbox/faults")).json() == {"faults": []}
    calls = (await client.get("/_sandbox/stats")).json()["calls"]
    assert calls["GET /v1/me/player/recently-played"] == 21


async def test_a_429_without_retry_after(client: httpx.AsyncClient, config: SandboxConfig) -> None:
    token = bearer((await login(client, config))["access_token"])
    listed = await fault(client, path_prefix=RECENT, status=429, retry_after="none", count=2)
    assert listed["retry_after"] == "none" and listed["remaining"] == 2
    await fault(client, path_prefix=TRACK, status=429, retry_after=None)
    for path in (RECENT, RECENT, TRACK):
        response = await client.get(path, headers=token)
        assert response.status_code == 429 and "retry-after" not in response.headers
        assert response.json() == {"error": {"status": 429, "message": "API rate limit exceeded"}}
    assert (await client.get(RECENT, headers=token)).status_code == 200


async def test_quota_exceeded_asks_for_hours_on_one_endpoint(
    client: httpx.AsyncClient, config: SandboxConfig, clock: FakeClock
) -> None:
    token = bearer((await login(client, config))["access_token"])
    await fault(
        client,
        path_prefix=RECENT,
        status=429,
        retry_after=86_400,
        reason="QUOTA_EXCEEDED",
        duration=86_400,
    )
    quota = await client.get(RECENT, headers=token)
    assert quota.status_code == 429 and quota.headers["Retry-After"] == "86400"
    assert quota.json() == {
        "error": {"status": 429, "message": "API rate limit exceeded", "reason": "QUOTA_EXCEEDED"}
    }
    assert (await client.get(TRACK, headers=token)).status_code == 200  # other endpoints
    clock.advance(86_399)
    token = bearer((await login(client, config))["access_token"])
    assert (await client.get(RECENT, headers=token)).status_code == 429
    clock.advance(1)
    token = bearer((await login(client, config))["access_token"])  # the old one expired
    assert (await client.get(RECENT, headers=token)).status_code == 200


async def test_count_and_duration_together_end_at_the_first(
    client: httpx.AsyncClient, config: SandboxConfig, clock: FakeClock
) -> None:
    token = bearer((await login(client, config))["access_token"])
    await fault(client, path_prefix=RECENT, status=503, count=1, duration=60)
    assert (await client.get(RECENT, headers=token)).status_code == 503
    assert (await client.get(RECENT, headers=token)).status_code == 200
    await fault(client, path_prefix=RECENT, status=503, count=5, duration=60)
    clock.advance(60)
    assert (await client.get(RECENT, headers=token)).status_code == 200


async def test_bad_fault_requests_are_refused(client: httpx.AsyncClient) -> None:
    for bad in (
        {"duration": 0},
        {"duration": "long"},
        {"retry_after": -1},
        {"retry_after": "soon"},
        {"reason": 7},
        {"count": 0},
    ):
        body = {"path_prefix": "/v1", "status": 429, **bad}
        assert (await client.post("/_sandbox/faults", json=body)).status_code == 400, bad
