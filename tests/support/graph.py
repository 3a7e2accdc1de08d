"""Graph test helpers: the app in-process or under a real uvicorn, and GraphQL calls."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from contextlib import asynccontextmanager, contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal

import httpx
import uvicorn
from websockets.typing import Subprotocol

from graph.app import create_app
from graph.settings import Settings

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator, Sequence

    from websockets.asyncio.client import ClientConnection

    from graph.observe.tracing import Tracing
    from readmodels.projections.base import Projection

GRAPHQL_TRANSPORT_WS = Subprotocol("graphql-transport-ws")

CREATE_ORDER = """
mutation Create($input: CreateOrderInput!) {
  createOrder(input: $input) {
    commandId orderId version position
    order { id customerId status itemCount totalAmount version position createdAt
            items { sku quantity unitPrice lineTotal } }
  }
}
"""

HEAD = "{ projections { name position headPosition } }"


def order_input(customer_id: str = "cust-1", **overrides: Any) -> dict[str, Any]:
    """A valid CreateOrderInput with one line; keys given in `overrides` replace the defaults."""
    value: dict[str, Any] = {
        "customerId": customer_id,
        "items": [{"sku": "SKU-1", "quantity": 2, "unitPrice": "19.99"}],
        "shippingAddress": {
            "name": "Ada Lovelace",
            "line1": "1 Analytical Way",
            "city": "London",
            "postalCode": "N1 9GU",
            "country": "GB",
        },
    }
    value.update(overrides)
    return value


class Client:
    """A GraphQL client over an httpx client."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def post(
        self, query: str, variables: dict[str, Any] | None = None, **headers: str
    ) -> dict[str, Any]:
        """The JSON answer of one POST /graphql (which must be a 200)."""
        body: dict[str, Any] = {"query": query}
        if variables is not None:
            body["variables"] = variables
        response = await self.http.post("/graphql", json=body, headers=headers)
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer

    async def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """The `data` of an answer that must have no errors."""
        answer = await self.post(query, variables)
        assert "errors" not in answer, answer
        data: dict[str, Any] = answer["data"]
        return data

    async def create_order(self, **overrides: Any) -> dict[str, Any]:
        data = await self.data(CREATE_ORDER, {"input": order_input(**overrides)})
        result: dict[str, Any] = data["createOrder"]
        return result

    async def head(self) -> int:
        """The event log's head position, as the API reports it."""
        data = await self.data(HEAD)
        return max(int(p["headPosition"]) for p in data["projections"])


async def post_data(address: str, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    """The `data` of one POST /graphql to a real server (`host:port` or a base URL), which must
    answer 200 without errors."""
    base = address if "://" in address else f"http://{address}"
    async with httpx.AsyncClient(base_url=base) as http:
        response = await http.post("/graphql", json={"query": query, "variables": variables})
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    assert "errors" not in answer, answer
    data: dict[str, Any] = answer["data"]
    return data


def error_codes(answer: dict[str, Any]) -> list[str]:
    return [error["extensions"]["code"] for error in answer.get("errors", [])]


@asynccontextmanager
async def app_client(url: str, **overrides: Any) -> AsyncIterator[Client]:
    """The app with its lifespan running, reached in-process through httpx."""
    app = create_app(replace(Settings(database_url=url), **overrides))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            yield Client(http)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def uvicorn_server(
    url: str,
    *,
    projections: Sequence[Projection] | None = None,
    tracing: Tracing | Literal["env"] | None = "env",
    **overrides: Any,
) -> Iterator[str]:
    """A real uvicorn serving the app in a background thread; yields its base URL. `overrides`
    replace settings; `projections` the service's views, `tracing` its traces (by default
    those the OTEL_* variables ask for)."""
    port = _free_port()
    settings = replace(Settings(database_url=url), **overrides)
    config = uvicorn.Config(
        create_app(settings, projections=projections, tracing=tracing),
        host="127.0.0.1",
        port=port,
        loop="asyncio",
        lifespan="on",
        log_level="warning",
        ws="websockets-sansio",
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


async def ws_init(ws: ClientConnection, payload: dict[str, Any] | None = None) -> None:
    """The graphql-transport-ws handshake."""
    await ws.send(json.dumps({"type": "connection_init", "payload": payload or {}}))
    ack = json.loads(await asyncio.wait_for(ws.recv(), 5))
    assert ack["type"] == "connection_ack", ack


async def ws_next(ws: ClientConnection, timeout: float = 5) -> dict[str, Any]:
    """The next message other than a ping."""
    while True:
        message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if message["type"] == "ping":
            await ws.send(json.dumps({"type": "pong"}))
            continue
        return message


__all__ = [
    "CREATE_ORDER",
    "GRAPHQL_TRANSPORT_WS",
    "Client",
    "app_client",
    "error_codes",
    "order_input",
    "post_data",
    "uvicorn_server",
    "ws_init",
    "ws_next",
]
