"""`appsecret_proof`: off by default; once required, every Graph call needs a correct one."""

from __future__ import annotations

import hashlib
import hmac

import httpx
import pytest

from sendsongs.sandbox.app import create_sandbox_app
from sendsongs.sandbox.config import SandboxConfig

PSID = "2068505776496400"


def proof(config: SandboxConfig, token: str) -> str:
    return hmac.new(config.app_secret.encode(), token.encode(), hashlib.sha256).hexdigest()


@pytest.fixture(autouse=True)
async def person(client: httpx.AsyncClient) -> None:
    await client.post("/_sandbox/messenger/users", json={"psid": PSID, "first_name": "Nick"})


def message() -> dict[str, object]:
    return {"recipient": {"id": PSID}, "messaging_type": "RESPONSE", "message": {"text": "hi"}}


async def require(client: httpx.AsyncClient) -> None:
    answer = await client.post("/_sandbox/messenger/config", json={"require_appsecret_proof": True})
    assert answer.json()["require_appsecret_proof"] is True


async def test_not_required_by_default(client: httpx.AsyncClient, config: SandboxConfig) -> None:
    token = {"access_token": config.page_access_token}
    assert (await client.post("/v26.0/me/messages", params=token, json=message())).is_success


async def test_send_without_or_with_a_wrong_proof_is_refused(
    client: httpx.AsyncClient, config: SandboxConfig
) -> None:
    await require(client)
    token = config.page_access_token
    missing = await client.post(
        "/v26.0/me/messages", params={"access_token": token}, json=message()
    )
    assert missing.status_code == 400
    error = missing.json()["error"]
    assert error["message"] == "API calls from the server require an appsecret_proof argument"
    assert (error["code"], error["type"]) == (100, "GraphMethodException")
    wrong = await client.post(
        "/v26.0/me/messages",
        params={"access_token": token, "appsecret_proof": proof(config, "other-token")},
        json=message(),
    )
    error = wrong.json()["error"]
    assert error["message"] == "Invalid appsecret_proof provided in the API argument"
    assert error["code"] == 100
    failures = (await client.get("/_sandbox/messenger/failed")).json()
    assert [f["error"]["code"] for f in failures["failed"]] == [100, 100]
    assert (await client.get("/_sandbox/messenger/messages")).json()["messages"] == []


async def test_a_correct_proof_passes_in_the_query_or_the_body(
    client: httpx.AsyncClient, config: SandboxConfig
) -> None:
    await require(client)
    token = config.page_access_token
    good = proof(config, token)
    in_query = await client.post(
        "/v26.0/me/messages",
        params={"access_token": token, "appsecret_proof": good},
        json=message(),
    )
    assert in_query.status_code == 200
    in_body = await client.post(
        "/v26.0/me/messages",
        headers={"Authorization": f"Bearer {token}"},
        json={**message(), "appsecret_proof": good},
    )
    assert in_body.status_code == 200
    assert (await client.get("/_sandbox/messenger/messages")).json()["next"] == 2


async def test_profile_needs_the_proof_too(
    client: httpx.AsyncClient, config: SandboxConfig
) -> None:
    await require(client)
    token = config.page_access_token
    bare = await client.get(f"/v26.0/{PSID}", params={"access_token": token})
    assert bare.json()["error"]["code"] == 100
    signed = await client.get(
        f"/v26.0/{PSID}", params={"access_token": token, "appsecret_proof": proof(config, token)}
    )
    assert signed.json()["first_name"] == "Nick"


async def test_a_rotated_token_needs_its_own_proof(
    client: httpx.AsyncClient, config: SandboxConfig
) -> None:
    await require(client)
    await client.post("/_sandbox/messenger/config", json={"page_access_token": "rotated"})
    stale = await client.post(
        "/v26.0/me/messages",
        params={
            "access_token": "rotated",
            "appsecret_proof": proof(config, config.page_access_token),
        },
        json=message(),
    )
    assert stale.json()["error"]["message"].startswith("Invalid appsecret_proof")
    fresh = await client.post(
        "/v26.0/me/messages",
        params={"access_token": "rotated", "appsecret_proof": proof(config, "rotated")},
        json=message(),
    )
    assert fresh.status_code == 200


async def test_switched_on_from_the_config() -> None:
    strict = SandboxConfig(require_appsecret_proof=True)
    app = create_sandbox_app(strict)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://s.test"
    ) as client:
        await client.post("/_sandbox/messenger/users", json={"psid": PSID})
        token = {"access_token": strict.page_access_token}
        refused = await client.post("/v26.0/me/messages", params=token, json=message())
        assert refused.json()["error"]["code"] == 100
        await client.post("/_sandbox/reset")
        assert (await client.get("/_sandbox/messenger/config")).json()["require_appsecret_proof"]
