"""The write-model tests' backends: every store test runs in memory, on SQLite and on PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from domain.bus import CommandBus
from domain.handlers import build_command_bus
from tests.support.domain import Backend, Store, running


@pytest.fixture(
    params=[
        pytest.param("memory", id="memory"),
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]
)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    """A fresh empty event store backend: memory, a SQLite file, a PostgreSQL database."""
    if request.param == "memory":
        return Backend("memory")
    if request.param == "sqlite":
        return Backend("sqlite", f"sqlite+aiosqlite:///{tmp_path}/ordergraph.db")
    url: str = request.getfixturevalue("postgres_url")
    return Backend("postgresql", url)


@pytest.fixture
async def store(backend: Backend) -> AsyncIterator[Store]:
    async with backend.open() as opened:
        yield opened


@pytest.fixture
async def bus(store: Store) -> AsyncIterator[CommandBus]:
    async with running(build_command_bus(store)) as started:
        yield started
