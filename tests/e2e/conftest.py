"""Fixtures: a sandbox and a bot, each a real process on a free port."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.harness import Bot, Sandbox, bot_env, free_port, start_bot, start_sandbox


@pytest.fixture
def ports() -> tuple[int, int]:
    return free_port(), free_port()


@pytest.fixture
def env(ports: tuple[int, int], tmp_path: Path) -> dict[str, str]:
    bot_port, sandbox_port = ports
    return bot_env(bot_port, sandbox_port, tmp_path / "sendsongs.db")


@pytest.fixture
def sandbox(ports: tuple[int, int], env: dict[str, str], tmp_path: Path) -> Iterator[Sandbox]:
    running = start_sandbox(ports[1], env, tmp_path / "sandbox.log")
    yield running
    running.process.stop()


@pytest.fixture
def bot(
    ports: tuple[int, int], env: dict[str, str], sandbox: Sandbox, tmp_path: Path
) -> Iterator[Bot]:
    running = start_bot(ports[0], env, tmp_path / "bot.log")
    yield running
    running.process.stop()
