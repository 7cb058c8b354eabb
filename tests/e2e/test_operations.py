"""Running the bot: refusing bad settings, surviving kill -9, stopping on SIGTERM, logs."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
from pathlib import Path

import pytest

from tests.e2e.harness import SENDSONGS, Sandbox, start_bot, wait_until
from tests.e2e.test_journey import ALICE, BOB, TRACK, people, register_in_chat, register_with_code


def run_serve(
    env: dict[str, str], tmp_path: Path, port: int = 1, command: str = "serve"
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [SENDSONGS, command, "--port", str(port)], env=env, cwd=tmp_path,
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip


def test_serve_refuses_to_start_without_a_setting(env: dict[str, str], tmp_path: Path) -> None:
    missing = {k: v for k, v in env.items() if k != "MESSENGER_APP_SECRET"}
    result = run_serve(missing, tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "MESSENGER_APP_SECRET" in result.stderr and "Traceback" not in result.stderr


def test_serve_refuses_an_invalid_value(env: dict[str, str], tmp_path: Path) -> None:
    result = run_serve({**env, "SENDSONGS_FAST_INTERVAL": "soon"}, tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("sendsongs: SENDSONGS_FAST_INTERVAL")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("setting", "value", "line"),
    [
        ("SENDSONGS_LOG_LEVEL", "LOUD",
         "SENDSONGS_LOG_LEVEL: must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
        ("TELEGRAM_WEBHOOK_SECRET", "bad secret!",
         "TELEGRAM_WEBHOOK_SECRET: must be 1-256 characters, only A-Z, a-z, 0-9, _ and -"),
        ("SENDSONGS_SECRET_KEY", " " * 20,
         "SENDSONGS_SECRET_KEY: must not be blank: at least 16 characters"),
        ("SENDSONGS_PUBLIC_URL", "http://localhost:8000",
         "SENDSONGS_PUBLIC_URL: must be https://…"),
    ],
    ids=["log-level", "webhook-secret", "blank-key", "public-url"],
)  # fmt: skip
def test_serve_refuses_a_bad_setting_in_one_line_naming_it(
    env: dict[str, str], tmp_path: Path, setting: str, value: str, line: str
) -> None:
    telegram = {"TELEGRAM_BOT_TOKEN": "123456:token", "TELEGRAM_WEBHOOK_SECRET": "good_secret-1"}
    result = run_serve({**env, **telegram, setting: value}, tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith(f"sendsongs: {line}"), result.stderr
    assert result.stderr.strip().count("\n") == 0 and "Value error" not in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_the_sandbox_refuses_an_unknown_log_level_in_one_line(
    env: dict[str, str], tmp_path: Path
) -> None:
    result = run_serve({**env, "SENDSONGS_LOG_LEVEL": "LOUD"}, tmp_path, command="sandbox")
    assert result.returncode == 2
    assert result.stderr == (
        "sendsongs: SENDSONGS_LOG_LEVEL: must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL\n"
    )


def test_serve_refuses_a_taken_port_before_any_work_starts(
    env: dict[str, str], ports: tuple[int, int], tmp_path: Path
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", ports[0]))
        taken.listen()
        result = run_serve(env, tmp_path, port=ports[0])
    assert result.returncode == 2
    assert result.stderr == f"sendsongs: --port {ports[0]}: address already in use\n"
    assert "worker_started" not in result.stdout and "Errno" not in result.stdout
    assert not (tmp_path / "sendsongs.db").exists()  # not even the store was touched


def test_pending_share_survives_kill_9(
    sandbox: Sandbox, env: dict[str, str], ports: tuple[int, int], tmp_path: Path
) -> None:
    env = {**env, "SENDSONGS_FIRST_CHECK": "3"}
    bot = start_bot(ports[0], env, tmp_path / "bot.log")
    people(sandbox)
    register_in_chat(bot, sandbox)
    register_with_code(bot, sandbox)
    sandbox.say(ALICE, f'send_song name:"Bob Jones" spotify:track:{TRACK}')
    sandbox.wait_for_message(BOB, "Alice Liddell:")
    bot.process.stop(signal.SIGKILL)
    sandbox.post("/_sandbox/spotify/play", user="bob.spotify", track_id=TRACK)
    restarted = start_bot(ports[0], env, tmp_path / "bot2.log")
    try:
        sandbox.wait_for_message(ALICE, "Bob Jones listened to", timeout=15)
    finally:
        restarted.process.stop()


def test_sigterm_stops_cleanly_and_logs_are_json_without_secrets(
    sandbox: Sandbox, env: dict[str, str], ports: tuple[int, int], tmp_path: Path
) -> None:
    bot = start_bot(ports[0], env, tmp_path / "bot.log")
    people(sandbox)
    register_in_chat(bot, sandbox)
    # uvicorn re-raises the signal once its graceful shutdown is done
    assert bot.process.stop(signal.SIGTERM, timeout=15) in (0, -signal.SIGTERM)
    lines = [line for line in bot.process.output().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]
    assert any(r.get("event") == "worker_stopped" for r in records)
    events = [r.get("event") for r in records]
    assert events.index("worker_stopped") < events.index("stopped")  # then resources released
    text = bot.process.output()
    assert "?t=" not in text and "code=" not in text
    assert env["SENDSONGS_SECRET_KEY"] not in text
    assert "sandbox-page-token" not in text


def test_migrate_is_idempotent(env: dict[str, str], tmp_path: Path) -> None:
    db_env = {"PATH": env["PATH"], "SENDSONGS_DATABASE_URL": f"sqlite:///{tmp_path / 'm.db'}"}
    for _ in range(2):
        result = subprocess.run([SENDSONGS, "migrate"], env=db_env, capture_output=True, text=True)
        assert result.returncode == 0, result.stderr
        assert "up to date" in result.stdout
    wait_until(lambda: (tmp_path / "m.db").exists())


def test_serve_refuses_a_database_it_cannot_open(env: dict[str, str], tmp_path: Path) -> None:
    result = run_serve(
        {**env, "SENDSONGS_DATABASE_URL": "sqlite:///nonexistent/dir/x.db"}, tmp_path
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "sendsongs: SQLite store nonexistent/dir/x.db: unable to open database file"
    )
