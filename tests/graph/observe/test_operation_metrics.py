"""Per-operation metrics, read from GET /metrics over real HTTP: every operation, over HTTP, an
HTTP stream (graphql-sse) and graphql-transport-ws, counted by transport, type, bounded name and
outcome, and timed; prometheus_client's process, platform and GC collectors in the app's own
registry."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

import httpx
from prometheus_client.parser import text_string_to_metric_families
from websockets.asyncio.client import connect

from tests.support.graph import (
    CREATE_ORDER,
    GRAPHQL_TRANSPORT_WS,
    order_input,
    uvicorn_server,
    ws_init,
    ws_next,
)

if TYPE_CHECKING:
    from prometheus_client.samples import Sample

PING = "query Ping { __typename }"
WATCH = "subscription Watch { ordersChanged { id } }"


def _samples(exposition: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """The samples called `name`, by their labels (sorted), with their values."""
    found: dict[tuple[tuple[str, str], ...], float] = {}
    for family in text_string_to_metric_families(exposition):
        sample: Sample
        for sample in family.samples:
            if sample.name == name:
                found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def _labels(**labels: str) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(labels.items()))


async def _traffic(address: str) -> str:
    """Operations of every kind, then the /metrics exposition."""
    async with httpx.AsyncClient(base_url=f"http://{address}") as http:

        async def post(body: dict[str, Any]) -> httpx.Response:
            return await http.post("/graphql", json=body)

        assert (await post({"query": PING})).status_code == 200
        assert (await post({"query": "{ __typename }"})).status_code == 200
        assert (await post({"query": "{ order("})).status_code == 200  # a syntax error
        bad = order_input(items=[{"sku": "SKU-1", "quantity": 0, "unitPrice": "1.00"}])
        await post({"query": CREATE_ORDER, "variables": {"input": bad}})
        mutation_over_get = await http.get(
            "/graphql",
            params={"query": 'mutation { confirmOrder(input: {orderId: "x"}) { version } }'},
        )
        assert mutation_over_get.status_code == 405
        streamed = await http.post(
            "/graphql", json={"query": PING}, headers={"accept": "text/event-stream"}
        )
        assert streamed.headers["content-type"].startswith("text/event-stream")
        assert '"__typename":"Query"' in streamed.text
        async with connect(f"ws://{address}/graphql", subprotocols=[GRAPHQL_TRANSPORT_WS]) as ws:
            await ws_init(ws)
            await ws.send(json.dumps({"id": "q", "type": "subscribe", "payload": {"query": PING}}))
            assert (await ws_next(ws))["type"] == "next"
            assert (await ws_next(ws))["type"] == "complete"
            await ws.send(json.dumps({"id": "w", "type": "subscribe", "payload": {"query": WATCH}}))
            await post({"query": CREATE_ORDER, "variables": {"input": order_input()}})
            assert (await ws_next(ws))["type"] == "next"
            await ws.send(json.dumps({"id": "w", "type": "complete"}))
        metrics = await http.get("/metrics")
        assert metrics.status_code == 200
        return metrics.text


def test_every_operation_is_counted_and_timed_by_transport_type_name_and_outcome(
    sqlite_url: str,
) -> None:
    with uvicorn_server(sqlite_url) as address:
        exposition = asyncio.run(_traffic(address))
    counted = _samples(exposition, "ordergraph_operations_total")
    expected = {
        _labels(transport="http", type="query", name="Ping", outcome="ok"): 1.0,
        _labels(transport="http", type="query", name="(unnamed)", outcome="ok"): 1.0,
        _labels(transport="http", type="unknown", name="(unknown)", outcome="BAD_USER_INPUT"): 1.0,
        _labels(transport="http", type="mutation", name="Create", outcome="BAD_USER_INPUT"): 1.0,
        _labels(transport="http", type="mutation", name="Create", outcome="ok"): 1.0,
        _labels(
            transport="http", type="mutation", name="(unnamed)", outcome="METHOD_NOT_ALLOWED"
        ): 1.0,
        _labels(transport="sse", type="query", name="Ping", outcome="ok"): 1.0,
        _labels(transport="ws", type="query", name="Ping", outcome="ok"): 1.0,
        _labels(transport="ws", type="subscription", name="Watch", outcome="ok"): 1.0,
    }
    assert counted == expected
    timed = _samples(exposition, "ordergraph_operation_seconds_count")
    assert timed[_labels(transport="http", type="query", name="Ping")] == 1.0
    assert timed[_labels(transport="ws", type="subscription", name="Watch")] == 1.0
    buckets = _samples(exposition, "ordergraph_operation_seconds_bucket")
    assert buckets[_labels(transport="http", type="query", name="Ping", le="+Inf")] == 1.0
    assert (
        _samples(exposition, "ordergraph_operation_seconds_sum")[
            _labels(transport="http", type="mutation", name="Create")
        ]
        > 0
    )
    for collected in ("process_cpu_seconds_total", "python_info", "python_gc_collections_total"):
        assert _samples(exposition, collected), collected


def test_names_past_the_bound_share_the_overflow_bucket(sqlite_url: str) -> None:
    async def send(address: str) -> str:
        async with httpx.AsyncClient(base_url=f"http://{address}") as http:
            for name in ("First", "Second", "Third", "First"):
                response = await http.post(
                    "/graphql", json={"query": f"query {name} {{ __typename }}"}
                )
                assert response.status_code == 200
            return (await http.get("/metrics")).text

    with uvicorn_server(sqlite_url, metrics_operation_names=2) as address:
        exposition = asyncio.run(send(address))
    counted = _samples(exposition, "ordergraph_operations_total")
    assert counted == {
        _labels(transport="http", type="query", name="First", outcome="ok"): 2.0,
        _labels(transport="http", type="query", name="Second", outcome="ok"): 1.0,
        _labels(transport="http", type="query", name="(overflow)", outcome="ok"): 1.0,
    }
