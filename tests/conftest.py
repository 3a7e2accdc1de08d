"""Database fixtures: every database test runs on SQLite and on a real PostgreSQL server.

One PostgreSQL server serves the whole session: the one `TEST_DATABASE_URL` names, or else a
private one started here. Each PostgreSQL test gets a brand-new empty database, dropped after it.
Without PostgreSQL the postgres tests are skipped, except under `CI=true`, where they fail.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest
from sqlalchemy.engine import make_url

from tests.support.pgserver import PostgresServer, PostgresUnavailable

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytest_plugins = ["pytester"]

POSTGRES_FIXTURES = frozenset(
    {"postgres_server", "postgres_url", "postgres_standby", "replica_url"}
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark tests that use PostgreSQL directly as `postgres`, so `-m "not postgres"` works."""
    for item in items:
        if POSTGRES_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.postgres)


def _running_in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def _connect_or_start(external: str | None) -> PostgresServer | str:
    """The session's server, or the reason there is none."""
    try:
        return PostgresServer.connect(external) if external else PostgresServer.start()
    except PostgresUnavailable as error:
        return str(error)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """The session's PostgreSQL server: TEST_DATABASE_URL's, or a private one started here."""
    external = os.environ.get("TEST_DATABASE_URL") or None
    server = _connect_or_start(external)
    if isinstance(server, str):
        if external is not None:
            pytest.fail(f"TEST_DATABASE_URL is set but unusable: {server}", pytrace=False)
        if _running_in_ci():
            pytest.fail(
                f"PostgreSQL not available: {server} (CI=true, so this fails instead of skipping)",
                pytrace=False,
            )
        pytest.skip(f"PostgreSQL not available: {server}")
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_standby(postgres_server: PostgresServer) -> Iterator[PostgresServer]:
    """A streaming standby of the session's server (`pg_basebackup -R`), started on first use."""
    try:
        standby = postgres_server.start_standby()
    except PostgresUnavailable as error:
        if _running_in_ci():
            pytest.fail(f"no PostgreSQL standby: {error} (CI=true)", pytrace=False)
        pytest.skip(f"no PostgreSQL standby: {error}")
    try:
        yield standby
    finally:
        standby.stop()


def _fresh_database(server: PostgresServer) -> Iterator[str]:
    name = server.create_database()
    try:
        yield server.url(name)
    finally:
        server.drop_database(name)


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """The URL of a brand-new empty PostgreSQL database, dropped after the test."""
    yield from _fresh_database(postgres_server)


@pytest.fixture
def replica_url(postgres_standby: PostgresServer, postgres_url: str) -> Iterator[str]:
    """`postgres_url`'s database as the standby serves it, replayed up to now. After the test
    the standby runs and replays again, whatever the test did to it."""
    postgres_standby.wait_for_replay()
    yield postgres_standby.url(str(make_url(postgres_url).database))
    try:
        postgres_standby.resume_replay()
    except PostgresUnavailable:
        postgres_standby.resume()
        postgres_standby.resume_replay()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """The URL of a new SQLite file in the test's own folder."""
    return f"sqlite+aiosqlite:///{tmp_path}/ordergraph.db"


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]
)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh empty database, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path}/ordergraph.db"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    yield from _fresh_database(server)
