"""OpenTelemetry traces through a real server (uvicorn over real HTTP and WebSocket): a
createOrder sent with a W3C `traceparent` is one trace holding the HTTP request, the GraphQL
operation, the command, its batch, the projections' applies and the push to a subscriber, each
with the parent and links it should have. The SDK's in-memory exporter collects the spans."""

from __future__ import annotations

import asyncio
import json
import time
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from websockets.asyncio.client import connect

from graph.observe.tracing import Tracing
from tests.support.graph import (
    CREATE_ORDER,
    GRAPHQL_TRANSPORT_WS,
    order_input,
    uvicorn_server,
    ws_init,
    ws_next,
)

if TYPE_CHECKING:
    from collections.abc import Callable

CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
SUBSCRIBER_TRACE = "0af7651916cd43dd8448eb211c80319c"
WATCH = """subscription Watch($after: Position) {
  ordersChanged(afterPosition: $after) { id status position } }"""


def _traceparent(trace_id: str, span_id: str = CALLER_SPAN) -> str:
    return f"00-{trace_id}-{span_id}-01"


def _memory_tracing() -> tuple[Tracing, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return Tracing(provider), exporter


def _wait_for(
    exporter: InMemorySpanExporter, done: Callable[[list[ReadableSpan]], bool]
) -> list[ReadableSpan]:
    """The finished spans once `done` holds for them (spans end just after their answers)."""
    deadline = time.monotonic() + 10
    while True:
        spans = list(exporter.get_finished_spans())
        if done(spans) or time.monotonic() > deadline:
            return spans
        time.sleep(0.01)


def _one(spans: list[ReadableSpan], name: str) -> ReadableSpan:
    found = [span for span in spans if span.name == name]
    assert len(found) == 1, [span.name for span in spans]
    return found[0]


def _parent_id(span: ReadableSpan) -> int | None:
    return None if span.parent is None else span.parent.span_id


def _linked(span: ReadableSpan) -> set[int]:
    return {link.context.span_id for link in span.links}


async def _create_and_watch(address: str) -> dict[str, Any]:
    """Subscribe (continuing the subscriber's trace), create an order with the caller's
    traceparent, and wait for the push; the createOrder result."""
    headers = {"traceparent": _traceparent(SUBSCRIBER_TRACE)}
    async with (
        connect(
            f"ws://{address}/graphql",
            subprotocols=[GRAPHQL_TRANSPORT_WS],
            additional_headers=headers,
        ) as ws,
        httpx.AsyncClient(base_url=f"http://{address}") as http,
    ):
        await ws_init(ws)
        frame = {"query": WATCH, "operationName": "Watch", "variables": {"after": 0}}
        await ws.send(json.dumps({"id": "w", "type": "subscribe", "payload": frame}))
        response = await http.post(
            "/graphql",
            json={"query": CREATE_ORDER, "variables": {"input": order_input()}},
            headers={"traceparent": _traceparent(CALLER_TRACE)},
        )
        assert response.status_code == 200, response.text
        created: dict[str, Any] = response.json()["data"]["createOrder"]
        pushed = await ws_next(ws)
        assert pushed["payload"]["data"]["ordersChanged"]["id"] == created["orderId"]
        await ws.send(json.dumps({"id": "w", "type": "complete"}))
        return created


def test_a_create_order_is_one_trace_from_the_request_to_the_subscribers_push(
    sqlite_url: str,
) -> None:
    tracing, exporter = _memory_tracing()
    with uvicorn_server(sqlite_url, tracing=tracing) as address:
        created = asyncio.run(_create_and_watch(address))
        spans = _wait_for(
            exporter,
            lambda done: (
                {"POST /graphql", "push Watch", "subscription Watch"}
                <= {span.name for span in done}
            ),
        )
    caller = int(CALLER_TRACE, 16)
    trace = [span for span in spans if span.context.trace_id == caller]

    request = _one(trace, "POST /graphql")
    assert request.kind is SpanKind.SERVER
    assert _parent_id(request) == int(CALLER_SPAN, 16)
    assert request.parent is not None
    assert request.parent.is_remote
    attributes = request.attributes or {}
    assert attributes["http.request.method"] == "POST"
    assert attributes["http.route"] == "/graphql"
    assert attributes["http.response.status_code"] == 200
    assert attributes["url.path"] == "/graphql"

    operation = _one(trace, "mutation Create")
    assert _parent_id(operation) == request.context.span_id
    attributes = operation.attributes or {}
    assert attributes["graphql.operation.type"] == "mutation"
    assert attributes["graphql.operation.name"] == "Create"
    assert "createOrder(input: $input)" in str(attributes["graphql.document"])
    assert "error.type" not in attributes

    command = _one(trace, "command CreateOrder")
    assert _parent_id(command) == operation.context.span_id
    batch = _one(trace, "commit")
    assert _parent_id(batch) == command.context.span_id
    assert command.context.span_id in _linked(batch)
    assert batch.context.span_id in _linked(command)

    applied = _one(trace, "project")  # the views a batch goes to are applied together
    assert _parent_id(applied) == batch.context.span_id
    projections = (applied.attributes or {})["ordergraph.projections"]
    assert isinstance(projections, tuple)
    assert "order_views" in projections

    push = _one(trace, "push Watch")
    assert _parent_id(push) == applied.context.span_id
    assert (push.attributes or {})["ordergraph.position"] == created["position"]
    subscription = _one(spans, "subscription Watch")
    assert subscription.context.trace_id == int(SUBSCRIBER_TRACE, 16)  # its upgrade's trace
    assert subscription.context.span_id in _linked(push)
    assert (subscription.attributes or {})["graphql.operation.type"] == "subscription"

    # In time: the request holds the operation, which holds the command, which holds its batch.
    for outer, inner in ((request, operation), (operation, command), (command, batch)):
        assert (outer.start_time or 0) <= (inner.start_time or -1)
        assert (inner.end_time or 0) <= (outer.end_time or -1)


def test_a_refused_operation_and_a_refused_command_say_why_in_their_spans(
    sqlite_url: str,
) -> None:
    tracing, exporter = _memory_tracing()
    bad_input = order_input(items=[{"sku": "SKU-1", "quantity": 0, "unitPrice": "1.00"}])

    async def send() -> None:
        async with httpx.AsyncClient(base_url=f"http://{address}") as http:
            unparsable = await http.post("/graphql", json={"query": "{ order("})
            assert unparsable.status_code == 200
            refused = await http.post(
                "/graphql", json={"query": CREATE_ORDER, "variables": {"input": bad_input}}
            )
            assert refused.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"

    with uvicorn_server(sqlite_url, tracing=tracing) as address:
        asyncio.run(send())
        spans = _wait_for(exporter, lambda done: len(_named(done, "POST /graphql")) == 2)
    unknown = _one(spans, "GraphQL Operation")
    assert (unknown.attributes or {})["error.type"] == "BAD_USER_INPUT"
    assert "graphql.operation.type" not in (unknown.attributes or {})
    mutation = _one(spans, "mutation Create")
    assert (mutation.attributes or {})["error.type"] == "BAD_USER_INPUT"
    assert mutation.status.status_code is StatusCode.UNSET  # the caller's error, not ours
    command = _one(spans, "command CreateOrder")
    assert (command.attributes or {})["error.type"] == "BAD_USER_INPUT"
    assert not [span for span in spans if span.name == "commit"]  # refused before the batch


def _named(spans: list[ReadableSpan], name: str) -> list[ReadableSpan]:
    return [span for span in spans if span.name == name]


def test_a_trace_the_caller_sampled_out_records_nothing_down_to_the_push(
    sqlite_url: str,
) -> None:
    tracing, exporter = _memory_tracing()  # the SDK's default sampler: parent-based

    async def send(address: str) -> None:
        async with httpx.AsyncClient(base_url=f"http://{address}") as http:
            for flags in ("00", "01"):  # sampled out, then sampled
                response = await http.post(
                    "/graphql",
                    json={"query": CREATE_ORDER, "variables": {"input": order_input()}},
                    headers={"traceparent": f"00-{CALLER_TRACE}-{CALLER_SPAN}-{flags}"},
                )
                assert response.status_code == 200
                assert "errors" not in response.json()

    with uvicorn_server(sqlite_url, tracing=tracing) as address:
        asyncio.run(send(address))
        spans = _wait_for(exporter, lambda done: bool(_named(done, "POST /graphql")))
    assert len(_named(spans, "POST /graphql")) == 1  # the sampled one
    for name in ("mutation Create", "command CreateOrder", "commit", "project"):
        assert len(_named(spans, name)) == 1, name


async def _create_and_watch_over_sse(address: str) -> dict[str, Any]:
    """As `_create_and_watch`, the subscriber on graphql-sse (an HTTP stream)."""
    async with httpx.AsyncClient(base_url=f"http://{address}", timeout=10) as http:
        body = {"query": WATCH, "operationName": "Watch", "variables": {"after": 0}}
        async with http.stream(
            "POST", "/graphql", json=body, headers={"accept": "text/event-stream"}
        ) as stream:
            assert stream.status_code == 200
            response = await http.post(
                "/graphql",
                json={"query": CREATE_ORDER, "variables": {"input": order_input()}},
                headers={"traceparent": _traceparent(CALLER_TRACE)},
            )
            created: dict[str, Any] = response.json()["data"]["createOrder"]
            async for line in stream.aiter_lines():
                if line.startswith("data:") and created["orderId"] in line:
                    return created
    raise AssertionError("the stream ended without the order")


def test_a_push_to_an_http_stream_is_in_the_writes_trace(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    tracing, exporter = _memory_tracing()
    with uvicorn_server(sqlite_url, tracing=tracing) as address:
        created = asyncio.run(_create_and_watch_over_sse(address))
        spans = _wait_for(
            exporter, lambda done: {"push Watch", "subscription Watch"} <= {s.name for s in done}
        )
    push = _one(spans, "push Watch")
    applied = _one([s for s in spans if s.context.trace_id == int(CALLER_TRACE, 16)], "project")
    assert _parent_id(push) == applied.context.span_id
    assert (push.attributes or {})["ordergraph.position"] == created["position"]
    subscription = _one(spans, "subscription Watch")
    assert (subscription.attributes or {})["ordergraph.transport"] == "sse"
    assert subscription.context.span_id in _linked(push)
    assert not [r for r in caplog.records if r.name.startswith("opentelemetry")]
