"""Fixtures the graph tests share."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.support.graph import uvicorn_server

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture
def server(sqlite_url: str) -> Iterator[str]:
    """A real uvicorn serving the app on a SQLite file; its `host:port`."""
    with uvicorn_server(sqlite_url) as address:
        yield address
