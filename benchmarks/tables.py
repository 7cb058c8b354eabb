"""Printing figures the way docs/benchmarks.md shows them: Markdown tables, and
ranges over runs ("1,020 to 1,140" with an en dash)."""

from __future__ import annotations

import statistics
from collections.abc import Sequence


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = [
        "| " + " | ".join(headers) + " |",
        "|" + "|".join("---" for _ in headers) + "|",
    ]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def number(value: float, digits: int = 0) -> str:
    return f"{value:,.{digits}f}"


def span(values: Sequence[float], digits: int = 0) -> str:
    """One figure, or the range over runs."""
    low, high = number(min(values), digits), number(max(values), digits)
    return low if low == high else f"{low}\u2013{high}"


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (0 to 100), by the inclusive method; 0.0 for no values."""
    if not values:
        return 0.0
    if len(values) == 1:
        return float(values[0])
    return statistics.quantiles(values, n=100, method="inclusive")[round(p) - 1]
