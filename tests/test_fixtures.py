"""The database fixtures give working, fresh, separate databases on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from tests.support.pgserver import PostgresServer, PostgresUnavailable

if TYPE_CHECKING:
    from pathlib import Path

INNER_CONFTEST = "from tests.conftest import postgres_server, postgres_url\n"
# The hypothesis plugin imports all of hypothesis in each inner session: a second per run.
INNER_ARGS = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest")
INNER_INI = """
[pytest]
asyncio_default_fixture_loop_scope = function
filterwarnings = error
"""

INNER_TESTS = """
from pathlib import Path

from tests.test_fixtures import fetch

NAMES = Path(__file__).with_name("names.txt")


def test_first(postgres_url):
    fetch(postgres_url, "CREATE TABLE left_behind (id integer)")
    NAMES.write_text(fetch(postgres_url, "SELECT current_database()")[0][0] + "\\n")


def test_second(postgres_url):
    tables = "SELECT count(*) FROM pg_tables WHERE tablename = 'left_behind'"
    assert fetch(postgres_url, tables) == [(0,)]
    with NAMES.open("a") as names:
        names.write(fetch(postgres_url, "SELECT current_database()")[0][0] + "\\n")
"""


def fetch(url: str, statement: str) -> list[tuple[Any, ...]]:
    """Run one statement with asyncpg on a private loop and return its rows as tuples."""

    async def run() -> list[tuple[Any, ...]]:
        parsed = make_url(url)
        connection = await asyncpg.connect(
            host=parsed.host,
            port=parsed.port,
            user=parsed.username,
            password=parsed.password,
            database=parsed.database,
        )
        try:
            return [tuple(row) for row in await connection.fetch(statement)]
        finally:
            await connection.close()

    with ThreadPoolExecutor(max_workers=1) as worker:
        return worker.submit(asyncio.run, run()).result()


async def test_database_url_stores_and_returns_rows(
    database_url: str, request: pytest.FixtureRequest
) -> None:
    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text("CREATE TABLE note (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
            )
            await connection.execute(text("INSERT INTO note (id, body) VALUES (1, 'a'), (2, 'b')"))
        async with engine.connect() as connection:
            rows = (await connection.execute(text("SELECT id, body FROM note ORDER BY id"))).all()
    finally:
        await engine.dispose()

    assert [tuple(row) for row in rows] == [(1, "a"), (2, "b")]
    assert make_url(database_url).get_backend_name() == request.node.callspec.id


async def test_postgres_url_is_a_new_empty_database(postgres_url: str) -> None:
    parsed = make_url(postgres_url)
    connection = await asyncpg.connect(
        host=parsed.host, port=parsed.port, user=parsed.username, database=parsed.database
    )
    try:
        tables = await connection.fetchval(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        )
        await connection.execute("CREATE TABLE note (id integer PRIMARY KEY)")
        await connection.execute("INSERT INTO note VALUES (7)")
        stored = await connection.fetchval("SELECT id FROM note")
        name = await connection.fetchval("SELECT current_database()")
    finally:
        await connection.close()

    assert parsed.drivername == "postgresql+asyncpg"
    assert tables == 0
    assert stored == 7
    assert name == parsed.database
    assert name.startswith("t_")


def test_sqlite_url_is_a_file_in_the_test_folder(sqlite_url: str, tmp_path: Path) -> None:
    parsed = make_url(sqlite_url)

    assert parsed.drivername == "sqlite+aiosqlite"
    assert parsed.database == str(tmp_path / "ordergraph.db")


def test_two_tests_get_distinct_databases_dropped_afterwards(
    pytester: pytest.Pytester, postgres_server: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_DATABASE_URL", postgres_server.url("postgres"))
    pytester.makeini(INNER_INI)
    pytester.makeconftest(INNER_CONFTEST)
    pytester.makepyfile(test_inner=INNER_TESTS)

    result = pytester.runpytest_inprocess(*INNER_ARGS)

    result.assert_outcomes(passed=2)
    names = (pytester.path / "names.txt").read_text().split()
    assert len(names) == 2
    assert names[0] != names[1]
    left = fetch(
        postgres_server.url("postgres"),
        f"SELECT datname FROM pg_database WHERE datname IN ('{names[0]}', '{names[1]}')",
    )
    assert left == []


def test_unreachable_test_database_url_fails_loudly(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:1/postgres")
    pytester.makeini(INNER_INI)
    pytester.makeconftest(INNER_CONFTEST)
    pytester.makepyfile(test_inner="def test_uses_it(postgres_url):\n    pass\n")

    result = pytester.runpytest_inprocess(*INNER_ARGS)

    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*TEST_DATABASE_URL is set but unusable: cannot connect*"])


def test_start_without_initdb_says_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(PostgresUnavailable, match="initdb not found on PATH"):
        PostgresServer.start(search_path=str(tmp_path))


def test_a_failing_initdb_is_reported_with_its_output(tmp_path: Path) -> None:
    for program in ("initdb", "pg_ctl"):
        script = tmp_path / program
        script.write_text("#!/bin/sh\necho 'no space left on device' >&2\nexit 3\n")
        script.chmod(0o755)

    # As root it runs as `postgres`, which cannot reach root's tmp_path: another failure.
    with pytest.raises(PostgresUnavailable, match=r"^initdb failed \(exit \d+\): \S"):
        PostgresServer.start(search_path=str(tmp_path))
