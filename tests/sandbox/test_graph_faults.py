"""Graph's named refusals as faults: bodies, scope, duration, usage headers, token rotation."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from sendsongs.sandbox.config import SandboxConfig

SEND = "/v26.0/me/messages"
ALICE, BOB = "1001", "1003"


@pytest.fixture(autouse=True)
async def people(client: httpx.AsyncClient) -> None:
    for psid, name in ((ALICE, "Alice"), (BOB, "Bob")):
        await client.post("/_sandbox/messenger/users", json={"psid": psid, "first_name": name})


async def send(
    client: httpx.AsyncClient, psid: str, text: str = "hi", token: str = "sandbox-page-token"
) -> httpx.Response:
    body = {"recipient": {"id": psid}, "messaging_type": "UPDATE", "message": {"text": text}}
    return await client.post(SEND, params={"access_token": token}, json=body)


async def fault(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    response = await client.post("/_sandbox/faults", json=body)
    assert response.status_code == 200, response.text
    created: dict[str, Any] = response.json()["fault"]
    return created


async def delivered(client: httpx.AsyncClient, psid: str | None = None) -> list[str]:
    params = {"psid": psid} if psid else {}
    answer = (await client.get("/_sandbox/messenger/messages", params=params)).json()
    return [m["text"] for m in answer["messages"]]


async def failed(client: httpx.AsyncClient, psid: str | None = None) -> list[dict[str, Any]]:
    params = {"psid": psid} if psid else {}
    answer: list[dict[str, Any]] = (
        await client.get("/_sandbox/messenger/failed", params=params)
    ).json()["failed"]
    return answer


EXPECTED = {
    "app_limit": (4, None, "(#4) Application request limit reached", True),
    "user_limit": (17, None, "(#17) User request limit reached", True),
    "page_limit": (32, None, "(#32) Page request limit reached", True),
    "rate_limit": (613, None, "(#613) Calls to this api have exceeded the rate limit.", True),
    "messenger_limit": (80006, None, "(#80006) There have been too many messenger api calls", True),
    "internal_error": (-1, 2018012, "(#-1) Send API unexpected internal error", True),
    "page_restricted": (10, 1893063, "Application does not have permission", False),
    "session_invalidated": (190, 460, "Error validating access token: The session has", False),
    "unavailable": (551, 1545041, "(#551) This person isn't available right now.", False),
    "outside_window": (10, 2018278, "(#10) This message is sent outside of allowed window", False),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
async def test_each_named_error_wears_graphs_body(client: httpx.AsyncClient, name: str) -> None:
    code, subcode, message, transient = EXPECTED[name]
    await fault(client, error=name, count=1)
    response = await send(client, BOB)
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["code"], error.get("error_subcode")) == (code, subcode)
    assert error["message"].startswith(message)
    assert error["type"] == "OAuthException" and error["fbtrace_id"]
    assert error.get("is_transient", False) is transient
    assert "X-App-Usage" not in response.headers
    assert "X-Business-Use-Case-Usage" not in response.headers
    if name == "page_restricted":
        assert "temporarily restricted" in error["error_user_msg"]
    if name != "session_invalidated":  # that one lasts until the token changes
        assert (await send(client, BOB)).status_code == 200


async def test_password_change_lasts_until_a_new_token_is_installed(
    client: httpx.AsyncClient, config: SandboxConfig
) -> None:
    await fault(client, error="session_invalidated")
    for _ in range(3):
        refused = await send(client, BOB, "Alice: Harbor Song")
        assert refused.json()["error"]["error_subcode"] == 460
        assert refused.headers["WWW-Authenticate"].startswith('OAuth "Facebook Platform"')
    profile = await client.get(f"/v26.0/{BOB}", params={"access_token": config.page_access_token})
    assert profile.json()["error"]["code"] == 190
    assert await delivered(client) == []
    assert [f["error"]["code"] for f in await failed(client, BOB)] == [190, 190, 190]

    answer = await client.post("/_sandbox/messenger/config", json={"page_access_token": "new-tok"})
    assert answer.json()["page_access_token"] == "new-tok"
    assert (await send(client, BOB, "Alice: Harbor Song", token="new-tok")).status_code == 200
    assert await delivered(client, BOB) == ["Alice: Harbor Song"]
    old = (await send(client, BOB, token=config.page_access_token)).json()["error"]
    assert (old["code"], old["error_subcode"]) == (190, 460)
    assert len(await failed(client)) == 4


async def test_a_fault_can_be_narrowed_to_one_recipient(client: httpx.AsyncClient) -> None:
    created = await fault(client, error="unavailable", psid=BOB, until_cleared=True)
    assert created["psid"] == BOB and created["remaining"] is None and created["until_cleared"]
    for _ in range(2):
        assert (await send(client, BOB)).json()["error"]["code"] == 551
        assert (await send(client, ALICE, "to Alice")).status_code == 200
    assert await delivered(client) == ["to Alice", "to Alice"]
    assert [f["recipient_id"] for f in await failed(client)] == [BOB, BOB]
    await client.delete("/_sandbox/faults")
    assert (await send(client, BOB)).status_code == 200


async def test_a_counted_fault_runs_out(client: httpx.AsyncClient) -> None:
    await fault(client, error="rate_limit", count=2)
    codes = [(await send(client, BOB)).status_code for _ in range(3)]
    assert codes == [400, 400, 200]
    assert (await client.get("/_sandbox/faults")).json() == {"faults": []}


async def test_named_errors_hit_the_send_api_not_profiles(
    client: httpx.AsyncClient, config: SandboxConfig
) -> None:
    await fault(client, error="messenger_limit", until_cleared=True)
    profile = await client.get(f"/v26.0/{BOB}", params={"access_token": config.page_access_token})
    assert profile.status_code == 200
    assert (await send(client, BOB)).json()["error"]["code"] == 80006


async def test_business_use_case_header_says_when_access_returns(
    client: httpx.AsyncClient, config: SandboxConfig
) -> None:
    await fault(client, error="messenger_limit", usage_header="business", regain_minutes=7)
    response = await send(client, BOB)
    usage = json.loads(response.headers["X-Business-Use-Case-Usage"])
    [entry] = usage[config.page_id]
    assert entry["type"] == "messenger" and entry["call_count"] == 100
    assert entry["estimated_time_to_regain_access"] == 7
    assert {"total_cputime", "total_time"} <= entry.keys()
    await fault(client, error="page_limit", usage_header="business")
    [pages] = json.loads((await send(client, BOB)).headers["X-Business-Use-Case-Usage"])[
        config.page_id
    ]
    assert pages["type"] == "pages" and pages["estimated_time_to_regain_access"] == 1


async def test_app_usage_header_has_only_percentages(client: httpx.AsyncClient) -> None:
    await fault(client, error="app_limit", usage_header="app")
    response = await send(client, BOB)
    assert json.loads(response.headers["X-App-Usage"]) == {
        "call_count": 100,
        "total_cputime": 27,
        "total_time": 31,
    }
    assert "Retry-After" not in response.headers


async def test_old_fault_shapes_still_work_beside_named_ones(client: httpx.AsyncClient) -> None:
    await fault(client, path_prefix=SEND, status=503)
    await fault(client, error="user_limit")
    assert (await send(client, BOB)).status_code == 503
    assert (await send(client, BOB)).json()["error"]["code"] == 17
    [first, second] = await failed(client)
    assert (first["status"], first["error"]["code"]) == (503, 2)
    assert (second["status"], second["error"]["code"]) == (400, 17)


@pytest.mark.parametrize(
    "body",
    [
        {"error": "nope"},
        {"error": "unavailable", "usage_header": "page"},
        {"error": "unavailable", "regain_minutes": -1},
        {"error": "unavailable", "until_cleared": "yes"},
        {"error": "unavailable", "status": "timeout"},
        {"error": "unavailable", "path_prefix": "v26.0"},
    ],
)
async def test_bad_fault_requests_are_refused(
    client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    assert (await client.post("/_sandbox/faults", json=body)).status_code == 400
