"""A throwaway PostgreSQL server for the test suite, or an existing one named by a URL.

`PostgresServer.start()` runs `initdb` and `pg_ctl` in a temporary folder (as the `postgres`
user when running as root, since `initdb` refuses root), tuned for speed rather than
durability. `PostgresServer.connect(url)` wraps a server that is already running. Either way,
`create_database()` makes a fresh empty database and `url(dbname)` names it for SQLAlchemy.
`start_standby()` makes a streaming standby of a server (`pg_basebackup -R`) on another port, whose
replay a test can pause (`pause_replay()`), resume, and stop and start again.
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
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import asyncpg
from sqlalchemy.engine import URL, make_url

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence

__all__ = ["PostgresServer", "PostgresUnavailable"]

FALLBACK_BIN_DIRS = "/usr/lib/postgresql/*/bin"
SERVER_SETTINGS = (
    "listen_addresses=127.0.0.1",
    "fsync=off",
    "synchronous_commit=off",
    "full_page_writes=off",
    "max_connections=200",
)
PROGRAMS = ("initdb", "pg_ctl")  # every server; pg_basebackup is looked up for a standby only
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
        self._files: tuple[_Tools, Path] | None = None
        self._primary: PostgresServer | None = None
        self._settings: tuple[str, ...] = SERVER_SETTINGS

    @classmethod
    def start(
        cls, *, search_path: str | None = None, settings: Sequence[str] = SERVER_SETTINGS
    ) -> PostgresServer:
        """Initialise and start a private server on a free port, with `settings` (`name=value`;
        its standbys get them too); raise PostgresUnavailable."""
        tools = _Tools.find(search_path)
        server = cls(URL.create("postgresql+asyncpg", username="postgres", host="127.0.0.1"))
        server._settings = tuple(settings)
        folder = server._own_folder(tools)
        initialise = [tools.initdb, "-D", str(folder / "data"), "-A", "trust", "-U", "postgres"]
        initialise += ["-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"]
        try:
            _run("initdb", tools.as_user(initialise), folder)
            server._launch(tools, folder)
        except PostgresUnavailable:
            server.stop()
            raise
        return server

    def start_standby(self, *, search_path: str | None = None) -> PostgresServer:
        """A hot standby of this server, streaming from it, started on a free port: a copy
        taken with `pg_basebackup -R -c fast` (which writes `primary_conninfo` and
        `standby.signal`), run as this server's files are; raise PostgresUnavailable."""
        tools = _Tools.find(search_path)
        basebackup = tools.program("pg_basebackup")
        standby = PostgresServer(self.base_url.set(port=None, database=None))
        standby._settings = self._settings
        folder = standby._own_folder(tools)
        copy = [basebackup, "-h", str(self.base_url.host), "-p", str(self.base_url.port)]
        copy += ["-U", str(self.base_url.username), "-D", str(folder / "data")]
        copy += ["-R", "-c", "fast", "-X", "stream", "--no-sync"]
        try:
            _run("pg_basebackup", tools.as_user(copy), folder)
            standby._launch(tools, folder)
        except PostgresUnavailable:
            standby.stop()
            raise
        standby._primary = self
        return standby

    def pause_replay(self) -> None:
        """Stop applying the primary's WAL (a standby): it lags from now on."""
        self._admin(_execute, "SELECT pg_wal_replay_pause()")

    def resume_replay(self) -> None:
        """Apply the primary's WAL again (a standby)."""
        self._admin(_execute, "SELECT pg_wal_replay_resume()")

    def wait_for_replay(self, timeout: float = 30.0) -> None:
        """Return once this standby has replayed everything its primary has logged so far (with
        `synchronous_commit=off` the primary sends it within `wal_writer_delay`)."""
        if self._primary is None:
            raise ValueError("not a standby")
        target = self._primary._admin(_fetch, "SELECT pg_current_wal_insert_lsn()::text")
        statement = f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn"
        deadline = time.monotonic() + timeout
        while self._admin(_fetch, statement) is not True:
            if time.monotonic() > deadline:
                raise PostgresUnavailable(f"the standby did not replay up to {target} in time")
            time.sleep(0.02)

    def halt(self) -> None:
        """Stop the server process (a fast shutdown), keeping its files: see `resume()`."""
        tools, folder = self._owned()
        stop = [tools.pg_ctl, "-D", str(folder / "data"), "-m", "fast", "-w", "stop"]
        _run("pg_ctl stop", tools.as_user(stop), folder)

    def resume(self) -> None:
        """Start a halted server again, on the same port."""
        tools, folder = self._owned()
        self._launch(tools, folder, port=self.base_url.port)

    def restart(self, mode: str = "fast") -> None:
        """Restart a server started here (`pg_ctl restart -m mode`: "fast" ends the sessions,
        "immediate" stops it as a crash would, recovering on start), on the same port."""
        tools, folder = self._owned()
        restart = [tools.pg_ctl, "-D", str(folder / "data"), "-l", str(folder / "server.log")]
        restart += ["-m", mode, "-w", "-t", "30", "restart"]
        _run("pg_ctl restart", tools.as_user(restart), folder)

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

    def _own_folder(self, tools: _Tools) -> Path:
        """A new folder for this server's files, removed (the server stopped first) by a
        watchdog when `stop()` runs or the test process goes away."""
        folder = Path(tempfile.mkdtemp(prefix="ordergraph-pg-", dir=_scratch_parent()))
        if tools.run_as is not None:
            os.chown(folder, tools.run_as.pw_uid, tools.run_as.pw_gid)
        stop = [tools.pg_ctl, "-D", str(folder / "data"), "-m", "immediate", "-w", "stop"]
        stop = tools.as_user(stop)
        self._watchdog = subprocess.Popen(
            [sys.executable, "-c", WATCHDOG, str(folder), *stop],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd=folder,
            start_new_session=True,
        )
        self._files = tools, folder
        return folder

    def _owned(self) -> tuple[_Tools, Path]:
        if self._files is None:
            raise ValueError("only a server started here can be halted, resumed or restarted")
        return self._files

    def _launch(self, tools: _Tools, folder: Path, *, port: int | None = None) -> None:
        """Start the server in `folder` on `port`, or on a free port (tried a few times)."""
        settings = " ".join(f"-c {setting}" for setting in self._settings)
        for attempt in range(1, START_ATTEMPTS + 1):
            # Another process may take the free port before the server binds it.
            chosen = free_port() if port is None else port
            launch = [tools.pg_ctl, "-D", str(folder / "data"), "-l", str(folder / "server.log")]
            launch += ["-w", "-t", "30", "-o", f"-p {chosen} -k {folder} {settings}", "start"]
            try:
                _run("pg_ctl start", tools.as_user(launch), folder)
            except PostgresUnavailable:
                if attempt == START_ATTEMPTS:
                    raise
            else:
                self.base_url = self.base_url.set(port=chosen)
                return

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


