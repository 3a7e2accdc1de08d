"""Running the service's commands as an operator does: `ordergraph` (as `python -m graph.cli`)
and `uvicorn graph.app:create_app --factory` in child processes with a clean environment."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
UVICORN = Path(sys.executable).with_name("uvicorn")
FACTORY = "graph.app:create_app"


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without any ORDERGRAPH_* or UVICORN_* variable, plus `extra`, with the
    checkout importable."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ORDERGRAPH_", "UVICORN_"))}
    return {**env, **extra, "PYTHONPATH": str(REPO)}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=cwd, env=clean_env(**env), capture_output=True, text=True, timeout=60
    )


def ordergraph(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`ordergraph ARGS...` run to its end in `cwd`."""
    return run([sys.executable, "-m", "graph.cli", *args], cwd, **env)


def error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The refusal: exit status 1 and exactly one line on stderr, `ordergraph: error: ...`,
    and nothing on stdout."""
    assert result.returncode == 1, result
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("ordergraph: error: "), result.stderr
    assert result.stdout == ""
    return lines[0]


@contextlib.contextmanager
def process(args: list[str], cwd: Path, **env: str) -> Iterator[subprocess.Popen[str]]:
    """A long-running child (stdout and stderr in one pipe), stopped when the block ends."""
    child = subprocess.Popen(
        args,
        cwd=cwd,
        env=clean_env(**env),
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


__all__ = [
    "FACTORY",
    "REPO",
    "UVICORN",
    "clean_env",
    "error_line",
    "free_port",
    "ordergraph",
    "process",
    "run",
    "wait_healthy",
]
