"""The server under test as a subprocess pinned to its own core, and small HTTP helpers."""

from __future__ import annotations

import gc
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

from graph.api.identity import Role
from graph.http.auth import TokenAuthority

SERVER_CORE = "1"
SECRET = "bench-signing-secret-0123456789abcdef"
START_TIMEOUT = 60.0
REPO = Path(__file__).absolute().parent.parent


@contextmanager
def client_gc_paused() -> Iterator[None]:
    """The measuring client's cyclic GC held off for a leg: with thousands of sockets, one of
    its own full collections (40-150 ms measured) would be timed as the server's delay. What
    exists is frozen first, so the leg's garbage alone waits, and is collected at the end."""
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()
        gc.collect()


def admin_token() -> str:
    """A valid admin bearer token for SECRET."""
    return TokenAuthority(SECRET).mint("bench", Role.ADMIN)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def call(url: str, body: str | None = None, token: str | None = None, timeout: float = 30.0) -> Any:
    """One JSON request (POST when there is a body) and its decoded answer."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None if body is None else body.encode()
    request = urllib.request.Request(url, data=data, headers=headers)
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


def graphql(base_url: str, body: str, token: str) -> dict[str, Any]:
    """POST a GraphQL body; raise when the answer carries errors."""
    answer: dict[str, Any] = call(base_url + "/graphql", body, token)
    if answer.get("errors"):
        raise RuntimeError(f"GraphQL errors: {answer['errors']}")
    data: dict[str, Any] = answer["data"]
    return data


class Server:
    """`python -m bench.server` under `taskset -c 1`, started and stopped as a context."""

    def __init__(
        self, database_url: str, log_path: Path, replica_urls: tuple[str, ...] = ()
    ) -> None:
        self.database_url = database_url
        self.replica_urls = replica_urls
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        command = ["taskset", "-c", SERVER_CORE, sys.executable, "-m", "bench.server"]
        command += ["--database-url", self.database_url, "--port", str(self.port)]
        command += ["--secret", SECRET]
        for url in self.replica_urls:
            command += ["--replica-url", url]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT, env=dict(os.environ)
            )
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"the bench server exited; see {self.log_path}")
            try:
                if call(self.base_url + "/healthz", timeout=2).get("status") == "ok":
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the bench server did not start; see {self.log_path}")
            time.sleep(0.05)
        call(self.base_url + "/bench/setup", "{}")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def memory_mb(self) -> dict[str, float]:
        """The server's resident set now (VmRSS) and at its peak (VmHWM), in MB."""
        assert self.process is not None
        found: dict[str, float] = {}
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        for line in status.splitlines():
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                found[name] = int(value.split()[0]) / 1024
        return found


__all__ = ["SECRET", "Server", "admin_token", "call", "graphql"]
