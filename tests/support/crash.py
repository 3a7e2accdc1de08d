"""A real `ordergraph serve` in a child process, for tests that fuzz it or kill it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT_SECONDS = 30.0
START_ATTEMPTS = 3


def free_port() -> int:
    """A TCP port on the loopback address that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ServerProcess:
    """`python -m graph.cli serve` on one database; each start listens on a fresh port.

    The child's output goes to `log_path` (a pipe nobody reads could fill and stall it).
    """

    def __init__(
        self, database_url: str, log_path: Path, env: Mapping[str, str] | None = None
    ) -> None:
        self.database_url = database_url
        self.log_path = log_path
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("ORDERGRAPH_")},
            **(env or {}),
        }
        self.port = 0
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start the server and return once /healthz answers 200.

        A port found free can be taken by another process before the child binds it: then the
        child exits at once, and it is started again on another port.
        """
        assert not self.running, "already running"
        for _ in range(START_ATTEMPTS):
            if self._start_once():
                return
        raise RuntimeError(f"the server did not start:\n{self.output()}")

    def _start_once(self) -> bool:
        """Whether the server came up; False when its port was taken meanwhile."""
        self.port = free_port()
        self._log = self.log_path.open("ab")
        written_before = self._log.tell()
        self._process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "graph.cli",
                "serve",
                "--port",
                str(self.port),
                "--database-url",
                self.database_url,
            ],
            cwd=REPO,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        with httpx.Client(base_url=self.base_url, timeout=2) as http:
            while True:
                if self._process.poll() is not None:
                    self._end(signal.SIGKILL)
                    if "address already in use" in self.output()[written_before:]:
                        return False
                    raise RuntimeError(f"the server exited at start:\n{self.output()}")
                try:
                    if http.get("/healthz").status_code == 200:
                        return True
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    self.kill()
                    raise RuntimeError(f"the server did not come up:\n{self.output()}")
                time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL: no shutdown, no flush, nothing the process could still do."""
        self._end(signal.SIGKILL)

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it has not stopped within 20 s."""
        self._end(signal.SIGTERM)

    def _end(self, signum: int) -> None:
        process, self._process = self._process, None
        if process is not None:
            if process.poll() is None:
                process.send_signal(signum)
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def output(self) -> str:
        """Everything the server has written so far (its log)."""
        if self._log is not None:
            self._log.flush()
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@contextmanager
def served(
    database_url: str, log_path: Path, env: Mapping[str, str] | None = None
) -> Iterator[ServerProcess]:
    """A started ServerProcess, stopped (SIGTERM) when the block ends."""
    server = ServerProcess(database_url, log_path, env)
    server.start()
    try:
        yield server
    finally:
        server.stop()


__all__ = ["REPO", "ServerProcess", "free_port", "served"]
