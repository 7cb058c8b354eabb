"""Fixtures for the sandbox tests: a sandbox app on a settable clock, driven in-process."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from sendsongs.sandbox.app import create_sandbox_app
from sendsongs.sandbox.config import SandboxConfig

from .helpers import FakeClock, Webhook


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def config() -> SandboxConfig:
    return SandboxConfig()


@pytest.fixture
def webhook() -> Webhook:
    return Webhook()


@pytest.fixture
async def app(
    config: SandboxConfig, clock: FakeClock, webhook: Webhook
) -> AsyncIterator[Starlette]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(webhook.handle)) as outbound:
        yield create_sandbox_app(config, webhook_client=outbound, clock=clock)


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox.test") as c:
        yield c
