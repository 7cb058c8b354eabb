"""The `/_sandbox` controls: signed webhook events, faults, stats, reset, mounting."""

from __future__ import annotations

import hashlib
import hmac
import json

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Mount, Route

from sendsongs.sandbox.app import create_sandbox_app
from sendsongs.sandbox.config import SandboxConfig

from .helpers import FakeClock, Webhook, bearer, login

RECENT = "/v1/me/player/recently-played"


async def new_person(client: httpx.AsyncClient, psid: str = "2068505776496400") -> str:
    await client.post(
        "/_sandbox/messenger/users", json={"psid": psid, "first_name": "Nick", "last_name": "Shmkl"}
    )
    return psid


async def test_say_posts_a_signed_page_event(
    client: httpx.AsyncClient, config: SandboxConfig, webhook: Webhook, clock: FakeClock
) -> None:
    psid = await new_person(client)
    response = await client.post(
        "/_sandbox/messenger/say", json={"psid": psid, "text": "help", "mid": "mid.1"}
    )
    assert response.json() == {"mid": "mid.1", "webhook_status": 200}
    [request] = webhook.requests
    assert str(request.url) == config.webhook_url
    body = request.content
    expected = hmac.new(config.app_secret.encode(), body, hashlib.sha256).hexdigest()
    assert request.headers["X-Hub-Signature-256"] == f"sha256={expected}"
    legacy = hmac.new(config.app_secret.encode(), body, hashlib.sha1).hexdigest()
    assert request.headers["X-Hub-Signature"] == f"sha1={legacy}"
    event = json.loads(body)
    assert event["object"] == "page"
    [entry] = event["entry"]
    assert entry["id"] == config.page_id
    [messaging] = entry["messaging"]
    assert messaging["sender"] == {"id": psid}
    assert messaging["recipient"] == {"id": config.page_id}
    assert messaging["timestamp"] == int(clock.now * 1000)
    assert messaging["message"] == {"mid": "mid.1", "text": "help"}


async def test_say_with_quick_reply_uses_the_offered_title(
    client: httpx.AsyncClient, config: SandboxConfig, webhook: Webhook
) -> None:
    psid = await new_person(client)
    offer = {
        "recipient": {"id": psid},
        "messaging_type": "RESPONSE",
        "message": {
            "text": "Connect?",
            "quick_replies": [
                {"content_type": "text", "title": "Connect Spotify", "payload": "CONNECT"}
            ],
        },
    }
    await client.post(
        "/v26.0/me/messages", params={"access_token": config.page_access_token}, json=offer
    )
    await client.post(
        "/_sandbox/messenger/say", json={"psid": psid, "quick_reply_payload": "CONNECT"}
    )
    message = json.loads(webhook.requests[0].content)["entry"][0]["messaging"][0]["message"]
    assert message["text"] == "Connect Spotify"
    assert message["quick_reply"] == {"payload": "CONNECT"}
    assert message["mid"].startswith("m_")


async def test_say_reopens_the_window_and_rejects_strangers(
    client: httpx.AsyncClient, config: SandboxConfig
) -> None:
    psid = await new_person(client)
    await client.post(f"/_sandbox/messenger/users/{psid}/window", json={"open": False})
    await client.post("/_sandbox/messenger/say", json={"psid": psid, "text": "hi"})
    users = (await client.get("/_sandbox/messenger/users")).json()["users"]
    assert users[0]["window_open"] is True
    stranger = await client.post("/_sandbox/messenger/say", json={"psid": "1", "text": "x"})
    assert stranger.status_code == 404


async def test_say_reaches_a_real_starlette_receiver(config: SandboxConfig) -> None:
    received: list[bool] = []

    async def receive(request: Request) -> Response:
        body = await request.body()
        digest = hmac.new(config.app_secret.encode(), body, hashlib.sha256).hexdigest()
        received.append(request.headers["x-hub-signature-256"] == f"sha256={digest}")
        return PlainTextResponse("EVENT_RECEIVED")

    bot = Starlette(routes=[Route("/webhook", receive, methods=["POST"])])
    outbound = httpx.AsyncClient(transport=httpx.ASGITransport(app=bot))
    sandbox = create_sandbox_app(config, webhook_client=outbound)
    async with (
        outbound,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=sandbox), base_url="http://s.test"
        ) as client,
    ):
        await client.post(
            "/_sandbox/messenger/config", json={"webhook_url": "http://bot.test/webhook"}
        )
        psid = await new_person(client)
        answer = await client.post("/_sandbox/messenger/say", json={"psid": psid, "text": "Hé ✓"})
    assert answer.json()["webhook_status"] == 200
    assert received == [True]


