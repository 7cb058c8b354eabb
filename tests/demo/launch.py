"""Start `sendsongs demo` as a process on a free port and wait for its URL line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.e2e.harness import free_port, wait_until

SENDSONGS = str(Path(sys.executable).with_name("sendsongs"))


@dataclass
class Demo:
    url: str  # "http://127.0.0.1:PORT/", exactly as the demo printed it
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@contextmanager
def running_demo(folder: Path) -> Iterator[Demo]:
    port = free_port()
    log = folder / "demo.log"
    # the demo builds all its settings in code; stray variables must not matter
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SENDSONGS_", "MESSENGER_"))}
    with log.open("wb") as out:
        process = subprocess.Popen(
            [SENDSONGS, "demo", "--port", str(port)],
            cwd=folder,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        announced = f"Send Songs demo: http://127.0.0.1:{port}/"
        wait_until(lambda: announced in log.read_text() or process.poll() is not None, timeout=20)
        assert process.poll() is None, log.read_text()
        yield Demo(f"http://127.0.0.1:{port}/", log)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
