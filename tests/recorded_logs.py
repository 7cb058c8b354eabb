"""Log lines a test can read: a module's structlog logger swapped for one that keeps
each event, whatever structlog's global configuration is at that point (another test
may have set up logging, whose loggers are cached on first use)."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import pytest

_LEVELS = {"debug": "debug", "info": "info", "warning": "warning", "error": "error",
           "exception": "error", "critical": "critical"}  # fmt: skip


class RecordingLog:
    """Stands in for a module's `log`: each call becomes a dict with `event`,
    `log_level` and the call's keywords, as structlog.testing.capture_logs has them."""

    def __init__(self, events: list[dict[str, Any]]) -> None:
        self._events = events

    def __getattr__(self, method: str) -> Callable[..., None]:
        level = _LEVELS.get(method)
        if level is None:
            raise AttributeError(method)

        def record(event: str, **fields: Any) -> None:
            self._events.append({"event": event, "log_level": level, **fields})

        return record


def record_logs(monkeypatch: pytest.MonkeyPatch, *modules: ModuleType) -> list[dict[str, Any]]:
    """What the modules' loggers are told from now on, in order."""
    events: list[dict[str, Any]] = []
    for module in modules:
        monkeypatch.setattr(module, "log", RecordingLog(events))
    return events