async def test_unreachable_webhook_is_reported(config: SandboxConfig) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    outbound = httpx.AsyncClient(transport=httpx.MockTransport(refuse))
    sandbox = create_sandbox_app(config, webhook_client=outbound)
    async with (
        outbound,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=sandbox), base_url="http://s.test"
        ) as client,
    ):
        psid = await new_person(client)
        answer = (
            await client.post("/_sandbox/messenger/say", json={"psid": psid, "text": "hi"})
        ).json()
    assert answer["webhook_status"] is None and "ConnectError" in answer["webhook_error"]


async def test_429_fault_with_retry_after_then_recovery(
    client: httpx.AsyncClient, config: SandboxConfig
) -> None:
    token = (await login(client, config))["access_token"]
    fault = {"path_prefix": RECENT, "status": 429, "retry_after": 7, "count": 2}
    assert (await client.post("/_sandbox/faults", json=fault)).status_code == 200
    for _ in range(2):
        response = await client.get(RECENT, headers=bearer(token))
        assert response.status_code == 429
        assert response.headers["Retry-After"] == "7"
        assert response.json()["error"]["status"] == 429
    assert (await client.get(RECENT, headers=bearer(token))).status_code == 200


async def test_other_faults_and_clearing(client: httpx.AsyncClient, config: SandboxConfig) -> None:
    await client.post(
        "/_sandbox/faults", json={"path_prefix": "/v26.0/me/messages", "status": 503, "count": 1}
    )
    await client.post(
        "/_sandbox/faults", json={"path_prefix": "/api/token", "status": "timeout", "delay": 0.01}
    )
    graph = await client.post("/v26.0/me/messages", json={})
    assert graph.status_code == 503 and graph.json()["error"]["is_transient"] is True
    slow = await client.post("/api/token", data={"grant_type": "client_credentials"})
    assert slow.status_code == 504
    await client.post("/_sandbox/faults", json={"path_prefix": "/v1", "status": 500, "count": 5})
    assert len((await client.get("/_sandbox/faults")).json()["faults"]) == 1
    await client.delete("/_sandbox/faults")
    assert (await client.get("/_sandbox/faults")).json() == {"faults": []}
    bad = await client.post("/_sandbox/faults", json={"path_prefix": "/v1", "status": 200})
    assert bad.status_code == 400


async def test_stats_count_calls_by_route_template(
    client: httpx.AsyncClient, config: SandboxConfig
) -> None:
    token = (await login(client, config))["access_token"]
    await client.post("/_sandbox/faults", json={"path_prefix": RECENT, "status": 500})
    for _ in range(3):
        await client.get(RECENT, headers=bearer(token))
    await client.get("/v1/tracks/46X0dXeliHXD73sxexJx7d", headers=bearer(token))
    await client.get("/v26.0/12345", params={"access_token": "x"})
    calls = (await client.get("/_sandbox/stats")).json()["calls"]
    assert calls == {
        "GET /v1/me/player/recently-played": 3,
        "GET /v1/tracks/{id}": 1,
        "GET /{version}/{psid}": 1,
        "POST /api/token": 1,
        "POST /authorize": 1,
    }


async def test_reset_clears_everything(client: httpx.AsyncClient, config: SandboxConfig) -> None:
    await login(client, config)
    await new_person(client)
    await client.post(
        "/_sandbox/messenger/config",
        json={
            "webhook_url": "http://x.test/h",
            "page_access_token": "rotated",
            "require_appsecret_proof": True,
        },
    )
    await client.post("/_sandbox/reset")
    assert (await client.get("/_sandbox/spotify/users")).json() == {"users": []}
    assert (await client.get("/_sandbox/messenger/users")).json() == {"users": []}
    assert (await client.get("/_sandbox/stats")).json() == {"calls": {}}
    config_now = (await client.get("/_sandbox/messenger/config")).json()
    assert config_now == {
        "webhook_url": config.webhook_url,
        "page_access_token": config.page_access_token,
        "require_appsecret_proof": False,
    }


