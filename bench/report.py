"""Rows of the result table, their targets, and the table as text and JSON."""

from __future__ import annotations

import json
import os
import platform
import sqlite3
import statistics
from dataclasses import asdict, dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from bench.load import LegResult


@dataclass(kw_only=True, slots=True)
class Side:
    """The median rate and latencies of one side over its legs."""

    rate: float
    p50_ms: float
    p99_ms: float
    legs: int
    bad: int

    @classmethod
    def of(cls, legs: list[LegResult]) -> Side:
        return cls(
            rate=statistics.median(leg.rate for leg in legs),
            p50_ms=statistics.median(leg.p50_ms for leg in legs),
            p99_ms=statistics.median(leg.p99_ms for leg in legs),
            legs=len(legs),
            bad=sum(leg.bad for leg in legs),
        )


@dataclass(kw_only=True, slots=True)
class Row:
    """One line of the table: a measured value against its target."""

    name: str
    product: str
    baseline: str
    target: str
    value: float | None = None
    unit: str = "x"
    passed: bool | None = None
    product_side: Side | None = None
    baseline_side: Side | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def judge(self, value: float | None, passed: bool | None) -> None:
        self.value, self.passed = value, passed


def versions(generator: str, postgres: str | None) -> dict[str, Any]:
    """The versions and machine facts the numbers depend on."""

    def of(package: str) -> str:
        try:
            return version(package)
        except PackageNotFoundError:
            return "missing"

    return {
        "python": platform.python_version(),
        "strawberry-graphql": of("strawberry-graphql"),
        "graphql-core": of("graphql-core"),
        "sqlalchemy": of("sqlalchemy"),
        "aiosqlite": of("aiosqlite"),
        "asyncpg": of("asyncpg"),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": postgres or "not available",
        "uvicorn": of("uvicorn"),
        "uvloop": of("uvloop"),
        "httptools": of("httptools"),
        "starlette": of("starlette"),
        "eventsourcing": of("eventsourcing"),
        "cpu_count": os.cpu_count(),
        "cpu": _cpu_model(),
        "load_generator": generator,
    }


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _side(side: Side | None) -> str:
    if side is None:
        return "-"
    return f"{side.rate:,.0f}/s p50 {side.p50_ms:.1f} p99 {side.p99_ms:.1f}"


def _value(row: Row) -> str:
    if row.value is None:
        return "skipped"
    return f"{row.value:.2f}{row.unit}" if row.unit == "x" else f"{row.value:,.1f} {row.unit}"


def format_table(rows: list[Row], facts: dict[str, Any]) -> str:
    """The rows as an aligned text table, with the versions and each row's notes below."""
    header = ("row", "product", "baseline", "value", "target", "ok")
    cells = [
        (
            row.name,
            _side(row.product_side),
            _side(row.baseline_side),
            _value(row),
            row.target,
            {True: "yes", False: "NO", None: "-"}[row.passed],
        )
        for row in rows
    ]
    widths = [max(len(line[i]) for line in (header, *cells)) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in (header, *cells)
    ]
    lines.append("")
    lines.extend(f"{row.name}: {note}" for row in rows for note in row.notes)
    lines.append("")
    lines.append(", ".join(f"{name} {value}" for name, value in facts.items()))
    return "\n".join(lines)


def to_json(rows: list[Row], facts: dict[str, Any], settings: dict[str, Any]) -> str:
    """The same results as JSON."""
    return json.dumps(
        {"versions": facts, "settings": settings, "rows": [asdict(row) for row in rows]},
        indent=2,
        default=str,
    )


__all__ = ["Row", "Side", "format_table", "to_json", "versions"]
