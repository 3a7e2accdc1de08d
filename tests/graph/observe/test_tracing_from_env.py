"""Traces configured by the standard `OTEL_*` variables alone, through the SDK's own
configuration: `OTEL_TRACES_EXPORTER=console` prints the spans (README's example), the service
name is `OTEL_SERVICE_NAME` (ordergraph when unset), and an exporter no installed package
provides is one line naming the variable, under `ordergraph serve` and the uvicorn factory."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from graph.app import create_app
from graph.settings import Settings, SettingsError
from tests.support.commands import (
    FACTORY,
    UVICORN,
    error_line,
    free_port,
    process,
    run,
    wait_healthy,
)

if TYPE_CHECKING:
    from pathlib import Path

TYPENAME = "query Ping { __typename }"


def _spans(printed: str) -> list[dict[str, Any]]:
    """The spans the console exporter printed (each a JSON object from a line "{" on), among
    the service's log lines."""
    decoder = json.JSONDecoder()
    spans = []
    for start in (match.start() for match in re.finditer(r"^\{$", printed, re.MULTILINE)):
        span, _end = decoder.raw_decode(printed, start)
        spans.append(span)
    return spans


@pytest.mark.parametrize(
    ("service_name", "expected"), [(None, "ordergraph"), ("orders-eu", "orders-eu")]
)
def test_the_console_exporter_prints_each_request_as_spans(
    tmp_path: Path, service_name: str | None, expected: str
) -> None:
    port = free_port()
    names = {} if service_name is None else {"OTEL_SERVICE_NAME": service_name}
    args = [str(UVICORN.with_name("ordergraph")), "serve", "--port", str(port)]
    with process(args, tmp_path, OTEL_TRACES_EXPORTER="console", **names) as child:
        base = f"http://127.0.0.1:{port}"
        wait_healthy(base, child)
        answer = httpx.post(f"{base}/graphql", json={"query": TYPENAME}, timeout=10)
        assert answer.json() == {"data": {"__typename": "Query"}}
        child.terminate()  # a clean stop exports what the batch processor still holds
        printed, _ = child.communicate(timeout=30)
    spans = _spans(printed)
    by_name = {span["name"]: span for span in spans}
    assert {"POST /graphql", "query Ping", "GET /healthz"} <= set(by_name), printed
    operation = by_name["query Ping"]
    assert operation["attributes"]["graphql.operation.name"] == "Ping"
    assert operation["parent_id"] == by_name["POST /graphql"]["context"]["span_id"]
    assert {span["resource"]["attributes"]["service.name"] for span in spans} == {expected}


def test_an_exporter_nothing_provides_is_a_settings_error(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "console,nonesuch")
    with pytest.raises(SettingsError, match=r"^OTEL_TRACES_EXPORTER: .*'nonesuch'"):
        create_app(Settings(database_url=sqlite_url))


def test_an_exporter_nothing_provides_is_one_line_under_serve_and_the_factory(
    tmp_path: Path,
) -> None:
    port = str(free_port())
    serve = run(
        [str(UVICORN.with_name("ordergraph")), "serve", "--port", port],
        tmp_path,
        OTEL_TRACES_EXPORTER="nonesuch",
    )
    factory = run(
        [str(UVICORN), FACTORY, "--factory", "--port", port],
        tmp_path,
        OTEL_TRACES_EXPORTER="nonesuch",
    )
    for result in (serve, factory):
        line = error_line(result)
        assert re.search(r"OTEL_TRACES_EXPORTER: .*'nonesuch'", line), line
