"""The sandbox on a real socket: a hanging fault makes a client time out, then recovers."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from sendsongs.sandbox.app import create_sandbox_app
from sendsongs.sandbox.config import SandboxConfig


@pytest.fixture
def server_url() -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(
        create_sandbox_app(SandboxConfig()),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(5)


def test_timeout_fault_hangs_until_the_client_gives_up(server_url: str) -> None:
    with httpx.Client(base_url=server_url, timeout=0.3) as client:
        client.post(
            "/_sandbox/faults", json={"path_prefix": "/api/token", "status": "timeout", "delay": 1}
        )
        with pytest.raises(httpx.ReadTimeout):
            client.post("/api/token", data={"grant_type": "client_credentials"})
        config = SandboxConfig()
        recovered = client.post(
            "/api/token",
            data={"grant_type": "client_credentials"},
            auth=(config.client_id, config.client_secret),
        )
        assert recovered.status_code == 200
        assert client.get("/_sandbox/stats").json()["calls"] == {"POST /api/token": 2}


def test_invalidated_token_then_rotation_over_a_socket(server_url: str) -> None:
    config = SandboxConfig()
    send = {"recipient": {"id": "1003"}, "messaging_type": "UPDATE", "message": {"text": "hi"}}
    with httpx.Client(base_url=server_url, timeout=5) as client:
        client.post("/_sandbox/messenger/users", json={"psid": "1003"})
        client.post(
            "/_sandbox/faults",
            json={"error": "messenger_limit", "usage_header": "business", "regain_minutes": 3},
        )
        client.post("/_sandbox/faults", json={"error": "session_invalidated"})
        old = {"access_token": config.page_access_token}
        throttled = client.post("/v26.0/me/messages", params=old, json=send)
        usage = throttled.headers["x-business-use-case-usage"]
        assert '"estimated_time_to_regain_access":3' in usage
        for _ in range(2):
            dead = client.post("/v26.0/me/messages", params=old, json=send)
            assert dead.json()["error"]["error_subcode"] == 460
        client.post("/_sandbox/messenger/config", json={"page_access_token": "fresh"})
        sent = client.post("/v26.0/me/messages", params={"access_token": "fresh"}, json=send)
        assert sent.status_code == 200
        messages = client.get("/_sandbox/messenger/messages").json()["messages"]
        failed = client.get("/_sandbox/messenger/failed").json()["failed"]
    assert [m["message_id"] for m in messages] == [sent.json()["message_id"]]
    assert [f["error"]["code"] for f in failed] == [80006, 190, 190]
