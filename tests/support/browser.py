"""Browser and Node.js test helpers: Chromium, npm packages in a cache folder, node scripts.

The npm packages the tests use (Playwright's driver, the graphql-ws reference client) are
installed on first use into `$ORDERGRAPH_NPM_DIR` or `~/.cache/ordergraph/npm`, never into the
repository. Without Chromium, Node.js or the npm registry these tests skip, except under
`CI=true`, where they fail.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

from graph.http.assets import AssetError, AssetStore, fetch_assets

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

JS_DIR = Path(__file__).parent / "js"
NPM_PACKAGES = {
    "playwright-core": "1.65.1",
    "graphql-ws": "6.4.2",
    "ws": "8.23.0",
    "graphql": "16.15.0",
}
NPM_TIMEOUT_SECONDS = 300
STEP_TIMEOUT_SECONDS = 20.0


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


def npm_dir() -> Path:
    configured = os.environ.get("ORDERGRAPH_NPM_DIR")
    return Path(configured) if configured else Path.home() / ".cache" / "ordergraph" / "npm"


def _installed(directory: Path) -> bool:
    for name, version in NPM_PACKAGES.items():
        manifest = directory / "node_modules" / name / "package.json"
        try:
            if json.loads(manifest.read_text(encoding="utf-8"))["version"] != version:
                return False
        except (OSError, ValueError, KeyError):
            return False
    return True


def node_modules() -> Path:
    """The cache folder's node_modules, with NPM_PACKAGES installed (once, under a lock)."""
    directory = npm_dir()
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _installed(directory):
            npm = shutil.which("npm")
            if npm is None:
                unavailable("npm is not on PATH")
            specs = [f"{name}@{version}" for name, version in NPM_PACKAGES.items()]
            try:
                subprocess.run(
                    [npm, "install", "--no-audit", "--no-fund", "--prefix", str(directory), *specs],
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


def graphiql_assets_dir() -> Path:
    """The default assets folder, filled by `fetch_assets` when it lacks a file."""
    store = AssetStore()
    if not store.complete():
        try:
            fetch_assets(store.directory)
        except AssetError as error:
            unavailable(f"cannot fetch GraphiQL's assets: {error}")
    return store.directory


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
async def node_script(name: str, *args: str, **env: str) -> AsyncIterator[NodeScript]:
    """Run tests/support/js/`name` with the cached node_modules on NODE_PATH; kill it after."""
    modules = node_modules()
    process = await asyncio.create_subprocess_exec(
        node_path(),
        str(JS_DIR / name),
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "NODE_PATH": str(modules), **env},
    )
    try:
        yield NodeScript(process)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


__all__ = [
    "NPM_PACKAGES",
    "NodeScript",
    "chromium_path",
    "graphiql_assets_dir",
    "node_modules",
    "node_script",
    "unavailable",
]
