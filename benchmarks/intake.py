"""Webhook intake under load: `sendsongs serve` (with `sendsongs sandbox` playing
Messenger and Telegram) against a bare endpoint of the same web stack, driven by the
same client in the same run.

The client holds several keep-alive connections, each posting signed events
(Messenger: `X-Hub-Signature-256`; Telegram: the secret header) as fast as they are
answered; it is written over asyncio's streams to cost less than the servers.
Every event is a "help" from one of a pool of people the sandbox knows, so each
accepted event must produce a reply the sandbox receives: that is the proof nothing
accepted was lost.

    python benchmarks/intake.py [--events 5000] [--connections 8] [--runs 3]

Exits 1 if an event was refused, errored or never answered.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import hmac
import json
import os
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from benchmarks.tables import number, percentile, span, table
from tests.e2e.harness import (
    APP_SECRET,
    Process,
    Running,
    Sandbox,
    bot_env,
    free_port,
    start_bot,
    start_sandbox,
    wait_until,
)

TG_TOKEN = "123456:sandbox-telegram-token"
TG_SECRET = "bench-telegram-secret"
PEOPLE = 100  # senders per channel; events cycle through them
TG_FIRST_ID = 7_000_000
CHANNELS = ("messenger", "telegram")
# The bare endpoint answers a burst in a fraction of a second: it gets this many times
# the events, so its rate is read over a comparable stretch of time.
BARE_SCALE = 3


@dataclass
class Load:
    """What one burst of events got back."""

    sent: int = 0
    accepted: int = 0
    refused: int = 0  # any answer but the accepting 200
    errors: int = 0  # no answer at all (connection error, timeout)
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # the server process's CPU over the burst
    latencies_ms: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.accepted / self.seconds if self.seconds else 0.0


@dataclass
class Round:
    """One run: per channel, the bare endpoint and serve, and the answers."""

    bare: dict[str, Load] = field(default_factory=dict)
    serve: dict[str, Load] = field(default_factory=dict)
    answered: dict[str, int] = field(default_factory=dict)
    drain_s: dict[str, float] = field(default_factory=dict)


class Events:
    """Signed webhook bodies, each unique (a new mid or update_id), built before the
    clock starts so the client spends its time sending."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.next_update = 1

    def messenger(self, n: int) -> list[tuple[str, bytes, dict[str, str]]]:
        out = []
        for i in range(n):
            psid = _psid(i % PEOPLE)
            body = json.dumps(
                {
                    "object": "page",
                    "entry": [
                        {
                            "id": "1",
                            "time": 1,
                            "messaging": [
                                {
                                    "sender": {"id": psid},
                                    "recipient": {"id": "1"},
                                    "timestamp": 1,
                                    "message": {"mid": f"m_{self.tag}_{i}", "text": "help"},
                                }
                            ],
                        }
                    ],
                }
            ).encode()
            digest = hmac.new(APP_SECRET.encode(), body, hashlib.sha256).hexdigest()
            headers = {
                "X-Hub-Signature-256": f"sha256={digest}",
                "Content-Type": "application/json",
            }
            out.append(("/webhook", body, headers))
        return out

    def telegram(self, n: int) -> list[tuple[str, bytes, dict[str, str]]]:
        out = []
        headers = {"X-Telegram-Bot-Api-Secret-Token": TG_SECRET, "Content-Type": "application/json"}
        for i in range(n):
            user = TG_FIRST_ID + i % PEOPLE
            person = {"id": user, "is_bot": False, "first_name": "Load", "last_name": str(user)}
            message = {
                "message_id": self.next_update,
                "from": person,
                "chat": {"id": user, "type": "private", "first_name": "Load"},
                "date": int(time.time()),
                "text": "help",
            }
            body = json.dumps({"update_id": self.next_update, "message": message}).encode()
            self.next_update += 1
            out.append(("/telegram/webhook", body, headers))
        return out


