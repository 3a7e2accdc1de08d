"""Load generators: wrk pinned to its own core, or a small asyncio keep-alive client."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import statistics
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

LUA_SCRIPT = Path(__file__).parent / "lua" / "request.lua"
LOAD_CORE = "0"


@dataclass(frozen=True, kw_only=True, slots=True)
class Request:
    """One request shape, repeated by every connection of a leg."""

    path: str
    body: str
    method: str = "POST"
    token: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class LegResult:
    """What one leg of load measured."""

    rate: float
    p50_ms: float
    p99_ms: float
    requests: int
    bad: int


def wrk_version() -> str | None:
    """wrk's version line, or None when wrk is not installed."""
    if shutil.which("wrk") is None:
        return None
    out = subprocess.run(["wrk", "--version"], capture_output=True, text=True, check=False)
    return (out.stdout or out.stderr).splitlines()[0].strip()


def generator_name() -> str:
    """The load generator this run uses."""
    version = wrk_version()
    return f"{version} (1 thread, taskset -c {LOAD_CORE})" if version else "asyncio fallback"


def run_leg(
    base_url: str, request: Request, seconds: float, connections: int, delay_ms: int = 0
) -> LegResult:
    """Run one leg of load against `base_url` with wrk, or the fallback when wrk is missing."""
    if wrk_version() is None:
        return asyncio.run(_fallback(base_url, request, seconds, connections, delay_ms))
    env = dict(os.environ)
    env.update(
        BENCH_METHOD=request.method,
        BENCH_PATH=request.path,
        BENCH_BODY=request.body,
        BENCH_TOKEN=request.token or "",
        BENCH_DELAY_MS=str(delay_ms),
    )
    command = ["taskset", "-c", LOAD_CORE, "wrk", "-t1", f"-c{connections}"]
    command += [f"-d{max(1, round(seconds))}s", "--timeout", "10s", "-s", str(LUA_SCRIPT)]
    out = subprocess.run(
        [*command, base_url], capture_output=True, text=True, env=env, check=False, timeout=120
    )
    for line in out.stdout.splitlines():
        if line.startswith("BENCHJSON "):
            data = json.loads(line.removeprefix("BENCHJSON "))
            duration = max(data["duration_us"], 1) / 1e6
            return LegResult(
                rate=data["requests"] / duration,
                p50_ms=data["p50_us"] / 1000,
                p99_ms=data["p99_us"] / 1000,
                requests=data["requests"],
                bad=data["bad_responses"] + data["socket_errors"],
            )
    raise RuntimeError(f"wrk printed no result: {out.stdout} {out.stderr}")


async def _fallback(
    base_url: str, request: Request, seconds: float, connections: int, delay_ms: int
) -> LegResult:
    host, _, port = base_url.removeprefix("http://").rstrip("/").partition(":")
    body = request.body.encode()
    head = (
        f"{request.method} {request.path} HTTP/1.1\r\nHost: {host}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    )
    if request.token:
        head += f"Authorization: Bearer {request.token}\r\n"
    raw = (head + "\r\n").encode() + body
    latencies: list[float] = []
    bad = 0
    deadline = time.monotonic() + seconds

    async def connection() -> None:
        nonlocal bad
        reader, writer = await asyncio.open_connection(host, int(port or 80))
        try:
            while time.monotonic() < deadline:
                started = time.monotonic()
                writer.write(raw)
                status_line = await reader.readline()
                length = 0
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.decode("latin-1").partition(":")
                    if name.lower() == "content-length":
                        length = int(value)
                payload = await reader.readexactly(length)
                latencies.append(time.monotonic() - started)
                if b" 200 " not in status_line or b'"errors"' in payload:
                    bad += 1
                if delay_ms:
                    await asyncio.sleep(delay_ms / 1000)
        finally:
            writer.close()

    started = time.monotonic()
    await asyncio.gather(*(connection() for _ in range(connections)))
    elapsed = time.monotonic() - started
    if not latencies:
        return LegResult(rate=0.0, p50_ms=0.0, p99_ms=0.0, requests=0, bad=bad)
    cuts = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else latencies * 99
    return LegResult(
        rate=len(latencies) / elapsed,
        p50_ms=cuts[49] * 1000,
        p99_ms=cuts[98] * 1000,
        requests=len(latencies),
        bad=bad,
    )


__all__ = ["LegResult", "Request", "generator_name", "run_leg", "wrk_version"]
