"""Run `sendsongs serve` and `sendsongs sandbox` as real processes and talk HTTP to them."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx

SENDSONGS = str(Path(sys.executable).with_name("sendsongs"))
APP_SECRET = "sandbox-app-secret"
VERIFY_TOKEN = "e2e-verify-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(condition: Callable[[], Any], timeout: float = 10.0, every: float = 0.1) -> Any:
    """Poll until `condition()` is truthy; its value, or AssertionError after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout}s waiting for {condition}")
        time.sleep(every)


@dataclass
class Process:
    args: list[str]
    env: dict[str, str]
    log: Path
    popen: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        out = self.log.open("ab")
        self.popen = subprocess.Popen(self.args, env=self.env, stdout=out, stderr=subprocess.STDOUT)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        assert self.popen is not None
        if self.popen.poll() is None:
            self.popen.send_signal(sig)
        return self.popen.wait(timeout)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@dataclass
class Running:
    """A started process and an HTTP client pointed at it."""

    url: str
    process: Process
    http: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.http = httpx.Client(base_url=self.url, timeout=10)


class Sandbox(Running):
    def post(self, path: str, **body: Any) -> Any:
        response = self.http.post(path, json=body)
        response.raise_for_status()
        return response.json()

    def messages(self, psid: str) -> list[str]:
        """The texts the bot sent to `psid`, oldest first."""
        response = self.http.get("/_sandbox/messenger/messages", params={"psid": psid})
        response.raise_for_status()
        return [m["text"] for m in response.json()["messages"]]

    def say(self, psid: str, text: str, **extra: Any) -> Any:
        return self.post("/_sandbox/messenger/say", psid=psid, text=text, **extra)

    def wait_for_message(self, psid: str, needle: str, timeout: float = 10.0) -> str:
        def found() -> str | None:
            return next((m for m in self.messages(psid) if needle in m), None)

        return str(wait_until(found, timeout))

    def calls(self, key: str) -> int:
        return int(self.http.get("/_sandbox/stats").json()["calls"].get(key, 0))


class Bot(Running):
    def post_event(self, body: bytes, secret: str = APP_SECRET) -> httpx.Response:
        signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        return self.http.post(
            "/webhook",
            content=body,
            headers={"X-Hub-Signature-256": signature, "Content-Type": "application/json"},
        )


def bot_env(bot_port: int, sandbox_port: int, db: Path, **extra: str) -> dict[str, str]:
    sandbox = f"http://127.0.0.1:{sandbox_port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SENDSONGS_", "MESSENGER_"))}
    env.update(
        SENDSONGS_DATABASE_URL=f"sqlite:///{db}",
        SENDSONGS_PUBLIC_URL=f"http://127.0.0.1:{bot_port}",
        SENDSONGS_SECRET_KEY="e2e-secret-key-0123456789abcdef",
        MESSENGER_VERIFY_TOKEN=VERIFY_TOKEN,
        MESSENGER_APP_SECRET=APP_SECRET,
        MESSENGER_PAGE_ACCESS_TOKEN="sandbox-page-token",
        MESSENGER_GRAPH_URL=f"{sandbox}/v26.0",
        SPOTIFY_CLIENT_ID="sandbox-client-id",
        SPOTIFY_CLIENT_SECRET="sandbox-client-secret",
        SPOTIFY_ACCOUNTS_URL=sandbox,
        SPOTIFY_API_URL=f"{sandbox}/v1",
        SANDBOX_WEBHOOK_URL=f"http://127.0.0.1:{bot_port}/webhook",
        SENDSONGS_FIRST_CHECK="1",
        SENDSONGS_FAST_INTERVAL="1",
        SENDSONGS_FAST_WINDOW="30",
        SENDSONGS_SLOW_INTERVAL="2",
        SENDSONGS_EXPIRE_AFTER="600",
    )
    env.update(extra)
    return env


def start_sandbox(port: int, env: Mapping[str, str], log: Path) -> Sandbox:
    process = Process([SENDSONGS, "sandbox", "--port", str(port)], dict(env), log)
    process.start()
    sandbox = Sandbox(f"http://127.0.0.1:{port}", process)
    wait_until(lambda: _up(sandbox.http, "/_sandbox/stats"), timeout=20)
    return sandbox


def start_bot(port: int, env: Mapping[str, str], log: Path, *, healthy: bool = True) -> Bot:
    """Started and serving; `healthy=False`: serving, whatever /healthz says."""
    process = Process([SENDSONGS, "serve", "--port", str(port)], dict(env), log)
    process.start()
    bot = Bot(f"http://127.0.0.1:{port}", process)
    wait_until(
        lambda: _up(bot.http, "/healthz", healthy) or process.popen.poll() is not None,  # type: ignore[union-attr]
        timeout=20,
    )
    return bot


def _up(http: httpx.Client, path: str, healthy: bool = True) -> bool:
    try:
        status = http.get(path).status_code
    except httpx.TransportError:
        return False
    return status == 200 or not healthy


def consent(sandbox: Sandbox, authorize_url: str, user: str, decision: str = "allow") -> str:
    """Be the person on Spotify's consent page: returns the callback URL it sends you to."""
    parsed = urlparse(authorize_url)
    form = {k: v[0] for k, v in parse_qs(parsed.query).items()}
    page = sandbox.http.get(parsed.path, params=form)
    assert page.status_code == 200, page.text
    assert "recently played" in page.text
    answer = sandbox.http.post(parsed.path, data={**form, "user": user, "decision": decision})
    assert answer.status_code in (302, 303), answer.text
    return answer.headers["location"]


def link_in(text: str) -> str:
    match = re.search(r"https?://\S+/spotify/login\?t=\S+", text)
    assert match, text
    return match.group(0)
