"""Metrics at /metrics, one log line per request and per projection batch, and the correlation
id flowing from X-Request-ID into the events' metadata and the log lines."""

from __future__ import annotations

import json
import logging
import re

import pytest

from graph.http.request_log import JsonFormatter, logging_config
from readmodels.registry import PROJECTION_NAMES
from tests.support.graph import CREATE_ORDER, app_client, order_input
from tests.support.readmodels import running_service


def sample(metrics: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus' text format."""
    wanted = ",".join(f'{key}="{value}"' for key, value in sorted(labels.items()))
    pattern = rf"^{re.escape(name)}{re.escape('{' + wanted + '}') if labels else ''} (\S+)$"
    match = re.search(pattern, metrics, re.MULTILINE)
    assert match is not None, f"{name} {labels} not in /metrics"
    return float(match.group(1))


async def test_metrics_count_commands_waits_and_projection_state(sqlite_url: str) -> None:
    async with app_client(sqlite_url) as client:
        created = await client.create_order()
        await client.create_order()
        refused = await client.post(CREATE_ORDER, {"input": order_input(items=[])})
        assert refused["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        await client.data(
            'query($p: Position) { order(id: "x", minPosition: $p, timeoutMs: 0) { id } }',
            {"p": created["position"] + 100},
        )
        await client.data(
            """query($p: Position) { customer(id: "cust-1", minPosition: $p) { orderCount }
              salesReport(fromDate: "2020-01-01", toDate: "2020-12-31", minPosition: $p) {
                date } }""",
            {"p": created["position"] + 1},
        )
        text = (await client.http.get("/metrics")).text

    assert sample(text, "ordergraph_commands_total", type="CreateOrder", outcome="ok") == 2
    assert (
        sample(text, "ordergraph_commands_total", type="CreateOrder", outcome="BAD_USER_INPUT") == 1
    )
    assert sample(text, "ordergraph_command_seconds_count", type="CreateOrder") == 2
    assert sample(text, "ordergraph_events_appended_total") == 2
    assert sample(text, "ordergraph_head_position") == 2
    assert sample(text, "ordergraph_freshness_waits_total", outcome="stale") == 1
    assert sample(text, "ordergraph_freshness_waits_total", outcome="fresh") >= 2
    for name in PROJECTION_NAMES:
        assert sample(text, "ordergraph_projection_position", projection=name) == 2
        assert sample(text, "ordergraph_projection_lag", projection=name) == 0
        assert sample(text, "ordergraph_projection_state", projection=name, state="RUNNING") == 1
        assert sample(text, "ordergraph_projection_state", projection=name, state="FAILED") == 0
        assert sample(text, "ordergraph_projection_leader", projection=name) == 1
        assert sample(text, "ordergraph_commit_to_view_seconds_count", projection=name) >= 1
    assert sample(text, "ordergraph_subscriptions_open") == 0


async def test_the_correlation_id_flows_from_the_request_to_events_and_logs(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with app_client(sqlite_url) as client:
        response = await client.http.post(
            "/graphql",
            json={"query": CREATE_ORDER, "variables": {"input": order_input()}},
            headers={"X-Request-ID": "trace-42"},
        )
        assert response.headers["x-request-id"] == "trace-42"
        order_id = response.json()["data"]["createOrder"]["orderId"]
        generated = await client.http.get("/healthz")
        assert len(generated.headers["x-request-id"]) == 32

    requests = [r for r in caplog.records if r.name == "ordergraph.requests"]
    line = next(r for r in requests if getattr(r, "correlation_id", None) == "trace-42")
    assert re.fullmatch(r"POST /graphql 200 [0-9.]+ ms \(correlation trace-42\)", line.getMessage())
    batches = [r.getMessage() for r in caplog.records if r.name == "readmodels.runner.runner"]
    assert any("trace-42" in message for message in batches)

    async with running_service(sqlite_url) as service:
        (event,) = await service.store.read_stream(order_id)
        assert event.metadata.correlation_id == "trace-42"


def test_json_logs_are_one_object_per_line_with_extras() -> None:
    assert logging_config("json")["formatters"]["default"] == {"()": JsonFormatter}
    record = logging.makeLogRecord(
        {"name": "ordergraph.requests", "levelname": "INFO", "msg": "GET / %d", "args": (200,)}
    )
    record.correlation_id = "abc"
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "GET / 200"
    assert entry["correlation_id"] == "abc"
    assert entry["level"] == "INFO"
    assert entry["time"].endswith("+00:00")
    with pytest.raises(ValueError, match="log format"):
        logging_config("xml")
