"""Under `uvicorn graph.app:create_app --factory` every refusal is one line on stderr naming what
to fix, exit status 1, and comes before anything is written: the factory checks the settings,
the databases and (read from uvicorn's own command line) the address before uvicorn runs the
lifespan, which migrates the database and takes the projections. A failure the lifespan meets
after all is one line in uvicorn's log (`OneLineStartupErrors`)."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from graph.app import create_app
from graph.ops.listen import uvicorn_address
from graph.settings import Settings
from tests.support.commands import (
    FACTORY,
    UVICORN,
    error_line,
    free_port,
    process,
    run,
    wait_healthy,
)

if TYPE_CHECKING:
    from starlette.types import Message

UNREACHABLE = "postgresql://user:secret@127.0.0.1:1/orders"


@pytest.fixture(autouse=True)
def _uvicorn_script() -> None:
    if not UVICORN.is_file():
        pytest.skip("no uvicorn script beside this Python")


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port something else listens on."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield taken.getsockname()[1]


def uvicorn(*args: str, cwd: Path, **env: str) -> str:
    """The one error line of `uvicorn graph.app:create_app --factory ARGS...`."""
    return error_line(run([str(UVICORN), FACTORY, "--factory", *args], cwd, **env))


def test_a_port_in_use_is_one_line_and_nothing_is_migrated(tmp_path: Path, taken_port: int) -> None:
    line = uvicorn("--port", str(taken_port), cwd=tmp_path)
    assert f"127.0.0.1:{taken_port} is already in use" in line
    assert list(tmp_path.iterdir()) == []  # no database file: nothing migrated, nothing taken


def test_the_port_is_read_from_uvicorns_variables_and_python_m_uvicorn(
    tmp_path: Path, taken_port: int
) -> None:
    args = [sys.executable, "-m", "uvicorn", FACTORY, "--factory"]
    line = error_line(run(args, tmp_path, UVICORN_PORT=str(taken_port)))
    assert f"127.0.0.1:{taken_port} is already in use" in line
    assert list(tmp_path.iterdir()) == []


def test_every_address_without_a_secret_is_one_line(tmp_path: Path) -> None:
    line = uvicorn("--host", "0.0.0.0", "--port", str(free_port()), cwd=tmp_path)
    assert "refusing to listen on 0.0.0.0 without authentication" in line
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("env", "reason"),
    [
        ({"ORDERGRAPH_MAX_WAIT_MS": "-1"}, "ORDERGRAPH_MAX_WAIT_MS must be 0 or more"),
        ({"ORDERGRAPH_DATABASE_URL": "mysql://db/orders"}, "unsupported database 'mysql'"),
        ({"ORDERGRAPH_READ_DATABASE_URL": "no/such/views.db"}, "folder of the SQLite file"),
        ({"ORDERGRAPH_MIGRATE_ON_START": "false"}, "run `ordergraph migrate` first"),
        ({"ORDERGRAPH_DATABASE_URL": UNREACHABLE}, "cannot reach PostgreSQL at 127.0.0.1:1"),
    ],
)
def test_a_bad_setting_or_database_is_one_line(
    tmp_path: Path, env: dict[str, str], reason: str
) -> None:
    line = uvicorn("--port", str(free_port()), cwd=tmp_path, **env)
    assert reason in line
    assert "secret" not in line
    assert list(tmp_path.iterdir()) == []


def test_a_good_start_logs_like_serve(tmp_path: Path) -> None:
    port = free_port()
    with process([str(UVICORN), FACTORY, "--factory", "--port", str(port)], tmp_path) as child:
        wait_healthy(f"http://127.0.0.1:{port}", child)
        child.terminate()
        output, _ = child.communicate(timeout=20)
    assert "WARNING ordergraph.app: development mode" in output
    assert "INFO ordergraph.requests: GET /healthz 200" in output


@pytest.mark.parametrize(
    ("argv", "address"),
    [
        (["/venv/bin/uvicorn", FACTORY, "--factory"], ("127.0.0.1", 8000)),
        (["/venv/bin/uvicorn", FACTORY, "--host", "::1", "--port", "9"], ("::1", 9)),
        (["/lib/uvicorn/__main__.py", FACTORY, "--port", "9"], ("127.0.0.1", 9)),
        (["/venv/bin/uvicorn", FACTORY, "--workers", "2"], None),  # bound before the app
        (["/venv/bin/uvicorn", FACTORY, "--reload"], None),
        (["/venv/bin/uvicorn", FACTORY, "--fd", "3"], None),
        (["/venv/bin/uvicorn", FACTORY, "--uds", "/run/og.sock"], None),
        (["/venv/bin/ordergraph", "serve", "--workers", "2"], None),  # serve's own workers
        (["/venv/bin/gunicorn", "-k", "uvicorn.workers.UvicornWorker"], None),
        ([], None),
    ],
)
def test_uvicorn_address_reads_uvicorns_command_line(
    argv: list[str], address: tuple[str, int] | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("UVICORN_HOST", "UVICORN_PORT", "WEB_CONCURRENCY"):
        monkeypatch.delenv(name, raising=False)
    assert uvicorn_address(argv) == address
    monkeypatch.setenv("WEB_CONCURRENCY", "4")
    assert uvicorn_address(argv) is None


async def test_a_failure_in_the_lifespan_is_one_line_in_uvicorns_log() -> None:
    app = create_app(Settings(database_url=UNREACHABLE))
    sent: list[Message] = []
    received = iter([{"type": "lifespan.startup"}])

    async def receive() -> Message:
        return next(received)

    async def send(message: Message) -> None:
        sent.append(message)

    with pytest.raises(OSError, match="Connect call failed"):
        await app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send)
    [failed] = sent
    assert failed["type"] == "lifespan.startup.failed"
    assert failed["message"].startswith(
        "ordergraph cannot start on PostgreSQL at 127.0.0.1:1 (database orders): "
        "ConnectionRefusedError"
    )
    assert "\n" not in failed["message"]
    assert "secret" not in failed["message"]