@dataclass(frozen=True, slots=True)
class _Tools:
    """PostgreSQL's programs, and the account to run them as."""

    initdb: str
    pg_ctl: str
    search_path: str
    run_as: pwd.struct_passwd | None

    @classmethod
    def find(cls, search_path: str | None) -> _Tools:
        path = default_search_path() if search_path is None else search_path
        initdb, pg_ctl = (_program(name, path) for name in PROGRAMS)
        return cls(initdb, pg_ctl, path, _run_as_user())

    def program(self, name: str) -> str:
        """Another PostgreSQL program, found where these were looked for."""
        return _program(name, self.search_path)

    def as_user(self, command: list[str]) -> list[str]:
        """`command`, run as `run_as` through runuser when there is one."""
        account = self.run_as
        return command if account is None else ["runuser", "-u", account.pw_name, "--", *command]


def _program(name: str, search_path: str) -> str:
    where = shutil.which(name, path=search_path)
    if where is None:
        raise PostgresUnavailable(
            f"{name} not found on PATH or in {FALLBACK_BIN_DIRS}; install PostgreSQL "
            "or set TEST_DATABASE_URL=postgresql+asyncpg://user@host:port/dbname"
        )
    return where


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


async def _fetch(connection: Any, statement: str) -> Any:
    return await connection.fetchval(statement)


async def _server_version(connection: Any) -> int:
    version: int = connection.get_server_version().major
    return version
