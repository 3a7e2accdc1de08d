"""Progress output (seed, rebuild): a bar redrawn in place on a terminal, sparse plain lines
anywhere else; and JSON log lines carry no ANSI-coloured copy of uvicorn's message."""

from __future__ import annotations

import io
import json
import logging
import time

import pytest

from graph.http.request_log import JsonFormatter
from graph.ops.terminal import ProgressBar


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_off_a_terminal_a_quick_run_prints_one_plain_line() -> None:
    log = io.StringIO()
    bar = ProgressBar("seed", log, unit="orders")
    for done in range(1, 10_001):
        bar(done, 10_000)
    bar.finish()
    assert "\r" not in log.getvalue()
    (line,) = log.getvalue().splitlines()
    assert line.startswith("seed: 10000/10000 orders")


def test_off_a_terminal_a_long_run_prints_a_line_per_interval(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    log = io.StringIO()
    bar = ProgressBar("order_views", log)
    for done in range(1, 601):
        now[0] += 0.1  # a minute in all
        bar(done, 600)
    bar.finish()
    lines = log.getvalue().splitlines()
    assert 10 <= len(lines) <= 14
    assert lines[-1].startswith("order_views: 600/600 events")
    assert len(set(lines)) == len(lines)


def test_on_a_terminal_the_bar_is_redrawn_in_place() -> None:
    screen = Terminal()
    bar = ProgressBar("seed", screen, unit="orders")
    bar(1, 2)
    bar(2, 2)
    bar.finish()
    frames = screen.getvalue()
    assert frames.count("\r") == 2
    assert frames.endswith("\n")
    assert "[##############################] 2/2 orders" in frames


def test_json_lines_leave_out_uvicorns_colour_copy_of_the_message() -> None:
    record = logging.makeLogRecord(
        {
            "name": "uvicorn.error",
            "levelname": "INFO",
            "msg": "Started server process [%d]",
            "args": (42,),
            "color_message": "Started server process [\x1b[36m%d\x1b[0m]",
        }
    )
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "Started server process [42]"
    assert "color_message" not in entry
