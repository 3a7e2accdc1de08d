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
# Off a terminal (a log file, a pipe): a plain line at most this often, and one at the end.
PLAIN_LINE_SECONDS = 5.0


class ProgressBar:
    """Progress of a long operation: events done, rate and time left. On a terminal a bar
    redrawn in place; elsewhere a plain line every few seconds, so a log gets no `\r` frames."""

    def __init__(self, label: str, stream: TextIO, width: int = 30, unit: str = "events") -> None:
        self._label = label
        self._unit = unit
        self._stream = stream
        self._width = width
        self._terminal = _is_terminal(stream)
        self._interval = REDRAW_SECONDS if self._terminal else PLAIN_LINE_SECONDS
        self._started = time.monotonic()
        # Off a terminal the first line waits one interval: a short run prints only its end.
        self._drawn = float("-inf") if self._terminal else self._started
        self._last: tuple[int, int] | None = None
        self._shown: tuple[int, int] | None = None

    def __call__(self, done: int, total: int) -> None:
        self._last = (done, total)
        now = time.monotonic()
        if now - self._drawn < self._interval and (done < total or not self._terminal):
            return
        self._drawn = now
        self._show(done, total, now)

    def _show(self, done: int, total: int, now: float) -> None:
        self._shown = (done, total)
        elapsed = max(now - self._started, 1e-9)
        rate = done / elapsed
        left = (total - done) / rate if rate > 0 else 0.0
        figures = f"{done}/{total} {self._unit}  {rate:,.0f}/s  {left:,.1f} s left"
        if self._terminal:
            fraction = 1.0 if total <= 0 else min(done / total, 1.0)
            filled = int(fraction * self._width)
            bar = f"[{'#' * filled}{'.' * (self._width - filled)}]"
            self._stream.write(f"\r{self._label:<20} {bar} {figures}")
        else:
            self._stream.write(f"{self._label}: {figures}\n")
        self._stream.flush()

    def finish(self) -> None:
        """End the bar's line (on a terminal), or print the final figures (elsewhere)."""
        if self._terminal:
            self._stream.write("\n")
        elif self._last is not None and self._last != self._shown:
            self._show(*self._last, time.monotonic())
        self._stream.flush()


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


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
