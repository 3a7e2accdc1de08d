"""Browser and Node.js test helpers: Chromium, npm packages in a scratch folder, node scripts.

Nothing here writes into the user's home or the repository. The npm packages the tests use
(Playwright's driver, the graphql-ws and graphql-sse reference clients, the graphql-http audit,
Apollo Client, urql's core) are installed on first use into a temporary folder of this test
process, with npm's own cache beside them, and removed when the process ends (a fresh install
takes a few seconds); the heavier set docs/clients.md runs (urql's cache, GraphQL Code Generator,
TypeScript) goes to a subfolder of its own (about 30 s to install). `ORDERGRAPH_NPM_DIR` names a
folder to keep them in across runs instead. Node scripts, and the Chromium they start, run with
`HOME` pointed at an empty temporary folder. Without Chromium, Node.js or the npm registry these
tests skip, except under `CI=true`, where they fail.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import fcntl
import functools
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import httpx
import pytest

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator, Mapping

JS_DIR = Path(__file__).parent / "js"
NPM_PACKAGES = {
    "playwright-core": "1.65.1",
    "graphql-ws": "6.4.2",
    # graphql-sse's reference client (subscriptions over server-sent events).
    "graphql-sse": "2.6.1",
    "ws": "8.23.0",
    "graphql": "16.15.0",
    # The GraphQL-over-HTTP conformance audit, and Apollo Client with its persisted-query link.
    "graphql-http": "1.23.1",
    "@apollo/client": "4.3.8",
    "rxjs": "7.8.2",
    # clients/js's urql exchange is tested with urql's core.
    "@urql/core": "6.0.3",
}
# What docs/clients.md's blocks import and run (tests/docs/test_clients.py), in a folder of their
# own: GraphQL Code Generator alone brings some 300 packages the browser tests do not need.
CLIENT_PACKAGES = {
    "@apollo/client": "4.3.8",
    "graphql": "16.15.0",
    "graphql-ws": "6.4.2",
    "graphql-sse": "2.6.1",
    "ws": "8.23.0",
    "rxjs": "7.8.2",
    "@urql/core": "6.0.3",
    "@urql/exchange-graphcache": "9.0.2",
    "@graphql-codegen/cli": "7.4.3",
    "@graphql-codegen/typescript-operations": "6.1.9",
    "@graphql-codegen/typed-document-node": "7.1.1",
    "typescript": "7.0.2",
}
NPM_TIMEOUT_SECONDS = 300
STEP_TIMEOUT_SECONDS = 20.0
SERVE_TIMEOUT_SECONDS = 30.0


def running_in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def unavailable(reason: str) -> NoReturn:
    """Skip the test, or fail it under CI=true."""
    if running_in_ci():
        pytest.fail(f"{reason} (CI=true, so this fails instead of skipping)", pytrace=False)
    pytest.skip(reason)


def chromium_path() -> str:
    """Debian's Chromium ($CHROMIUM_PATH overrides), or skip/fail."""
    path = os.environ.get("CHROMIUM_PATH") or "/usr/bin/chromium"
    if not os.access(path, os.X_OK):
        unavailable(f"Chromium not found at {path} (apt-get install -y chromium)")
    return path


def node_path() -> str:
    node = shutil.which("node")
    if node is None:
        unavailable("Node.js (node) is not on PATH")
    return node


@functools.cache
def scratch_dir() -> Path:
    """A temporary folder for this test process, removed when it exits."""
    directory = Path(tempfile.mkdtemp(prefix="ordergraph-tests-"))
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    return directory


def npm_dir(packages: Mapping[str, str] = NPM_PACKAGES) -> Path:
    """Where `packages` are installed: `$ORDERGRAPH_NPM_DIR`, else the scratch folder (a
    subfolder for a set other than NPM_PACKAGES)."""
    configured = os.environ.get("ORDERGRAPH_NPM_DIR")
    directory = Path(configured) if configured else scratch_dir() / "npm"
    return directory if packages is NPM_PACKAGES else directory / _set_name(packages)


def _set_name(packages: Mapping[str, str]) -> str:
    specs = ",".join(f"{name}@{version}" for name, version in sorted(packages.items()))
    return "set-" + hashlib.sha256(specs.encode()).hexdigest()[:12]


def npm_env(directory: Path) -> dict[str, str]:
    """npm's environment: its cache (and logs) under `directory`, not in ~/.npm."""
    return {
        **os.environ,
        "npm_config_cache": str(directory / ".npm-cache"),
        "npm_config_update_notifier": "false",
    }


def empty_home() -> Path:
    """A new, empty folder to be a process's HOME."""
    home = Path(tempfile.mkdtemp(prefix="home-", dir=scratch_dir()))
    return home


def _installed(directory: Path, packages: Mapping[str, str]) -> bool:
    for name, version in packages.items():
        manifest = directory / "node_modules" / name / "package.json"
        try:
            if json.loads(manifest.read_text(encoding="utf-8"))["version"] != version:
                return False
        except (OSError, ValueError, KeyError):
            return False
    return True


