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
    process: subprocess.Popen[bytes]
    tmp: Path  # the demo's TMPDIR, where it keeps its database

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGINT) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


@contextmanager
def running_demo(folder: Path) -> Iterator[Demo]:
    port = free_port()
    log = folder / "demo.log"
    # the demo builds all its settings in code; stray variables must not matter
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SENDSONGS_", "MESSENGER_"))}
    tmp = folder / "tmp"
    tmp.mkdir()
    env["TMPDIR"] = str(tmp)
    with log.open("wb") as out:
        process = subprocess.Popen(
            [SENDSONGS, "demo", "--port", str(port)],
            cwd=folder,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    demo = Demo(f"http://127.0.0.1:{port}/", log, process, tmp)
    try:
        announced = f"Send Songs demo: {demo.url}"
        wait_until(lambda: announced in log.read_text() or process.poll() is not None, timeout=20)
        assert process.poll() is None, log.read_text()
        yield demo
    finally:
        demo.stop()