async def drive(
    url: str, events: Sequence[tuple[str, bytes, dict[str, str]]], connections: int, pid: int
) -> Load:
    """Post every event over `connections` keep-alive connections, each waiting for
    its answer before sending the next (a closed loop, as webhook senders do).

    The client is a few lines over asyncio's streams, HTTP/1.1 written by hand: it
    must cost less than the fastest server it measures, or the figures are its own.
    httpx's AsyncClient spends about 3 ms of CPU per request on this machine, a
    bare endpoint 0.1 ms: with it the bare endpoint measured the client.
    """
    load = Load(sent=len(events))
    address = urlsplit(url)
    host, port = address.hostname or "127.0.0.1", address.port or 80
    accepting = {"/webhook": b"EVENT_RECEIVED", "/telegram/webhook": b"ok"}
    requests = iter(
        [(path, _request(address.netloc, path, body, headers)) for path, body, headers in events]
    )

    async def one_connection() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            for path, request in requests:
                started = time.perf_counter()
                writer.write(request)
                try:
                    status, content = await _response(reader)
                except (OSError, asyncio.IncompleteReadError, ValueError):
                    load.errors += 1
                    return  # the connection is unusable; the others carry on
                load.latencies_ms.append((time.perf_counter() - started) * 1000)
                if status == 200 and content == accepting[path]:
                    load.accepted += 1
                else:
                    load.refused += 1
        finally:
            writer.close()

    cpu_before, started = _cpu_seconds(pid), time.perf_counter()
    await asyncio.gather(*(one_connection() for _ in range(connections)))
    load.seconds = time.perf_counter() - started
    load.cpu_seconds = _cpu_seconds(pid) - cpu_before
    return load


