"""Traces cost nothing when they are off: without the `otel` extra installed (every
`opentelemetry` import refused in a child process) the service serves as ever and imports
nothing of OpenTelemetry, also when `OTEL_TRACES_EXPORTER` asks for traces (a warning says why
there are none); and when the extra is installed but no exporter is named, nothing is traced."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import TYPE_CHECKING

from graph.observe.trace_config import EXTRA_HINT, tracing_from_env
from tests.support.commands import REPO, clean_env

if TYPE_CHECKING:
    import pytest


def _serve_without_otel(sqlite_url: str, **env: str) -> subprocess.CompletedProcess[str]:
    inherited = {k: v for k, v in clean_env().items() if not k.startswith("OTEL_")}
    return subprocess.run(
        [sys.executable, "-m", "tests.support.without_otel", sqlite_url],
        cwd=REPO,
        env={**inherited, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_service_runs_without_opentelemetry_and_imports_none_of_it(sqlite_url: str) -> None:
    child = _serve_without_otel(sqlite_url)
    assert child.returncode == 0, child.stderr
    answer = json.loads(child.stdout)
    assert answer["read"] == answer["created"]
    assert answer["loaded"] == []
    assert "OpenTelemetry" not in child.stderr


def test_traces_asked_for_without_the_extra_are_off_with_one_warning(sqlite_url: str) -> None:
    child = _serve_without_otel(sqlite_url, OTEL_TRACES_EXPORTER="console")
    assert child.returncode == 0, child.stderr
    answer = json.loads(child.stdout)
    assert answer["read"] == answer["created"]
    assert answer["loaded"] == []
    warnings = [line for line in child.stderr.splitlines() if "OpenTelemetry" in line]
    assert len(warnings) == 1, child.stderr
    assert "OTEL_TRACES_EXPORTER=console" in warnings[0]
    assert EXTRA_HINT in warnings[0]


def test_no_exporter_named_no_traces(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OTEL_TRACES_EXPORTER", "OTEL_SDK_DISABLED"):
        monkeypatch.delenv(name, raising=False)
    assert tracing_from_env() is None
    assert tracing_from_env({"OTEL_TRACES_EXPORTER": "none"}) is None
    assert (
        tracing_from_env({"OTEL_TRACES_EXPORTER": "console", "OTEL_SDK_DISABLED": "true"}) is None
    )