async def test_catalog_and_play_validation(client: httpx.AsyncClient) -> None:
    tracks = (await client.get("/_sandbox/spotify/tracks")).json()["tracks"]
    assert len(tracks) >= 10 and tracks[0]["href"].startswith("http://sandbox.test/v1/")
    unknown_user = await client.post(
        "/_sandbox/spotify/play", json={"user": "zed", "track_id": tracks[0]["id"]}
    )
    assert unknown_user.status_code == 404
    await client.post("/_sandbox/spotify/users", json={"id": "zed"})
    unknown_track = await client.post(
        "/_sandbox/spotify/play", json={"user": "zed", "track_id": "x"}
    )
    assert unknown_track.status_code == 404


async def test_works_mounted_under_a_sub_path(config: SandboxConfig) -> None:
    outer = Starlette(routes=[Mount("/sandbox", app=create_sandbox_app(config))])
    transport = httpx.ASGITransport(app=outer)
    async with httpx.AsyncClient(transport=transport, base_url="http://demo.test") as client:
        page = await client.get(
            "/sandbox/authorize",
            params={
                "client_id": config.client_id,
                "response_type": "code",
                "redirect_uri": "http://demo.test/spotify/callback",
                "state": "s",
            },
        )
        assert 'action="/sandbox/authorize"' in page.text
        tracks = (await client.get("/sandbox/_sandbox/spotify/tracks")).json()["tracks"]
        assert tracks[0]["href"].startswith("http://demo.test/sandbox/v1/tracks/")
        await client.post(
            "/sandbox/_sandbox/faults", json={"path_prefix": "/v1/tracks", "status": 502}
        )
        response = await client.get(f"/sandbox/v1/tracks/{tracks[0]['id']}")
        assert response.status_code == 502
        calls = (await client.get("/sandbox/_sandbox/stats")).json()["calls"]
        assert calls == {"GET /authorize": 1, "GET /v1/tracks/{id}": 1}


async def test_controls_allow_cross_origin_demo_pages(client: httpx.AsyncClient) -> None:
    preflight = await client.options(
        "/_sandbox/messenger/say",
        headers={
            "Origin": "http://127.0.0.1:8000",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "*"


async def test_spotify_settings_validate_and_reset_to_the_configuration(
    client: httpx.AsyncClient,
) -> None:
    defaults = (await client.get("/_sandbox/spotify/settings")).json()
    assert defaults["development_mode"] is False and defaults["allowed_users"] == []
    assert defaults["refresh_token_lifetime"] == 183 * 86_400
    six = ["a", "b", "c", "d", "e", "f"]
    for bad in (
        {"allowed_users": six},
        {"allowed_users": "alice"},
        {"development_mode": "yes"},
        {"refresh_token_lifetime": 0},
    ):
        assert (await client.post("/_sandbox/spotify/settings", json=bad)).status_code == 400
    five = {"development_mode": True, "allowed_users": six[:5]}
    changed = (await client.post("/_sandbox/spotify/settings", json=five)).json()
    assert changed["development_mode"] is True and changed["allowed_users"] == six[:5]
    await client.post("/_sandbox/reset")
    assert (await client.get("/_sandbox/spotify/settings")).json() == defaults


async def test_settings_start_from_the_configuration() -> None:
    config = SandboxConfig(
        development_mode=True, allowed_users=("alice",), refresh_token_lifetime=600
    )
    transport = httpx.ASGITransport(app=create_sandbox_app(config))
    async with httpx.AsyncClient(transport=transport, base_url="http://s.test") as client:
        settings = (await client.get("/_sandbox/spotify/settings")).json()
        assert settings["development_mode"] is True and settings["allowed_users"] == ["alice"]
        assert settings["refresh_token_lifetime"] == 600
        token = (await login(client, config, "bob"))["access_token"]
        assert (await client.get("/v1/me", headers=bearer(token))).status_code == 403