def _request(netloc: str, path: str, body: bytes, headers: dict[str, str]) -> bytes:
    lines = [f"POST {path} HTTP/1.1", f"Host: {netloc}", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def _response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """(status, body) of one response; uvicorn states Content-Length for these."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    return status, await reader.readexactly(length)


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process (Linux /proc), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def sent_to_people(sandbox: Sandbox) -> dict[str, int]:
    """How many messages the bot has sent so far, per channel."""
    counts = {}
    for channel in CHANNELS:
        answer = sandbox.http.get(f"/_sandbox/{channel}/messages", params={"since": 10**9})
        counts[channel] = int(answer.json()["next"])
    return counts


def one_round(
    tag: str,
    bare: Running,
    bot: Running,
    sandbox: Sandbox,
    db: Path,
    events: int,
    connections: int,
    replies_per_help: dict[str, int],
) -> Round:
    result = Round()
    maker = Events(tag)
    maker.next_update = 1_000_000 * (1 + int(tag.rsplit("r", 1)[-1]))
    for channel in CHANNELS:
        build: Callable[[int], list[tuple[str, bytes, dict[str, str]]]] = getattr(maker, channel)
        bare_events, bot_events = build(BARE_SCALE * events), build(events)
        assert bare.process.popen is not None and bot.process.popen is not None
        result.bare[channel] = asyncio.run(
            drive(bare.url, bare_events, connections, bare.process.popen.pid)
        )
        before = sent_to_people(sandbox)[channel]
        result.serve[channel] = load = asyncio.run(
            drive(bot.url, bot_events, connections, bot.process.popen.pid)
        )
        finished = time.perf_counter()
        expected = before + load.accepted * replies_per_help[channel]
        with contextlib.suppress(AssertionError):  # reported below as unanswered
            wait_until(lambda: sent_to_people(sandbox)[channel] >= expected, timeout=120, every=0.1)  # noqa: B023
        result.drain_s[channel] = time.perf_counter() - finished
        result.answered[channel] = (sent_to_people(sandbox)[channel] - before) // replies_per_help[
            channel
        ]
        stored, waiting = _inbox(db, channel)
        result.answered[channel] = min(result.answered[channel], stored - waiting)
    return result


def _inbox(db: Path, channel: str) -> tuple[int, int]:
    """(messages stored, messages not yet handled) of one channel, read from the file."""
    with sqlite3.connect(db, timeout=30) as conn:
        row = conn.execute(
            "SELECT count(*), coalesce(sum(done = 0), 0) FROM inbox WHERE id LIKE ?",
            (f"{channel}:%",),
        ).fetchone()
    return int(row[0]), int(row[1])


def calibrate(bot: Running, sandbox: Sandbox, connections: int) -> dict[str, int]:
    """Replies to one "help", per channel (the help text may take more than one message)."""
    maker, per_help = Events("calibrate"), {}
    for channel in CHANNELS:
        before = sent_to_people(sandbox)[channel]
        events = getattr(maker, channel)(1)
        assert bot.process.popen is not None
        load = asyncio.run(drive(bot.url, events, 1, bot.process.popen.pid))
        assert load.accepted == 1, f"{channel}: the first event was not accepted"
        wait_until(lambda: sent_to_people(sandbox)[channel] > before, timeout=20)  # noqa: B023
        time.sleep(0.5)  # the rest of a reply split in parts
        per_help[channel] = sent_to_people(sandbox)[channel] - before
    return per_help


def people(sandbox: Sandbox) -> None:
    for i in range(PEOPLE):
        sandbox.post(
            "/_sandbox/messenger/users", psid=_psid(i), first_name="Load", last_name=str(i)
        )
        user = TG_FIRST_ID + i
        sandbox.post(
            "/_sandbox/telegram/users",
            id=user,
            first_name="Load",
            last_name=str(user),
            started=True,
        )


def _psid(i: int) -> str:
    return f"8{i:015d}"


def start_bare(port: int, env: dict[str, str], log: Path) -> Running:
    script = str(Path(__file__).with_name("bare_endpoint.py"))
    process = Process([sys.executable, script, str(port), APP_SECRET, TG_SECRET], env, log)
    process.start()
    bare = Running(f"http://127.0.0.1:{port}", process)
    wait_until(lambda: _up(bare.http), timeout=20)
    return bare


def _up(http: httpx.Client) -> bool:
    try:
        return http.get("/healthz").status_code == 200
    except httpx.TransportError:
        return False


def report(rounds: list[Round], events: int, connections: int) -> bool:
    """Print the tables; True when nothing was refused, errored or left unanswered."""
    rows, ok = [], True
    for channel in CHANNELS:
        bare = [r.bare[channel] for r in rounds]
        serve = [r.serve[channel] for r in rounds]
        lost = [s.accepted - r.answered[channel] for s, r in zip(serve, rounds, strict=True)]
        failed = sum(s.refused + s.errors for s in serve + bare)
        ok = ok and failed == 0 and sum(lost) == 0
        rows.append(
            [
                channel.capitalize(),
                span([b.rate for b in bare]),
                span([s.rate for s in serve]),
                span([100 * s.rate / b.rate for s, b in zip(serve, bare, strict=True)]) + " %",
                span([percentile(s.latencies_ms, 50) for s in serve], 1),
                span([percentile(s.latencies_ms, 99) for s in serve], 1),
                span([percentile(b.latencies_ms, 99) for b in bare], 1),
                span([1000 * s.cpu_seconds / s.accepted for s in serve if s.accepted], 2),
                span([1000 * b.cpu_seconds / b.accepted for b in bare if b.accepted], 2),
                f"{sum(r.answered[channel] for r in rounds):,} of "
                f"{sum(s.accepted for s in serve):,}",
                span([r.drain_s[channel] for r in rounds], 1),
                f"{failed}",
            ]
        )
    headers = [
        "channel",
        "bare events/s",
        "serve events/s",
        "serve / bare",
        "serve p50 ms",
        "serve p99 ms",
        "bare p99 ms",
        "serve CPU ms/event",
        "bare CPU ms/event",
        "answered",
        "last answer after s",
        "refused or errors",
    ]
    print(
        f"### Webhook intake: {number(events)} events per target per run, "
        f"{connections} keep-alive connections, {len(rounds)} runs\n"
    )
    print(table(headers, rows))
    print()
    return ok


def main(events: int, connections: int, runs: int) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        bot_port, sandbox_port, bare_port = free_port(), free_port(), free_port()
        db = Path(tmp) / "intake.db"
        env = bot_env(
            bot_port,
            sandbox_port,
            db,
            TELEGRAM_BOT_TOKEN=TG_TOKEN,
            TELEGRAM_WEBHOOK_SECRET=TG_SECRET,
            TELEGRAM_API_URL=f"http://127.0.0.1:{sandbox_port}",
        )
        sandbox = start_sandbox(sandbox_port, env, Path(tmp) / "sandbox.log")
        bot = start_bot(bot_port, env, Path(tmp) / "bot.log")
        bare = start_bare(bare_port, env, Path(tmp) / "bare.log")
        try:
            people(sandbox)
            per_help = calibrate(bot, sandbox, connections)
            rounds = [
                one_round(f"r{i}", bare, bot, sandbox, db, events, connections, per_help)
                for i in range(runs)
            ]
        finally:
            for running in (bare, bot, sandbox):
                running.process.stop()
    return 0 if report(rounds, events, connections) else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    sys.exit(main(args.events, args.connections, args.runs))
