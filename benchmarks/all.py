"""`make bench`: every benchmark, one after the other, with the machine they ran on.

Prints Markdown in the form of docs/benchmarks.md. Exits 1 if any part lost an
event, left a share unsettled or failed; slow figures alone never fail it.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).parent
PARTS = [
    ("intake.py", []),
    ("economy.py", []),
    ("scale.py", []),
    ("detection_delay.py", []),
]


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown CPU",
    )
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=HERE
    ).stdout.strip()
    return (
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC · {cpu}, {os.cpu_count()} cores · "
        f"{platform.system()} {platform.release()} · Python {platform.python_version()}"
        f" · commit {commit or 'unknown'}"
    )


def main() -> int:
    print(f"## Benchmarks: {machine()}\n", flush=True)
    failed = []
    for script, args in PARTS:
        started = time.perf_counter()
        result = subprocess.run([sys.executable, str(HERE / script), *args], check=False)
        print(f"_{script}: {time.perf_counter() - started:.0f} s_\n", flush=True)
        if result.returncode != 0:
            failed.append(script)
    if failed:
        print(f"FAILED: {', '.join(failed)} lost, left or errored something (see above)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
