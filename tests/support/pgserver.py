"""A throwaway PostgreSQL server for the test suite, or an existing one named by a URL.

`PostgresServer.start()` runs `initdb` and `pg_ctl` in a temporary folder (as the `postgres`
user when running as root, since `initdb` refuses root), tuned for speed rather than
durability. `PostgresServer.connect(url)` wraps a server that is already running. Either way,
`create_database()` makes a fresh empty database and `url(dbname)` names it for SQLAlchemy.
Admin statements run on a private event loop in a worker thread, so the helper works from
synchronous fixtures and never touches the loop a test runs on. A watchdog process stops the
server and removes its folder when the test process goes away, even when it is killed.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import asyncpg
from sqlalchemy.engine import URL, make_url

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

__all__ = ["PostgresServer", "PostgresUnavailable"]

FALLBACK_BIN_DIRS = "/usr/lib/postgresql/*/bin"
SERVER_SETTINGS = (
    "listen_addresses=127.0.0.1",
    "fsync=off",
    "synchronous_commit=off",
    "full_page_writes=off",
    "max_connections=200",
)
COMMAND_TIMEOUT = 60.0
START_ATTEMPTS = 3
# On disk, CREATE DATABASE costs 0.1-0.25 s here (it copies and checkpoints ~8 MB); in RAM, 15 ms.
RAM_DISK = Path("/dev/shm")
RAM_DISK_MIN_FREE = 1 << 30

# Waits for end-of-file on stdin (our process closed the pipe, or died), then runs the stop
# command given in argv[2:] and removes the folder argv[1]. It runs in its own session, so a
# Ctrl-C in the terminal reaches pytest but not it.
WATCHDOG = """
import shutil, subprocess, sys
sys.stdin.buffer.read()
subprocess.run(sys.argv[2:], stdin=subprocess.DEVNULL, capture_output=True, check=False)
shutil.rmtree(sys.argv[1], ignore_errors=True)
"""

T = TypeVar("T")


class PostgresUnavailable(RuntimeError):
    """PostgreSQL could not be found, started or reached."""


def default_search_path() -> str:
    """PATH, then the Debian/Ubuntu install folders, newest version first."""
    fallback = sorted(Path("/").glob(FALLBACK_BIN_DIRS.lstrip("/")), reverse=True)
    return os.pathsep.join([os.environ.get("PATH", ""), *map(str, fallback)])


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class PostgresServer:
    """One PostgreSQL server: started here (and owned) or reached through a URL."""

    def __init__(self, base_url: URL) -> None:
        self.base_url = base_url
        self._watchdog: subprocess.Popen[bytes] | None = None

    @classmethod
    def start(cls, *, search_path: str | None = None) -> PostgresServer:
        """Initialise and start a private server on a free port; raise PostgresUnavailable."""
        path = default_search_path() if search_path is None else search_path
        initdb = shutil.which("initdb", path=path)
        pg_ctl = shutil.which("pg_ctl", path=path)
        if initdb is None or pg_ctl is None:
            missing = "initdb" if initdb is None else "pg_ctl"
            raise PostgresUnavailable(
                f"{missing} not found on PATH or in {FALLBACK_BIN_DIRS}; install PostgreSQL "
                "or set TEST_DATABASE_URL=postgresql+asyncpg://user@host:port/dbname"
            )
        run_as = _run_as_user()
        folder = Path(tempfile.mkdtemp(prefix="ordergraph-pg-", dir=_scratch_parent()))
        if run_as is not None:
            os.chown(folder, run_as.pw_uid, run_as.pw_gid)
        data = str(folder / "data")
        server = cls(URL.create("postgresql+asyncpg", username="postgres", host="127.0.0.1"))
        stop = _as_user(run_as, [pg_ctl, "-D", data, "-m", "immediate", "-w", "stop"])
        server._watchdog = subprocess.Popen(
            [sys.executable, "-c", WATCHDOG, str(folder), *stop],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=folder,
            start_new_session=True,
        )
        initialise = [initdb, "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8"]
        initialise += ["--locale=C", "--no-sync", "--no-instructions"]
        settings = " ".join(f"-c {setting}" for setting in SERVER_SETTINGS)
        try:
            _run("initdb", _as_user(run_as, initialise), folder)
            for attempt in range(1, START_ATTEMPTS + 1):
                # Another process may take the free port before the server binds it.
                port = free_port()
                launch = [pg_ctl, "-D", data, "-l", str(folder / "server.log"), "-w", "-t", "30"]
                launch += ["-o", f"-p {port} -k {folder} {settings}", "start"]
                try:
                    _run("pg_ctl start", _as_user(run_as, launch), folder)
                except PostgresUnavailable:
                    if attempt == START_ATTEMPTS:
                        raise
                else:
                    server.base_url = server.base_url.set(port=port)
                    break
        except PostgresUnavailable:
            server.stop()
            raise
        return server

    @classmethod
    def connect(cls, url: str) -> PostgresServer:
        """Use an existing server; `url` is a postgresql+asyncpg:// URL it accepts."""
        parsed = make_url(url)
        if parsed.drivername != "postgresql+asyncpg":
            raise PostgresUnavailable(
                f"TEST_DATABASE_URL must be postgresql+asyncpg://, got {url!r}"
            )
        server = cls(parsed)
        version = server._admin(_server_version)
        if version < 15:
            raise PostgresUnavailable(f"PostgreSQL 15 or newer is needed, the server is {version}")
        return server

    def url(self, dbname: str) -> str:
        """The SQLAlchemy URL of database `dbname` on this server."""
        return self.base_url.set(database=dbname).render_as_string(hide_password=False)

    def create_database(self) -> str:
        """Create a fresh empty database with a random name and return the name."""
        name = f"t_{uuid.uuid4().hex}"
        self._admin(_execute, f'CREATE DATABASE "{name}" STRATEGY FILE_COPY')
        return name

    def drop_database(self, name: str) -> None:
        """Drop database `name`, closing any connections still open to it."""
        self._admin(_execute, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        """Stop a server started here and remove its folder; a no-op for a connected one."""
        watchdog, self._watchdog = self._watchdog, None
        if watchdog is None:
            return
        assert watchdog.stdin is not None
        watchdog.stdin.close()
        watchdog.wait(timeout=COMMAND_TIMEOUT)

    def _admin(self, action: Callable[..., Awaitable[T]], *args: str) -> T:
        """Run `action` on a connection to the maintenance database, on a private loop."""

        async def session() -> T:
            try:
                connection = await asyncpg.connect(
                    host=self.base_url.host,
                    port=self.base_url.port,
                    user=self.base_url.username,
                    password=self.base_url.password,
                    database=self.base_url.database or "postgres",
                )
            except (OSError, asyncpg.PostgresError) as error:
                shown = self.base_url.render_as_string(hide_password=True)
                raise PostgresUnavailable(f"cannot connect to {shown}: {error}") from error
            try:
                return await action(connection, *args)
            finally:
                await connection.close()

        with ThreadPoolExecutor(max_workers=1) as worker:
            return worker.submit(asyncio.run, session()).result()


def _run(label: str, command: list[str], folder: Path) -> None:
    """Run a PostgreSQL program in `folder`; raise PostgresUnavailable with its output."""
    try:
        completed = subprocess.run(
            command,
            cwd=folder,
            env={name: value for name, value in os.environ.items() if not name.startswith("PG")},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise PostgresUnavailable(f"{label} failed: {error}") from error
    if completed.returncode != 0:
        log = folder / "server.log"
        log_text = log.read_text(errors="replace") if log.exists() else ""
        raise PostgresUnavailable(
            f"{label} failed (exit {completed.returncode}): "
            f"{completed.stderr.strip()} {log_text.strip()}".strip()
        )


def _as_user(account: pwd.struct_passwd | None, command: list[str]) -> list[str]:
    """`command`, run as `account` through runuser when one is given."""
    return command if account is None else ["runuser", "-u", account.pw_name, "--", *command]


def _scratch_parent() -> Path | None:
    """The RAM disk when it is big enough (Docker gives 64 MB by default), else the temp dir."""
    usable = RAM_DISK.is_dir() and os.access(RAM_DISK, os.W_OK | os.X_OK)
    return RAM_DISK if usable and shutil.disk_usage(RAM_DISK).free >= RAM_DISK_MIN_FREE else None


def _run_as_user() -> pwd.struct_passwd | None:
    """The account to run initdb and pg_ctl as: `postgres` when we are root, else ourselves."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        raise PostgresUnavailable(
            "running as root, and initdb refuses root: create a 'postgres' user to run it as"
        ) from None


async def _execute(connection: Any, statement: str) -> None:
    await connection.execute(statement)


async def _server_version(connection: Any) -> int:
    version: int = connection.get_server_version().major
    return version
