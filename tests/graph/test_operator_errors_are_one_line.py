"""Start-up and operator errors are one line that says what to fix, never a traceback; `status`
says whether any process runs the projections; `status` and `rebuild` never create a database;
serve logs where GraphiQL and the live page are."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from graph.cli import main
from tests.support.graph import app_client

REPO = Path(__file__).resolve().parents[2]
UVICORN = Path(sys.executable).with_name("uvicorn")


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ORDERGRAPH_")}
    return {**env, **extra}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def ordergraph(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "graph.cli", *args],
        cwd=cwd,
        env={**_clean_env(**env), "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=60,
    )


def error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The one error line (after any log lines), checked to be the only one of its kind."""
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if "error" in line.lower()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_serve_against_an_unreachable_postgresql_names_host_and_port(tmp_path: Path) -> None:
    url = "postgresql+asyncpg://user:secret@127.0.0.1:1/orders"
    line = error_line(
        ordergraph("serve", "--port", str(_free_port()), cwd=tmp_path, ORDERGRAPH_DATABASE_URL=url)
    )
    assert "cannot reach PostgreSQL at 127.0.0.1:1 (database orders)" in line
    assert "secret" not in line


def test_serve_on_a_folder_says_to_give_a_file(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}"
    line = error_line(
        ordergraph("serve", "--port", str(_free_port()), "--database-url", url, cwd=tmp_path)
    )
    assert f"the SQLite database {tmp_path} is a folder" in line


def test_migrate_on_start_false_refuses_a_fresh_database_and_creates_no_file(
    tmp_path: Path,
) -> None:
    result = ordergraph(
        "serve", "--port", str(_free_port()), cwd=tmp_path, ORDERGRAPH_MIGRATE_ON_START="false"
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


@contextlib.contextmanager
def process(args: list[str], cwd: Path, **env: str) -> Iterator[subprocess.Popen[str]]:
    child = subprocess.Popen(
        args,
        cwd=cwd,
        env={**_clean_env(**env), "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield child
    finally:
        child.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(10)
        if child.poll() is None:
            child.kill()
            child.wait()


def wait_healthy(base: str, child: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while True:
        assert child.poll() is None, child.communicate()
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        assert time.monotonic() < deadline, "did not start"
        time.sleep(0.1)


def test_serve_logs_where_graphiql_and_the_live_page_are(tmp_path: Path) -> None:
    port = _free_port()
    args = [sys.executable, "-m", "graph.cli", "serve", "--port", str(port)]
    with process(args, tmp_path) as child:
        wait_healthy(f"http://127.0.0.1:{port}", child)
        child.terminate()
        output, _ = child.communicate(timeout=20)
    base = f"http://127.0.0.1:{port}"
    assert f"GraphiQL at {base}/graphql, the live page at {base}/" in output


def test_plain_uvicorn_logs_like_serve_and_a_bad_variable_is_one_line(tmp_path: Path) -> None:
    if not UVICORN.is_file():
        pytest.skip("no uvicorn script beside this Python")
    bad = subprocess.run(
        [str(UVICORN), "graph.app:create_app", "--factory", "--port", str(_free_port())],
        cwd=tmp_path,
        env={**_clean_env(ORDERGRAPH_MAX_WAIT_MS="-1"), "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 1
    assert "Traceback" not in bad.stderr
    assert "ordergraph: ORDERGRAPH_MAX_WAIT_MS must be 0 or more" in bad.stderr

    port = _free_port()
    args = [str(UVICORN), "graph.app:create_app", "--factory", "--port", str(port)]
    with process(args, tmp_path) as child:
        wait_healthy(f"http://127.0.0.1:{port}", child)
        child.terminate()
        output, _ = child.communicate(timeout=20)
    assert "WARNING ordergraph.app: development mode" in output
    assert "INFO ordergraph.requests: GET /healthz 200" in output


def test_plain_uvicorn_against_an_unreachable_database_fails_in_one_line(tmp_path: Path) -> None:
    if not UVICORN.is_file():
        pytest.skip("no uvicorn script beside this Python")
    url = "postgresql+asyncpg://user:secret@127.0.0.1:1/orders"
    result = subprocess.run(
        [str(UVICORN), "graph.app:create_app", "--factory", "--port", str(_free_port())],
        cwd=tmp_path,
        env={**_clean_env(ORDERGRAPH_DATABASE_URL=url), "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr
    assert "ordergraph cannot start on PostgreSQL at 127.0.0.1:1 (database orders)" in result.stderr
    assert "secret" not in result.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_serve_on_an_unwritable_folder_says_so(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    url = f"sqlite+aiosqlite:///{locked / 'ordergraph.db'}"
    result = ordergraph("serve", "--port", str(_free_port()), "--database-url", url, cwd=tmp_path)
    assert f"the folder {locked} is not writable" in error_line(result)
