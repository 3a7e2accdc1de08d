"""The `ordergraph` command: export-schema, status, rebuild, syntax errors and refusals, --version,
the database URLs it understands, serve and SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import tomllib
import urllib.request
from importlib import metadata
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from domain.storage.database import database_url
from graph.api.schema import export_sdl
from graph.cli import main
from graph.ops.migrate import head_revision
from graph.settings import Settings
from readmodels.registry import PROJECTION_NAMES
from tests.support.graph import app_client

REPO = Path(__file__).resolve().parents[3]


def test_export_schema_prints_or_writes_the_sdl(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["export-schema"]) == 0
    assert capsys.readouterr().out == export_sdl()
    target = tmp_path / "schema.graphql"
    assert main(["export-schema", "--output", str(target)]) == 0
    assert target.read_text(encoding="utf-8") == export_sdl()


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["serve", "--port", "70000"], "port must be between"),
        (["serve", "--port", "http"], "not a port number"),
        (["rebuild", "nope"], "invalid choice"),
        (["rebuild"], "required"),
        (["frobnicate"], "invalid choice"),
        ([], "required"),
    ],
)
def test_syntax_errors_show_the_usage_and_exit_2(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: ordergraph")
    assert message in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["serve", "--database-url", "mysql://x/y"], "unsupported database"),
        (["status", "--database-url", "sqlite+pysqlite:///plain.db"], "'pysqlite' is not"),
        (["status", "--database-url", "nonsense:/x"], "not a database URL"),
        (["status", "--database-url", "/no/such/dir/x.db"], "does not exist"),
    ],
)
def test_refusals_are_one_line_and_exit_1(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("ordergraph: error: bad database URL")
    assert message in err


def test_version_prints_the_installed_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out == f"ordergraph {metadata.version('ordergraph')}\n"
    assert (
        metadata.version("ordergraph")
        == tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"][
            "version"
        ]
    )


@pytest.mark.parametrize(
    ("given", "meant"),
    [
        (
            "postgresql://ada:pw@db.example.com:5432/orders",
            "postgresql+asyncpg://ada:pw@db.example.com:5432/orders",
        ),
        (
            "postgres://ada:pw@db.example.com/orders",
            "postgresql+asyncpg://ada:pw@db.example.com/orders",
        ),
        (
            "postgres://ada:p%40ss@db/orders?sslmode=require",
            "postgresql+asyncpg://ada:p%40ss@db/orders?ssl=require",
        ),
        ("postgresql+asyncpg://ada@db/orders", "postgresql+asyncpg://ada@db/orders"),
        ("orders.db", "sqlite+aiosqlite:///orders.db"),
        ("./data/orders.db", "sqlite+aiosqlite:///./data/orders.db"),
        ("/var/lib/ordergraph/orders.db", "sqlite+aiosqlite:////var/lib/ordergraph/orders.db"),
        ("sqlite:///orders.db", "sqlite+aiosqlite:///orders.db"),
        ("sqlite+aiosqlite:///orders.db", "sqlite+aiosqlite:///orders.db"),
        ("mysql://db/orders", "mysql://db/orders"),  # left for the check to refuse
        ("postgresql+psycopg2://db/orders", "postgresql+psycopg2://db/orders"),
    ],
)
def test_database_urls_as_providers_and_people_write_them(given: str, meant: str) -> None:
    assert database_url(given) == meant
    assert Settings(database_url=given).database_url == meant
    assert Settings(read_database_url=given).read_database_url == meant


def test_a_plain_path_is_a_sqlite_file_in_the_flag_and_both_variables(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    assert main(["migrate", "--database-url", "./data/orders.db"]) == 0
    assert "sqlite+aiosqlite:///./data/orders.db: from empty to schema revision" in (
        capsys.readouterr().out
    )
    monkeypatch.setenv("ORDERGRAPH_DATABASE_URL", str(tmp_path / "data" / "orders.db"))
    monkeypatch.setenv("ORDERGRAPH_READ_DATABASE_URL", "views.db")
    assert main(["migrate"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].endswith("data/orders.db: already at schema revision " + head_revision())
    assert out[1].startswith("sqlite+aiosqlite:///views.db: from empty to schema revision")
    assert main(["status"]) == 0
    assert capsys.readouterr().out.startswith("PROJECTION")
    assert sorted(path.name for path in tmp_path.iterdir()) == ["data", "views.db"]


def test_postgresql_urls_as_hosting_providers_give_them(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    libpq = (
        make_url(postgres_url).set(drivername="postgresql").render_as_string(hide_password=False)
    )
    assert main(["migrate", "--database-url", f"{libpq}?sslmode=disable"]) == 0
    assert "from empty to schema revision" in capsys.readouterr().out
    monkeypatch.setenv("ORDERGRAPH_DATABASE_URL", libpq.replace("postgresql://", "postgres://", 1))
    assert main(["status"]) == 0
    assert capsys.readouterr().out.startswith("PROJECTION")


async def test_status_and_rebuild(sqlite_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    async with app_client(sqlite_url) as client:
        await client.create_order()
        await client.create_order()
    import asyncio

    loop = asyncio.get_running_loop()
    assert await loop.run_in_executor(None, main, ["status", "--database-url", sqlite_url]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["PROJECTION", "STATE", "POSITION", "HEAD", "LAG", "LAST", "ERROR"]
    rows = {line.split()[0]: line.split() for line in lines[1:]}
    assert set(rows) == set(PROJECTION_NAMES)
    assert all(row[3] == "2" for row in rows.values())

    argv = ["rebuild", "--all", "--database-url", sqlite_url]
    assert await loop.run_in_executor(None, main, argv) == 0
    err = capsys.readouterr().err
    for name in PROJECTION_NAMES:
        assert f"{name}: rebuilt up to position 2" in err
    assert "/s " in err
    assert "s left" in err


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _get(url: str, timeout: float = 5) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=timeout) as response:
        return int(response.status), response.read()


@pytest.mark.slow
def test_serve_answers_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    port = _free_port()
    url = f"sqlite+aiosqlite:///{tmp_path}/served.db"
    env = {**os.environ, "ORDERGRAPH_DATABASE_URL": url}
    process = subprocess.Popen(
        [sys.executable, "-m", "graph.cli", "serve", "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                status, body = _get(f"http://127.0.0.1:{port}/healthz", 1)
                break
            except OSError:
                assert process.poll() is None, process.communicate()
                assert time.monotonic() < deadline, "the server did not come up"
                time.sleep(0.1)
        assert (status, json.loads(body)["status"]) == (200, "ok")

        # A request in flight when SIGTERM arrives still gets its answer.
        answers: list[dict[str, object]] = []

        def slow_read() -> None:
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/graphql",
                data=json.dumps(
                    {"query": '{ order(id: "x", minPosition: 999, timeoutMs: 1500) { id } }'}
                ).encode(),
                headers={"Content-Type": "application/json"},
            )
            with urllib.request.urlopen(request, timeout=10) as response:
                answers.append(json.loads(response.read()))

        reader = threading.Thread(target=slow_read)
        reader.start()
        time.sleep(0.3)
        process.send_signal(signal.SIGTERM)
        reader.join(10)
        _out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert answers == [
        {
            "data": {"order": None},
            "extensions": {
                "freshness": {
                    "stale": True,
                    "projections": {"order_views": {"requested": 999, "reached": 0}},
                }
            },
        }
    ]
    # uvicorn re-raises SIGTERM after a graceful shutdown (FINDINGS).
    assert process.returncode in (0, -signal.SIGTERM)
    assert b"Traceback" not in err
