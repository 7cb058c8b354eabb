"""`serve` and `demo` run on the event loop uvicorn picks for itself (uvloop here),
as the bare endpoint of the benchmarks does: the loop's cost is part of every
webhook's (docs/benchmarks.md)."""

from __future__ import annotations

import asyncio

from sendsongs.server import run


def test_serve_runs_on_the_loop_uvicorn_would_pick() -> None:
    async def loop_kind() -> str:
        return type(asyncio.get_running_loop()).__module__

    assert run(loop_kind()).startswith("uvloop")
