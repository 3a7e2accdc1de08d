"""Start-up and operator errors are one line on stderr that says what to fix, exit status 1, never
a traceback or a usage block (those are for syntax errors only), under every `ordergraph`
command; `status` says whether any process runs the projections; `status` and `rebuild` never
create a database; serve logs where GraphiQL and the live page are. The same refusals under
`uvicorn graph.app:create_app --factory` are in test_operator_errors_under_uvicorn.py."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path

import pytest

from graph.cli import main
from tests.support.commands import error_line, free_port, ordergraph, process, wait_healthy
from tests.support.graph import app_client


@pytest.mark.parametrize(
    "command",
    [
        ["serve", "--port", "0"],
        ["migrate"],
        ["seed", "--orders", "1"],
        ["rebuild", "--all"],
        ["status"],
    ],
)
@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("mysql://user@db/orders", "unsupported database 'mysql'"),
        ("postgresql+psycopg2://user@db/orders", "PostgreSQL through 'psycopg2' is not supported"),
        ("sqlite+pysqlite:///orders.db", "SQLite through 'pysqlite' is not supported"),
        ("postgresql:/db/orders", "not a database URL"),
    ],
)
def test_every_database_command_refuses_a_bad_url_in_one_line(
    tmp_path: Path, command: list[str], url: str, reason: str
) -> None:
    line = error_line(ordergraph(*command, "--database-url", url, cwd=tmp_path))
    assert line.startswith(f"ordergraph: error: bad database URL {url!r}: {reason}")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("variable", ["ORDERGRAPH_DATABASE_URL", "ORDERGRAPH_READ_DATABASE_URL"])
def test_a_bad_url_in_either_variable_is_one_line(tmp_path: Path, variable: str) -> None:
    line = error_line(ordergraph("migrate", cwd=tmp_path, **{variable: "mysql://db/orders"}))
    assert "bad database URL 'mysql://db/orders': unsupported database 'mysql'" in line
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", [["serve", "--port", "0"], ["migrate"], ["status"]])
def test_a_sqlite_file_in_a_missing_folder_is_one_line(tmp_path: Path, command: list[str]) -> None:
    missing = tmp_path / "no" / "such"
    line = error_line(
        ordergraph(*command, "--database-url", str(missing / "orders.db"), cwd=tmp_path)
    )
    assert f"the folder of the SQLite file does not exist: {missing} (create it" in line
    assert list(tmp_path.iterdir()) == []


def test_serve_on_every_address_without_a_secret_is_one_line(tmp_path: Path) -> None:
    line = error_line(ordergraph("serve", "--host", "0.0.0.0", cwd=tmp_path))
    assert "refusing to listen on 0.0.0.0 without authentication" in line
    assert "set ORDERGRAPH_AUTH_SECRET, or listen on 127.0.0.1" in line
    assert list(tmp_path.iterdir()) == []


def test_serve_with_workers_on_sqlite_is_one_line(tmp_path: Path) -> None:
    line = error_line(ordergraph("serve", "--workers", "2", cwd=tmp_path))
    assert "--workers needs PostgreSQL: SQLite has one writer" in line
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("secret", "reason"),
    [
        ({}, "set ORDERGRAPH_AUTH_SECRET (the server's signing secret) to mint a token"),
        ({"ORDERGRAPH_AUTH_SECRET": "short"}, "at least 32 bytes"),
    ],
)
def test_token_without_a_usable_secret_is_one_line(
    tmp_path: Path, secret: dict[str, str], reason: str
) -> None:
    line = error_line(
        ordergraph("token", "--role", "admin", "--subject", "ada", cwd=tmp_path, **secret)
    )
    assert reason in line


def test_export_schema_into_a_missing_folder_is_one_line(tmp_path: Path) -> None:
    target = tmp_path / "no" / "schema.graphql"
    line = error_line(ordergraph("export-schema", "--output", str(target), cwd=tmp_path))
    assert f"cannot write {target}: No such file or directory" in line


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["frobnicate"], "invalid choice: 'frobnicate'"),
        (["serve", "--port", "http"], "not a port number"),
        (["serve", "--bogus"], "unrecognized arguments: --bogus"),
        (["rebuild"], "one of the arguments name --all is required"),
        (["token", "--role", "admin"], "the following arguments are required: --subject"),
    ],
)
def test_only_a_syntax_error_shows_the_usage(tmp_path: Path, argv: list[str], message: str) -> None:
    result = ordergraph(*argv, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("usage: ordergraph")
    assert message in result.stderr.splitlines()[-1]
    assert "Traceback" not in result.stderr


def test_serve_against_an_unreachable_postgresql_names_host_and_port(tmp_path: Path) -> None:
    url = "postgresql+asyncpg://user:secret@127.0.0.1:1/orders"
    line = error_line(
        ordergraph("serve", "--port", str(free_port()), cwd=tmp_path, ORDERGRAPH_DATABASE_URL=url)
    )
    assert "cannot reach PostgreSQL at 127.0.0.1:1 (database orders)" in line
    assert "secret" not in line


def test_serve_on_a_folder_says_to_give_a_file(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}"
    line = error_line(
        ordergraph("serve", "--port", str(free_port()), "--database-url", url, cwd=tmp_path)
    )
    assert f"the SQLite database {tmp_path} is a folder" in line


def test_migrate_on_start_false_refuses_a_fresh_database_and_creates_no_file(
    tmp_path: Path,
) -> None:
    result = ordergraph(
        "serve", "--port", str(free_port()), cwd=tmp_path, ORDERGRAPH_MIGRATE_ON_START="false"
    )
    assert "run `ordergraph migrate` first" in error_line(result)
    assert list(tmp_path.iterdir()) == []


def test_a_port_in_use_is_reported_before_anything_is_migrated(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = ordergraph("serve", "--port", str(port), cwd=tmp_path)
    assert f"127.0.0.1:{port} is already in use" in error_line(result)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", [["status"], ["rebuild", "--all"]])
def test_status_and_rebuild_refuse_a_database_that_does_not_exist(
    tmp_path: Path, command: list[str]
) -> None:
    result = ordergraph(*command, cwd=tmp_path)
    assert f"there is no database at {tmp_path / 'ordergraph.db'}" in error_line(result)
    assert list(tmp_path.iterdir()) == []


def test_a_bad_variable_names_itself_and_a_misspelt_one_is_warned_about(tmp_path: Path) -> None:
    bad = ordergraph("status", cwd=tmp_path, ORDERGRAPH_MAX_WAIT_MS="-1")
    assert "ORDERGRAPH_MAX_WAIT_MS must be 0 or more" in error_line(bad)
    misspelt = ordergraph("status", cwd=tmp_path, ORDERGRAPH_DATABSE_URL="sqlite+aiosqlite:///x")
    assert (
        "ignoring unknown variable ORDERGRAPH_DATABSE_URL (did you mean ORDERGRAPH_DATABASE_URL?)"
        in misspelt.stderr
    )


def test_serve_help_shows_the_default_host_and_port(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "(default: 127.0.0.1)" in out
    assert "(default: 8000)" in out


async def test_status_says_stopped_unless_a_server_runs_the_projections(
    sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    loop = asyncio.get_running_loop()

    async def states() -> set[str]:
        code = await loop.run_in_executor(None, main, ["status", "--database-url", sqlite_url])
        assert code == 0
        rows = capsys.readouterr().out.splitlines()[1:]
        return {row.split()[1] for row in rows}

    async with app_client(sqlite_url) as client:
        await client.create_order()
        assert await states() == {"RUNNING"}
    assert await states() == {"STOPPED"}


def test_serve_logs_where_graphiql_and_the_live_page_are(tmp_path: Path) -> None:
    port = free_port()
    args = [sys.executable, "-m", "graph.cli", "serve", "--port", str(port)]
    with process(args, tmp_path) as child:
        wait_healthy(f"http://127.0.0.1:{port}", child)
        child.terminate()
        output, _ = child.communicate(timeout=20)
    base = f"http://127.0.0.1:{port}"
    assert f"GraphiQL at {base}/graphql, the live page at {base}/" in output


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_serve_on_an_unwritable_folder_says_so(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    url = f"sqlite+aiosqlite:///{locked / 'ordergraph.db'}"
    result = ordergraph("serve", "--port", str(free_port()), "--database-url", url, cwd=tmp_path)
    assert f"the folder {locked} is not writable" in error_line(result)
