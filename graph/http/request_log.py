"""Logging: plain text or JSON lines, and one line per request with its correlation id.

The correlation id is the client's `X-Request-ID` when usable, else a new one. The request log
puts it in the request's state (the GraphQL context takes it from there into every command,
hence into the events' metadata, the projection's batch lines and any masked error) and sends
it back in the response's `X-Request-ID` header.
"""

from __future__ import annotations

import json
import logging
import logging.config
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    pass

LOG_FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# uvicorn's `color_message` repeats the message with ANSI colours: never in a JSON line.
_STANDARD_FIELDS = frozenset(logging.makeLogRecord({}).__dict__) | {
    "message",
    "asctime",
    "color_message",
}

log = logging.getLogger("ordergraph.requests")


class TextFormatter(logging.Formatter):
    """TEXT_FORMAT with its time in UTC, the date and seconds formatted once per second (the
    request log writes a line per request: `strftime` was half of a line's formatting)."""

    def __init__(self, fmt: str = TEXT_FORMAT) -> None:
        super().__init__(fmt)
        self._second = -1
        self._stamp = ""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        if datefmt is not None:
            return time.strftime(datefmt, time.gmtime(record.created))
        second = int(record.created)
        if second != self._second:
            self._second = second
            self._stamp = time.strftime(self.default_time_format, time.gmtime(record.created))
        return f"{self._stamp},{int(record.msecs):03d}"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, extras, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_FIELDS:
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def logging_config(log_format: str = "text", level: str = "INFO") -> dict[str, Any]:
    """A `logging.config.dictConfig` for the service and uvicorn (also in worker processes):
    everything to stderr in `log_format`; the request log replaces uvicorn's access log."""
    if log_format not in LOG_FORMATS:
        raise ValueError(f"log format must be one of {', '.join(LOG_FORMATS)}")
    formatter: dict[str, Any] = {"()": JsonFormatter if log_format == "json" else TextFormatter}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "default",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            "uvicorn": {"handlers": [], "propagate": True},
            "uvicorn.error": {"handlers": [], "propagate": True},
            "uvicorn.access": {"handlers": [], "propagate": True, "level": "WARNING"},
        },
    }


def configure_logging(log_format: str = "text", level: str = "INFO") -> None:
    """Send the service's logs (and uvicorn's) to stderr in `log_format`."""
    logging.config.dictConfig(logging_config(log_format, level))


__all__ = [
    "LOG_FORMATS",
    "JsonFormatter",
    "TextFormatter",
    "configure_logging",
    "logging_config",
]
