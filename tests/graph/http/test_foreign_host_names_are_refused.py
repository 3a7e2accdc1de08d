"""DNS rebinding: in development mode (every caller an admin) only requests for a loopback host
name are served, on HTTP and WebSocket; in production ORDERGRAPH_ALLOWED_HOSTS lists the names
the service answers to."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from graph.api.identity import Role
from graph.http.auth import TokenAuthority
from graph.settings import Settings, SettingsError
from tests.support.graph import GRAPHQL_TRANSPORT_WS, uvicorn_server, ws_init

SECRET = "a-test-signing-secret-of-32-bytes!!"
ADMIN = {"Authorization": f"Bearer {TokenAuthority(SECRET).mint('ann', Role.ADMIN)}"}
REBUILD = {"query": 'mutation { rebuildProjection(name: "daily_sales") { name } }'}
STATUS = {"query": "{ projections { name } }"}


def _port(address: str) -> str:
    return address.rsplit(":", 1)[1]


async def _post(address: str, host: str, body: dict[str, str], **headers: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=f"http://{address}") as http:
        return await http.post("/graphql", json=body, headers={"Host": host, **headers})


async def _websocket_refused(address: str, host: str, init: dict[str, str] | None = None) -> bool:
    """Whether a WebSocket that names `host` is refused (before or at connection_init)."""
    ip, port = address.rsplit(":", 1)
    try:
        async with connect(
            f"ws://{host}/graphql",
            subprotocols=[GRAPHQL_TRANSPORT_WS],
            host=ip,
            port=int(port),
            open_timeout=10,
        ) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": init or {}}))
            message = json.loads(await asyncio.wait_for(ws.recv(), 10))
            return bool(message["type"] != "connection_ack")
    except InvalidStatus as refused:
        return 400 <= refused.response.status_code < 500
    except ConnectionClosed as closed:
        return closed.rcvd is not None and closed.rcvd.code == 4403


@pytest.mark.parametrize("name", ["attacker.example", "127.0.0.1.nip.io", "localhost.example"])
async def test_development_mode_refuses_a_foreign_host_name(sqlite_url: str, name: str) -> None:
    with uvicorn_server(sqlite_url) as address:
        host = f"{name}:{_port(address)}"
        refused = await _post(address, host, REBUILD)
        assert refused.status_code == 403
        assert refused.json()["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert await _websocket_refused(address, host)


@pytest.mark.parametrize("name", ["localhost", "127.0.0.1", "[::1]", "LOCALHOST"])
async def test_development_mode_serves_loopback_host_names(sqlite_url: str, name: str) -> None:
    with uvicorn_server(sqlite_url) as address:
        for host in (name, f"{name}:{_port(address)}"):
            answer = await _post(address, host, STATUS)
            assert answer.status_code == 200, (host, answer.text)
            assert "errors" not in answer.json()
        ip, port = address.rsplit(":", 1)
        async with connect(
            f"ws://{name}:{port}/graphql",
            subprotocols=[GRAPHQL_TRANSPORT_WS],
            host=ip,
            port=int(port),
        ) as ws:
            await ws_init(ws)


async def test_production_answers_only_the_allowed_host_names(sqlite_url: str) -> None:
    with uvicorn_server(
        sqlite_url,
        auth_secret=SECRET,
        production=True,
        allowed_hosts=("api.example.com", "*.orders.example.com"),
    ) as address:
        for host in ("api.example.com", "eu.orders.example.com:443"):
            answer = await _post(address, host, STATUS, **ADMIN)
            assert answer.status_code == 200, (host, answer.text)
            assert not await _websocket_refused(address, host, ADMIN)
        for host in ("attacker.example", "127.0.0.1", "api.example.com.attacker.example"):
            assert (await _post(address, host, STATUS, **ADMIN)).status_code == 400, host
            assert await _websocket_refused(address, host, ADMIN), host


def test_allowed_hosts_are_read_from_the_environment() -> None:
    settings = Settings.from_env({"ORDERGRAPH_ALLOWED_HOSTS": " API.example.com, *.example.org "})
    assert settings.allowed_hosts == ("api.example.com", "*.example.org")
    with pytest.raises(SettingsError, match="ALLOWED_HOSTS"):
        Settings(allowed_hosts=("api.*.example.com",))


async def test_a_request_with_two_host_headers_is_refused(sqlite_url: str) -> None:
    """A proxy that routes on the last Host would disagree with a service reading the first."""
    with uvicorn_server(sqlite_url) as address:
        ip, port = address.rsplit(":", 1)
        reader, writer = await asyncio.open_connection(ip, int(port))
        body = b'{"query": "{ __typename }"}'
        writer.write(
            b"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: attacker.example\r\n"
            b"Content-Type: application/json\r\nContent-Length: "
            + str(len(body)).encode()
            + b"\r\nConnection: close\r\n\r\n"
            + body
        )
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), 10)
        writer.close()
    head, _, payload = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400"), head
    assert json.loads(payload)["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
