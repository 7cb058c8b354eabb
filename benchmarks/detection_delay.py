"""Detection delay over real processes: from a check falling due to the sender's
notification, with `sendsongs serve` and `sendsongs sandbox` on free ports.

    python benchmarks/detection_delay.py [--rounds 10]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.tables import number, table
from tests.e2e.harness import bot_env, free_port, start_bot, start_sandbox, wait_until
from tests.e2e.test_journey import ALICE, BOB, TRACK, people, register_in_chat, register_with_code

FIRST_CHECK = 3  # seconds after the share


def main(rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        bot_port, sandbox_port = free_port(), free_port()
        env = bot_env(
            bot_port, sandbox_port, Path(tmp) / "bench.db", SENDSONGS_FIRST_CHECK=str(FIRST_CHECK)
        )
        sandbox = start_sandbox(sandbox_port, env, Path(tmp) / "sandbox.log")
        bot = start_bot(bot_port, env, Path(tmp) / "bot.log")
        try:
            people(sandbox)
            register_in_chat(bot, sandbox)
            register_with_code(bot, sandbox)
            delays = [one_round(sandbox, i) for i in range(rounds)]
        finally:
            bot.process.stop()
            sandbox.process.stop()
    print(f"### Detection over real processes: {rounds} rounds\n")
    print(
        table(
            ["from the check falling due to the sender's notification", "median s", "max s"],
            [
                [
                    f"share, play, check due {FIRST_CHECK} s after the share (poll every 0.5 s)",
                    number(statistics.median(delays), 2),
                    number(max(delays), 2),
                ]
            ],
        )
    )
    print()


def one_round(sandbox, i: int) -> float:  # type: ignore[no-untyped-def]
    heard_before = sum("listened to" in m for m in sandbox.messages(ALICE))
    sandbox.say(ALICE, f'send_song name:"Bob Jones" pre:"round {i}" spotify:track:{TRACK}')
    wait_until(lambda: any(f"round {i}" in m for m in sandbox.messages(BOB)))
    shared = time.monotonic()
    sandbox.post("/_sandbox/spotify/play", user="bob.spotify", track_id=TRACK)
    wait_until(
        lambda: sum("listened to" in m for m in sandbox.messages(ALICE)) > heard_before, every=0.02
    )
    return time.monotonic() - shared - FIRST_CHECK


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=10)
    main(parser.parse_args().rounds)
