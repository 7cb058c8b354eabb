"""Benchmarks: webhook intake, listen-check sweeps and Spotify calls per check.

Runs the real bot (SQLite store, Spotify and Messenger clients) against the sandbox
in-process over httpx's ASGI transport, so it measures our code, not a network.

    python benchmarks/run.py [--people 200] [--shares 3] [--events 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import statistics
import tempfile
import time
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import httpx

from sendsongs.bootstrap import Overrides, Runtime, build_app, build_runtime
from sendsongs.config import load_settings
from sendsongs.domain.models import Address, IncomingMessage
from sendsongs.logs import configure_logging
from sendsongs.sandbox.app import create_sandbox_app
from sendsongs.sandbox.catalog import TRACKS
from sendsongs.sandbox.config import SandboxConfig

SANDBOX = "http://sandbox"
HISTORY = "GET /v1/me/player/recently-played"
SENDERS = 50  # webhook events come from this many people


async def main(people: int, shares: int, events: int) -> None:
    config = SandboxConfig()
    sandbox_app = create_sandbox_app(config)
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=sandbox_app), base_url=SANDBOX)
    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(
            SENDSONGS_DATABASE_URL=f"sqlite:///{Path(tmp) / 'bench.db'}",
            SENDSONGS_PUBLIC_URL="https://bot.example",
            SENDSONGS_SECRET_KEY="benchmark-secret-key-0123456789",
            MESSENGER_VERIFY_TOKEN="verify",
            MESSENGER_APP_SECRET=config.app_secret,
            MESSENGER_PAGE_ACCESS_TOKEN=config.page_access_token,
            MESSENGER_GRAPH_URL=f"{SANDBOX}/v26.0",
            SPOTIFY_CLIENT_ID=config.client_id,
            SPOTIFY_CLIENT_SECRET=config.client_secret,
            SPOTIFY_ACCOUNTS_URL=SANDBOX,
            SPOTIFY_API_URL=f"{SANDBOX}/v1",
            SENDSONGS_FIRST_CHECK=0,
            SENDSONGS_FAST_INTERVAL=1,
        )
        runtime = build_runtime(settings, Overrides(http=http))
        await runtime.stores.admin.migrate()
        try:
            print(f"people={people} shares/person={shares} events={events}\n")
            for i in range(SENDERS):
                person = {"psid": _sender(i), "first_name": "Sender", "last_name": str(i)}
                await http.post("/_sandbox/messenger/users", json=person)
            await bench_intake(runtime, config.app_secret, events)
            psids = await register(runtime, http, people)
            await bench_checks(runtime, http, psids, shares)
        finally:
            await runtime.aclose()


async def bench_intake(runtime: Runtime, app_secret: str, events: int) -> None:
    """Signed webhook POSTs answered only after the inbox write: the durable path."""
    app = build_app(runtime, run_worker=False)  # the inbox is drained below, on its own
    bot = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bot")
    latencies = []
    started = time.perf_counter()
    for i in range(events):
        body = json.dumps(_event(f"mid.bench.{i}", _sender(i % SENDERS))).encode()
        signature = "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
        t0 = time.perf_counter()
        answer = await bot.post(
            "/webhook", content=body, headers={"X-Hub-Signature-256": signature}
        )
        latencies.append((time.perf_counter() - t0) * 1000)
        assert answer.status_code == 200, answer.text
    elapsed = time.perf_counter() - started
    await bot.aclose()
    report(
        "webhook intake (verify + parse + durable insert)",
        events_per_s=events / elapsed,
        p50_ms=statistics.median(latencies),
        p99_ms=statistics.quantiles(latencies, n=100)[98],
    )
    # drain the inbox so the messages do not disturb the check benchmark
    started = time.perf_counter()
    while await runtime.service.conversation.process_inbox(limit=200):
        pass
    report(
        "inbox handling (parse + reply via Send API)",
        messages_per_s=events / (time.perf_counter() - started),
    )


async def register(runtime: Runtime, http: httpx.AsyncClient, people: int) -> list[str]:
    """Everyone links Spotify through the real chat-link flow."""
    psids = []
    for i in range(people):
        psid = f"{1000000000000000 + i}"
        await http.post(
            "/_sandbox/messenger/users", json={"psid": psid, "first_name": "P", "last_name": str(i)}
        )
        await http.post("/_sandbox/spotify/users", json={"id": f"sp{i}"})
        link = runtime.service.registration.personal_link(Address("messenger", psid), f"Person {i}")
        token = parse_qs(urlparse(link).query)["t"][0]
        url = urlparse(await runtime.service.registration.start(token))
        form = {k: v[0] for k, v in parse_qs(url.query).items()}
        answer = await http.post(url.path, data={**form, "user": f"sp{i}", "decision": "allow"})
        callback = parse_qs(urlparse(answer.headers["location"]).query)
        await runtime.service.registration.finish(callback["state"][0], callback["code"][0], None)
        psids.append(psid)
    return psids


async def bench_checks(
    runtime: Runtime, http: httpx.AsyncClient, psids: list[str], shares: int
) -> None:
    service = runtime.service
    n = len(psids)
    for i, sender in enumerate(psids):
        for k in range(shares):
            track = TRACKS[k % len(TRACKS)]
            text = f'send_song name:"Person {(i + 1) % n}" spotify:track:{track.id}'
            message = IncomingMessage(
                f"messenger:mid.share.{i}.{k}",
                Address("messenger", sender),
                service.ports.clock.now(),
                text,
            )
            await service.conversation.accept([message])
    while await service.conversation.process_inbox(limit=200):
        pass
    pending = n * shares
    await asyncio.sleep(0.01)
    checked, calls, elapsed = await _sweep(runtime, http)
    report(
        "sweep with nothing played",
        recipients=checked,
        pending_shares=pending,
        history_calls=calls,
        calls_per_recipient=calls / max(checked, 1),
        recipients_per_s=checked / elapsed,
    )
    for i in range(n):  # every friend plays the first song sent to them
        await http.post("/_sandbox/spotify/play", json={"user": f"sp{i}", "track_id": TRACKS[0].id})
    await asyncio.sleep(1.05)  # the fast interval
    checked, calls, elapsed = await _sweep(runtime, http)
    listened = await _count_listened(runtime, psids)
    report(
        "sweep after each friend played one song",
        recipients=checked,
        history_calls=calls,
        listens_detected=listened,
        still_pending=pending - listened,
        recipients_per_s=checked / elapsed,
    )


async def _sweep(runtime: Runtime, http: httpx.AsyncClient) -> tuple[int, int, float]:
    """Run every due check; returns (recipients checked, history calls, seconds)."""
    before = await _calls(http)
    started = time.perf_counter()
    checked = 0
    while (sweep := await runtime.service.checks.run_due(limit=100)).checked:
        checked += sweep.checked
    return checked, await _calls(http) - before, time.perf_counter() - started


async def _count_listened(runtime: Runtime, psids: list[str]) -> int:
    count = 0
    people, shares = runtime.stores.people, runtime.stores.shares
    for psid in psids:
        person = await people.person_at(Address("messenger", psid))
        assert person is not None
        count += sum(s.status == "listened" for s in await shares.shares_sent_by(person.id, 100))
    return count


async def _calls(http: httpx.AsyncClient) -> int:
    return int((await http.get("/_sandbox/stats")).json()["calls"].get(HISTORY, 0))


def _sender(i: int) -> str:
    return f"9{i:015d}"


def _event(mid: str, sender: str) -> dict[str, object]:
    message = {
        "sender": {"id": sender},
        "recipient": {"id": "1"},
        "timestamp": 1,
        "message": {"mid": mid, "text": "help"},
    }
    return {"object": "page", "entry": [{"id": "1", "time": 1, "messaging": [message]}]}


def report(title: str, **figures: float) -> None:
    print(title)
    for name, value in figures.items():
        shown = f"{value:,.1f}" if isinstance(value, float) else f"{value:,}"
        print(f"  {name:<22} {shown:>12}")
    print()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--shares", type=int, default=3)
    parser.add_argument("--events", type=int, default=2000)
    args = parser.parse_args()
    configure_logging("WARNING")
    asyncio.run(main(args.people, args.shares, args.events))