def node_modules(packages: Mapping[str, str] = NPM_PACKAGES) -> Path:
    """The cache folder's node_modules, with `packages` installed (once, under a lock)."""
    directory = npm_dir(packages)
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _installed(directory, packages):
            npm = shutil.which("npm")
            if npm is None:
                unavailable("npm is not on PATH")
            specs = [f"{name}@{version}" for name, version in packages.items()]
            try:
                subprocess.run(
                    [npm, "install", "--no-audit", "--no-fund", "--prefix", str(directory), *specs],
                    env=npm_env(directory),
                    capture_output=True,
                    text=True,
                    timeout=NPM_TIMEOUT_SECONDS,
                    check=True,
                )
            except subprocess.CalledProcessError as error:
                unavailable(f"npm install failed: {error.stderr.strip()[-1000:]}")
            except subprocess.TimeoutExpired:
                unavailable(f"npm install took over {NPM_TIMEOUT_SECONDS} s")
    return directory / "node_modules"


def _without_user_dirs(env: dict[str, str]) -> dict[str, str]:
    """`env` less the variables that point a process at the user's folders or settings."""
    return {
        name: value
        for name, value in env.items()
        if not name.startswith(("XDG_", "ORDERGRAPH_", "npm_config_", "NPM_CONFIG_"))
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def ordergraph_command() -> list[str]:
    """The `ordergraph` console script of this environment (else `python -m graph.cli`)."""
    script = Path(sys.executable).with_name("ordergraph")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "graph.cli"]


@contextlib.contextmanager
def ordergraph_serve(home: Path, workdir: Path, *args: str) -> Iterator[tuple[str, Path]]:
    """`ordergraph serve` as a person starts it: a new process in `workdir` (so its SQLite file
    lands there), `HOME` set to `home`, no ORDERGRAPH_* or XDG_* variables. Yields its base URL
    and the file that collects its output; stops it with SIGTERM afterwards."""
    port = _free_port()
    output = workdir / "serve.log"
    env = {**_without_user_dirs(dict(os.environ)), "HOME": str(home)}
    with output.open("wb") as sink:
        process = subprocess.Popen(
            [*ordergraph_command(), "serve", "--port", str(port), *args],
            cwd=workdir,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVE_TIMEOUT_SECONDS
        while True:
            if process.poll() is not None:
                raise AssertionError(f"ordergraph serve exited: {output.read_text()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise AssertionError(f"ordergraph serve did not start: {output.read_text()}")
            time.sleep(0.1)
        yield base, output
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class NodeScript:
    """A node script under tests/support/js that speaks JSON lines: events out, commands in."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self._process = process
        self.events: list[dict[str, Any]] = []

    async def expect(self, event: str, timeout: float = STEP_TIMEOUT_SECONDS) -> dict[str, Any]:
        """The next event, which must be `event`; a failing script's stderr is in the error."""
        assert self._process.stdout is not None
        try:
            line = await asyncio.wait_for(self._process.stdout.readline(), timeout)
        except TimeoutError:
            raise AssertionError(f"no {event!r} within {timeout} s; seen {self.events}") from None
        if not line:
            raise AssertionError(f"the script ended before {event!r}: {await self._stderr()}")
        message: dict[str, Any] = json.loads(line)
        self.events.append(message)
        assert message["event"] == event, message
        return message

    async def send(self, command: str, **data: Any) -> None:
        assert self._process.stdin is not None
        self._process.stdin.write(json.dumps({"command": command, **data}).encode() + b"\n")
        await self._process.stdin.drain()

    async def finish(self) -> None:
        """Wait for a clean exit."""
        code = await asyncio.wait_for(self._process.wait(), STEP_TIMEOUT_SECONDS)
        assert code == 0, await self._stderr()

    async def _stderr(self) -> str:
        assert self._process.stderr is not None
        with contextlib.suppress(TimeoutError):
            return (await asyncio.wait_for(self._process.stderr.read(), 5)).decode()
        return "(no stderr)"


@contextlib.asynccontextmanager
async def node_script(
    name: str | Path, *args: str, packages: Mapping[str, str] = NPM_PACKAGES, **env: str
) -> AsyncIterator[NodeScript]:
    """Run tests/support/js/`name` (or the script at the path `name`) with `packages`'
    node_modules on NODE_PATH; kill it after.

    The script (and Chromium) get an empty temporary HOME unless `env` names one."""
    modules = node_modules(packages)
    process = await asyncio.create_subprocess_exec(
        node_path(),
        str(JS_DIR / name),
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={
            **_without_user_dirs(dict(os.environ)),
            "HOME": str(empty_home()),
            "NODE_PATH": str(modules),
            **env,
        },
    )
    try:
        yield NodeScript(process)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


__all__ = [
    "CLIENT_PACKAGES",
    "JS_DIR",
    "NPM_PACKAGES",
    "NodeScript",
    "chromium_path",
    "empty_home",
    "node_modules",
    "node_path",
    "node_script",
    "npm_env",
    "ordergraph_command",
    "ordergraph_serve",
    "scratch_dir",
    "unavailable",
]
