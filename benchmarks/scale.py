"""Scale of the scheduler: pending shares and recipient checks in the store.

For each size (default 1k, 10k and 100k pending shares, five per recipient) a fresh
SQLite store is filled through the store's own API, every recipient's check falls
due at once, and the checks are found, claimed and settled the way the worker does
(claim in batches of 100; per recipient: read its pending shares, settle them with a
next check). Also measured: one poll when nothing is due (the worker polls every
half second), the database's size, and the RSS of `sendsongs serve` started on that
database (at rest, its worker polling).

DynamoDB (moto server) and the Lambda handlers' cold start are measured when this
build has them (`sendsongs.stores.dynamodb`, `sendsongs.aws.handlers`).

    python benchmarks/scale.py [--sizes 1000 10000 100000] [--dynamodb-sizes 100 500]
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from benchmarks.tables import number, span, table
from sendsongs.crypto import TokenCipher
from sendsongs.domain.models import Address, Person, Share, ShareStatus, Track
from sendsongs.ports import Stores
from sendsongs.stores.sqlite import open_sqlite
from tests.e2e.harness import bot_env, free_port, start_bot, start_sandbox

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PER_RECIPIENT = 5
SENDERS = 1000
BATCH = 100  # the worker's claim size
LEASE = timedelta(seconds=60)
TRACK = Track(
    uri="spotify:track:46X0dXeliHXD73sxexJx7d",
    name="Happy Now",
    artists=("Zedd",),
    duration_ms=207_000,
    url="https://open.spotify.com/track/46X0dXeliHXD73sxexJx7d",
)


@dataclass
class Figures:
    shares: int
    recipients: int
    fill_s: float = 0.0
    poll_ms: float = 0.0
    claim_s: float = 0.0
    settle_s: float = 0.0
    claimed: int = 0
    settled: int = 0
    listened: int = 0
    db_mb: float = 0.0
    rss_mb: float = 0.0


async def fill(stores: Stores, shares: int) -> int:
    recipients = max(1, shares // PER_RECIPIENT)
    senders = min(SENDERS, recipients)
    people = stores.people
    for i in range(recipients + senders):
        await people.save_person(
            Person(f"p{i}", f"Person {i}", T0), Address("messenger", f"{10**15 + i}")
        )
    for n in range(shares):
        recipient = n % recipients
        sender = recipients + n % senders
        await stores.shares.add_share(
            Share(
                id=f"s{n}",
                sender_id=f"p{sender}",
                recipient_id=f"p{recipient}",
                track=TRACK,
                shared_at=T0,
                next_check_at=T0 + timedelta(minutes=4),
            )
        )
    return recipients


async def sweep(stores: Stores, figures: Figures) -> None:
    """Every check is due: claim all of them, then settle each (one share in five
    listened, the rest checked again in five minutes)."""
    now = T0 + timedelta(minutes=5)
    started = time.perf_counter()
    claimed = []
    while batch := await stores.shares.claim_due_checks(now, now + LEASE, BATCH):
        claimed += batch
    figures.claim_s = time.perf_counter() - started
    figures.claimed = len(claimed)
    started = time.perf_counter()
    for check in claimed:
        pending = await stores.shares.pending_shares(check.recipient_id)
        updated = []
        for k, share in enumerate(pending):
            if k == 0:
                updated.append(
                    Share(**{**share.__dict__, "status": ShareStatus.LISTENED, "settled_at": now})
                )
                figures.listened += 1
            else:
                updated.append(
                    Share(**{**share.__dict__, "next_check_at": now + timedelta(minutes=5)})
                )
        next_at = now + timedelta(minutes=5) if len(updated) > 1 else None
        figures.settled += await stores.shares.settle_check(check, updated, next_at)
    figures.settle_s = time.perf_counter() - started
    # the worker's poll when nothing is due: what it costs twice a second
    polls = 50
    started = time.perf_counter()
    for _ in range(polls):
        assert await stores.shares.claim_due_checks(now, now + LEASE, BATCH) == []
    figures.poll_ms = (time.perf_counter() - started) * 1000 / polls


def serve_rss(db: Path, tmp: Path) -> float:
    """RSS of `sendsongs serve` on the database, once it answers and has polled."""
    bot_port, sandbox_port = free_port(), free_port()
    env = bot_env(bot_port, sandbox_port, db)
    sandbox = start_sandbox(sandbox_port, env, tmp / "sandbox.log")
    bot = start_bot(bot_port, env, tmp / "bot.log")
    try:
        time.sleep(2)  # a few polls of the worker
        assert bot.process.popen is not None
        status = Path(f"/proc/{bot.process.popen.pid}/status").read_text()
        kb = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS"))
    finally:
        bot.process.stop()
        sandbox.process.stop()
    return kb / 1024


async def measure(size: int, tmp: Path) -> Figures:
    db = tmp / f"scale-{size}.db"
    stores = open_sqlite(str(db), TokenCipher("benchmark-secret-key-0123456789"))
    await stores.admin.migrate()
    started = time.perf_counter()
    figures = Figures(size, 0)
    figures.recipients = await fill(stores, size)
    figures.fill_s = time.perf_counter() - started
    await sweep(stores, figures)
    await stores.admin.close()
    return figures


def report(rows: list[Figures]) -> bool:
    print("### Scheduler scale on SQLite (five pending shares per recipient)\n")
    print(
        table(
            [
                "pending shares",
                "recipients",
                "fill, shares/s",
                "claim every due check, s",
                "claims/s",
                "settle them, s",
                "settled/s",
                "poll with nothing due, ms",
                "database, MB",
                "serve RSS at rest, MB",
            ],
            [
                [
                    number(f.shares),
                    number(f.recipients),
                    number(f.shares / f.fill_s),
                    number(f.claim_s, 2),
                    number(f.claimed / f.claim_s),
                    number(f.settle_s, 1),
                    number(f.settled / f.settle_s),
                    number(f.poll_ms, 2),
                    number(f.db_mb, 1),
                    number(f.rss_mb, 0),
                ]
                for f in rows
            ],
        )
    )
    print()
    print(plot(rows))
    print()
    return all(f.claimed == f.recipients == f.settled for f in rows)


def plot(rows: list[Figures]) -> str:
    """How claiming, settling and the file grow with the pending shares, as a
    Mermaid chart (GitHub draws it in the Markdown; no image file to keep)."""
    sizes = ", ".join(f'"{number(f.shares)}"' for f in rows)
    settle = ", ".join(f"{f.settle_s:.2f}" for f in rows)
    claim = ", ".join(f"{f.claim_s:.2f}" for f in rows)
    size_mb = ", ".join(f"{f.db_mb:.1f}" for f in rows)
    top = max([f.settle_s for f in rows] + [f.db_mb for f in rows] + [1.0])
    return "\n".join(
        [
            "```mermaid",
            "xychart-beta",
            '    title "Pending shares: settle (s), database (MB), claim (s), lines in that order"',
            f"    x-axis [{sizes}]",
            f'    y-axis "seconds or MB" 0 --> {top * 1.1:.1f}',
            f"    line [{settle}]",
            f"    line [{size_mb}]",
            f"    line [{claim}]",
            "```",
        ]
    )


def optional_parts(dynamodb_sizes: list[int]) -> bool:
    """DynamoDB (moto) and the Lambda cold start, when this build has them; False
    if one of them errored."""
    print("### DynamoDB and Lambda\n")
    ok = True
    for module, part, what in (
        ("sendsongs.stores.dynamodb", partial(dynamodb_part, dynamodb_sizes), "DynamoDB store"),
        ("sendsongs.aws.handlers", cold_start, "Lambda handlers' cold start"),
    ):
        if not _available(module):
            print(f"{what}: not available in this build.\n")
            continue
        try:
            part()
        except Exception as error:  # reported, and make bench fails
            print(f"{what}: errored: {type(error).__name__}: {error}\n")
            ok = False
    return ok


def _available(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # its package is missing too
        return False


def dynamodb_part(sizes: list[int]) -> None:
    """The same fill, claim and settle on DynamoDB (a moto server, one request at a
    time like the test suite's), with two claimers at once: every due check must be
    claimed exactly once (the sharded index)."""
    from sendsongs.bootstrap import build_stores
    from sendsongs.config import load_settings
    from tests.moto_server import aws_env, environ, moto_server

    rows = []
    with moto_server() as url, environ(aws_env(url)):
        for size in sizes:
            settings = load_settings(
                SENDSONGS_DATABASE_URL=f"dynamodb://bench{size}",
                SENDSONGS_SECRET_KEY="benchmark-secret-key-0123456789",
                SPOTIFY_CLIENT_ID="x",
                SPOTIFY_CLIENT_SECRET="x",
                TELEGRAM_BOT_TOKEN="123456:bench",
                TELEGRAM_WEBHOOK_SECRET="bench",
            )
            rows.append(asyncio.run(_dynamodb_size(build_stores(settings), size)))
    print(
        table(
            [
                "DynamoDB (moto): pending shares",
                "recipients",
                "fill, s",
                "claim every due check (two claimers), s",
                "each claimed once",
                "settle them, s",
            ],
            rows,
        )
    )
    print()


async def _dynamodb_size(stores: Stores, size: int) -> list[str]:
    await stores.admin.migrate()
    started = time.perf_counter()
    recipients = await fill(stores, size)
    fill_s = time.perf_counter() - started
    now = T0 + timedelta(minutes=5)
    seen: list[str] = []

    async def claimer() -> list:
        mine = []
        while batch := await stores.shares.claim_due_checks(now, now + LEASE, BATCH):
            mine += batch
        return mine

    started = time.perf_counter()
    batches = await asyncio.gather(claimer(), claimer())
    claim_s = time.perf_counter() - started
    checks = [c for b in batches for c in b]
    seen = [c.recipient_id for c in checks]
    started = time.perf_counter()
    for check in checks:
        pending = await stores.shares.pending_shares(check.recipient_id)
        await stores.shares.settle_check(check, pending, now + timedelta(minutes=5))
    settle_s = time.perf_counter() - started
    await stores.admin.close()
    once = len(seen) == len(set(seen)) == recipients
    return [
        number(size),
        number(recipients),
        number(fill_s, 1),
        number(claim_s, 1),
        "yes" if once else f"no ({len(seen)} claims, {len(set(seen))} recipients)",
        number(settle_s, 1),
    ]


COLD_START = """
import time
started = time.perf_counter()
import sendsongs.aws.handlers as handlers
imported = time.perf_counter()
handlers.cold_start()
built = time.perf_counter()
print(f"{(imported - started) * 1000:.0f} {(built - imported) * 1000:.0f}")
"""


def cold_start(runs: int = 5) -> None:
    """Import of the handlers module and `cold_start()`, the build of the first
    invocation (settings, store, queues, app; no network), each in a fresh
    interpreter, as a new Lambda container does."""
    env = {
        **os.environ,
        "SENDSONGS_DATABASE_URL": "dynamodb://coldstart",
        "SENDSONGS_SECRET_KEY": "benchmark-secret-key-0123456789",
        "SPOTIFY_CLIENT_ID": "x",
        "SPOTIFY_CLIENT_SECRET": "x",
        "TELEGRAM_BOT_TOKEN": "123456:bench",
        "TELEGRAM_WEBHOOK_SECRET": "bench",
        "SENDSONGS_INBOX_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/1/inbox",
        "SENDSONGS_CHECK_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/1/checks",
        "SENDSONGS_LOG_LEVEL": "WARNING",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    imports, builds = [], []
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-c", COLD_START], env=env, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise RuntimeError((done.stderr.strip().splitlines() or ["no output"])[-1])
        out = done.stdout.split()
        imports.append(float(out[0]))
        builds.append(float(out[1]))
    print(
        table(
            ["Lambda cold start (fresh interpreter)", "import ms", "build ms"],
            [[f"{runs} runs", span(imports), span(builds)]],
        )
    )
    print()


def main(sizes: list[int], dynamodb_sizes: list[int]) -> int:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            figures = asyncio.run(measure(size, Path(tmp)))
            files = Path(tmp).glob(f"scale-{size}.db*")
            figures.db_mb = sum(f.stat().st_size for f in files) / 2**20
            figures.rss_mb = serve_rss(Path(tmp) / f"scale-{size}.db", Path(tmp))
            rows.append(figures)
    ok = report(rows)
    ok = optional_parts(dynamodb_sizes) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000])
    parser.add_argument("--dynamodb-sizes", type=int, nargs="+", default=[100, 500])
    args = parser.parse_args()
    sys.exit(main(args.sizes, args.dynamodb_sizes))
