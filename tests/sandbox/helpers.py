"""Shared steps for the sandbox tests: logging in through the fake Spotify, auth headers."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from sendsongs.sandbox.config import SandboxConfig
from sendsongs.sandbox.spotify_grants import s256

REDIRECT_URI = "http://bot.test/spotify/callback"
START = 1_795_000_000.0  # 2026-11-18, a fixed "now" so timestamps are predictable


class FakeClock:
    """Unix seconds that move only when a test says so."""

    def __init__(self, now: float = START) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Webhook:
    """Records what the sandbox posted to the bot's webhook."""

    requests: list[httpx.Request] = field(default_factory=list)
    status: int = 200

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(self.status, text="EVENT_RECEIVED")


def basic(config: SandboxConfig) -> dict[str, str]:
    raw = f"{config.client_id}:{config.client_secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def authorize(
    client: httpx.AsyncClient,
    config: SandboxConfig,
    user: str = "alice",
    scope: str = "user-read-recently-played",
    challenge: str | None = None,
    state: str = "st4te",
) -> str:
    """Walk the consent form as a browser would; the code from the redirect."""
    form = {
        "client_id": config.client_id,
        "response_type": "code",
        "redirect_uri": REDIRECT_URI,
        "state": state,
        "scope": scope,
        "new_user": user,
        "decision": "allow",
    }
    if challenge is not None:
        form |= {"code_challenge_method": "S256", "code_challenge": challenge}
    response = await client.post("/authorize", data=form)
    assert response.status_code == 302, response.text
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert query["state"] == [state]
    return query["code"][0]


async def login(
    client: httpx.AsyncClient,
    config: SandboxConfig,
    user: str = "alice",
    scope: str = "user-read-recently-played",
) -> dict[str, Any]:
    """A finished PKCE login: the token response."""
    verifier = secrets.token_urlsafe(48)
    code = await authorize(client, config, user, scope, challenge=s256(verifier))
    response = await client.post(
        "/api/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "client_id": config.client_id,
            "code_verifier": verifier,
        },
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
