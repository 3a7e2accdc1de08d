"""The text log format: UTC times, the date formatted once per second, milliseconds exact."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from graph.http.request_log import TextFormatter


def _record(created: float) -> logging.LogRecord:
    record = logging.makeLogRecord({"name": "ordergraph.requests", "levelno": 20, "msg": "hi"})
    record.levelname = "INFO"
    record.created = created
    record.msecs = (created - int(created)) * 1000
    return record


def test_each_line_carries_its_own_utc_time_to_the_millisecond() -> None:
    formatter = TextFormatter()
    noon = datetime(2026, 12, 1, 12, 0, 59, tzinfo=UTC).timestamp()
    lines = [formatter.format(_record(noon + offset)) for offset in (0.125, 0.5, 1.25, 3601.75)]
    assert lines == [
        "2026-12-01 12:00:59,125 INFO ordergraph.requests: hi",
        "2026-12-01 12:00:59,500 INFO ordergraph.requests: hi",
        "2026-12-01 12:01:00,250 INFO ordergraph.requests: hi",
        "2026-12-01 13:01:00,750 INFO ordergraph.requests: hi",
    ]


def test_a_date_format_of_its_own_is_utc_too() -> None:
    midnight = datetime(2026, 12, 1, tzinfo=UTC).timestamp()
    assert TextFormatter().formatTime(_record(midnight), "%d %H:%M") == "01 00:00"
