"""Terminal output of the operations: a progress bar, the projection status table, and
database URLs with their password masked."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

if TYPE_CHECKING:
    from readmodels.dto import ProjectionStatus

REDRAW_SECONDS = 0.1


class ProgressBar:
    """A one-line progress bar on a terminal stream: events done, rate and time left."""

    def __init__(self, label: str, stream: TextIO, width: int = 30, unit: str = "events") -> None:
        self._label = label
        self._unit = unit
        self._stream = stream
        self._width = width
        self._started = time.monotonic()
        self._drawn = float("-inf")

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self._drawn < REDRAW_SECONDS and done < total:
            return
        self._drawn = now
        elapsed = max(now - self._started, 1e-9)
        rate = done / elapsed
        fraction = 1.0 if total <= 0 else min(done / total, 1.0)
        filled = int(fraction * self._width)
        left = (total - done) / rate if rate > 0 else 0.0
        self._stream.write(
            f"\r{self._label:<20} [{'#' * filled}{'.' * (self._width - filled)}] "
            f"{done}/{total} {self._unit}  {rate:,.0f}/s  {left:,.1f} s left"
        )
        self._stream.flush()

    def finish(self) -> None:
        self._stream.write("\n")
        self._stream.flush()


def format_status(statuses: Sequence[ProjectionStatus]) -> str:
    """Projection statuses as an aligned text table."""
    header = ("PROJECTION", "STATE", "POSITION", "HEAD", "LAG", "LAST ERROR")
    rows = [
        (
            s.name,
            str(s.state),
            str(s.position),
            str(s.head_position),
            str(s.lag),
            s.last_error or "",
        )
        for s in statuses
    ]
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in (header, *rows)
    )


def shown_url(url: str) -> str:
    """A database URL fit for a terminal or a log: its password masked."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


__all__ = ["ProgressBar", "format_status", "shown_url"]
