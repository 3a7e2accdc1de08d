"""`ordergraph serve --workers N` as an operator starts it, for tests that need several worker
processes behind one port (each worker told apart by what its /healthz says it leads)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from readmodels.registry import PROJECTION_NAMES

if TYPE_CHECKING:
    from collections.abc import Iterator

REPO = Path(__file__).resolve().parents[2]
READY_SECONDS = 60.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _leading(base: str) -> str | None:
    """What the worker a new connection reached leads (a sorted JSON list), or None."""
    with contextlib.suppress(httpx.HTTPError, ValueError, KeyError):
        answer = httpx.get(f"{base}/healthz", timeout=2, headers={"connection": "close"})
        if answer.status_code == 200:
            return json.dumps(sorted(answer.json()["leading"]))
    return None


@contextlib.contextmanager
def serve_workers(url: str, *, workers: int = 2, views_url: str | None = None) -> Iterator[str]:
    """`ordergraph serve --workers N` on `url` (its views in `views_url` when given); yields
    its base URL once every worker answers and the projections have a leader; SIGTERM after."""
    port = _free_port()
    env = {**os.environ, "ORDERGRAPH_DATABASE_URL": url}
    if views_url is not None:
        env["ORDERGRAPH_READ_DATABASE_URL"] = views_url
    log = tempfile.TemporaryFile()  # noqa: SIM115 (closed below)
    command = [sys.executable, "-m", "graph.cli", "serve", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--workers", str(workers)],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + READY_SECONDS
        seen: set[str] = set()
        while len(seen) < workers or not _led(seen):
            if process.poll() is not None or time.monotonic() > deadline:
                log.seek(0)
                output = log.read().decode(errors="replace")[-3000:]
                raise AssertionError(f"the workers did not all come up (saw {seen}): {output}")
            leading = _leading(base)
            if leading is not None:
                seen.add(leading)
            time.sleep(0.05)
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


class Pinned:
    """An HTTP client on one keep-alive connection, so on one worker (`leading` tells it
    apart); a request that had to open another connection fails the test."""

    def __init__(self, base: str) -> None:
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        self.http = httpx.AsyncClient(base_url=base, limits=limits, timeout=20)
        self.leading = ""
        self._stream: object = None

    async def request(self, method: str, url: str, **options: Any) -> httpx.Response:
        response = await self.http.request(method, url, **options)
        stream = response.extensions.get("network_stream")
        if self._stream is None:
            self._stream = stream
        assert stream is self._stream, "the connection to the worker was replaced"
        return response

    async def close(self) -> None:
        await self.http.aclose()


async def pin_workers(base: str, count: int = 2) -> list[Pinned]:
    """A pinned client on each of `count` workers (new connections until each is reached)."""
    found: dict[str, Pinned] = {}
    for _attempt in range(200):
        pinned = Pinned(base)
        pinned.leading = json.dumps(
            sorted((await pinned.request("GET", "/healthz")).json()["leading"])
        )
        if pinned.leading in found:
            await pinned.close()
            await asyncio.sleep(0.02)
            continue
        found[pinned.leading] = pinned
        if len(found) == count:
            return list(found.values())
    for pinned in found.values():
        await pinned.close()
    raise AssertionError(f"reached {len(found)} of {count} workers")


def _led(seen: set[str]) -> bool:
    """Whether the workers seen lead every projection between them."""
    led = {name for leading in seen for name in json.loads(leading)}
    return led == set(PROJECTION_NAMES)


__all__ = ["Pinned", "pin_workers", "serve_workers"]
