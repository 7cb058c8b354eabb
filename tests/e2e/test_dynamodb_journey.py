"""`sendsongs serve` on `dynamodb://` (a moto server started here) passes the same
journey as on SQLite: both sign-up flows, a share, a play, the notifications."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.harness import SENDSONGS, Bot, Sandbox, bot_env
from tests.e2e.test_journey import test_share_play_notify_post_note as journey
from tests.moto_server import aws_env, moto_server


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    with moto_server() as url:
        yield url


@pytest.fixture
def env(ports: tuple[int, int], tmp_path: Path, moto_url: str) -> dict[str, str]:
    bot_port, sandbox_port = ports
    return {
        **bot_env(bot_port, sandbox_port, tmp_path / "unused.db"),
        **aws_env(moto_url),
        "SENDSONGS_DATABASE_URL": f"dynamodb://e2e{uuid.uuid4().hex[:10]}",
    }


def test_serve_on_dynamodb_passes_the_journey(bot: Bot, sandbox: Sandbox) -> None:
    journey(bot, sandbox)


def test_migrate_creates_the_tables_once(env: dict[str, str]) -> None:
    for _ in range(2):  # the second run finds them as expected
        done = subprocess.run(
            [SENDSONGS, "migrate"], env=env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        assert "is up to date" in done.stdout
