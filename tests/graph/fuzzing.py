"""What the fuzz tests share: a served app with authentication on, orders to work on, the
schema the code builds, and values for its scalars that pass the rules as often as not.

Every request must be answered within 2 s, never with a 5xx; the examples are derandomized,
so a run is reproducible.
"""

from __future__ import annotations

import sqlite3
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

import graphql
import httpx
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis_graphql import nodes

from domain.errors import ErrorCode
from graph.api.identity import Role
from graph.api.schema import build_schema
from graph.http.auth import TokenAuthority
from tests.support.crash import served
from tests.support.graph import CREATE_ORDER, order_input

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

T = TypeVar("T")

SECRET = "fuzz-signing-secret-of-at-least-32-bytes"
AUTHORITY = TokenAuthority(SECRET)
ANSWER_WITHIN_SECONDS = 10.0  # a hang, not a speed: speed is the benchmark's
DOMAIN_CODES = frozenset(str(code) for code in ErrorCode)
# Waits are capped well under the answer deadline: a `minPosition` past the head answers stale.
WAITS = {"ORDERGRAPH_DEFAULT_WAIT_MS": "10", "ORDERGRAPH_MAX_WAIT_MS": "30"}
CUSTOMERS = ("alice", "bob")
ORDERS_PER_CUSTOMER = 15
COMMANDS = (
    "createOrder", "addOrderItem", "removeOrderItem", "changeShippingAddress",
    "confirmOrder", "shipOrder", "cancelOrder",
)  # fmt: skip
CALLERS = st.integers(0, 7).flatmap(
    lambda n: st.sampled_from(("anonymous", "forged") if n == 7 else ("admin", "staff", *CUSTOMERS))
)


def fuzz_settings(max_examples: int) -> settings:
    """Reproducible (derandomized, no example database), no deadline, no slow-data checks."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        phases=(Phase.generate, Phase.shrink),
        suppress_health_check=(
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.large_base_example,
        ),
    )


@cache
def schema_sdl() -> str:
    """The SDL of the schema the code builds (not the checked-in file)."""
    return build_schema().as_str()


@dataclass(kw_only=True)
class Target:
    """A served app, its event log read straight from the database file, and what was sent."""

    http: httpx.Client
    log: sqlite3.Connection
    headers: dict[str, dict[str, str]]
    known_ids: tuple[str, ...]
    sent: dict[str, int] = field(default_factory=dict)

    def head(self) -> int:
        """The event log's head position, read from the database itself."""
        row = self.log.execute("SELECT COALESCE(MAX(position), 0) FROM event").fetchone()
        return int(row[0])

    def send(self, kind: str, request: httpx.Request) -> tuple[httpx.Response, int]:
        """Send one request; the answer and how far the log's head moved meanwhile."""
        before = self.head()
        started = time.monotonic()
        response = self.http.send(request)
        elapsed = time.monotonic() - started
        moved = self.head() - before
        self.sent[kind] = self.sent.get(kind, 0) + 1
        assert response.status_code < 500, (response.status_code, response.text)
        assert elapsed < ANSWER_WITHIN_SECONDS, (elapsed, request.content[:500])
        return response, moved

    def post(self, body: dict[str, Any], caller: str) -> httpx.Request:
        return self.http.build_request("POST", "/graphql", json=body, headers=self.headers[caller])


@contextmanager
def fuzz_target(tmp_path: Path) -> Iterator[Target]:
    """`ordergraph serve` with authentication on, and orders for each customer to work on."""
    path = tmp_path / "fuzz.db"
    env = {"ORDERGRAPH_AUTH_SECRET": SECRET, **WAITS}
    with served(f"sqlite+aiosqlite:///{path}", tmp_path / "server.log", env) as server:
        admin = {"Authorization": f"Bearer {AUTHORITY.mint('ann', Role.ADMIN)}"}
        forged = TokenAuthority("another-secret-that-is-32-bytes-long").mint("ann", Role.ADMIN)
        headers = {
            "admin": admin,
            "staff": {"Authorization": f"Bearer {AUTHORITY.mint('sam', Role.STAFF)}"},
            "anonymous": {},
            "forged": {"Authorization": f"Bearer {forged}"},
            **{
                customer: {"Authorization": f"Bearer {AUTHORITY.mint(customer, Role.CUSTOMER)}"}
                for customer in CUSTOMERS
            },
        }
        with httpx.Client(base_url=server.base_url, timeout=10) as http:
            order_ids = [
                http.post(
                    "/graphql",
                    json={"query": CREATE_ORDER, "variables": {"input": order_input(customer)}},
                    headers=admin,
                ).json()["data"]["createOrder"]["orderId"]
                for customer in CUSTOMERS
                for _ in range(ORDERS_PER_CUSTOMER)
            ]
            log = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
            try:
                yield Target(
                    http=http, log=log, headers=headers, known_ids=(*order_ids, *CUSTOMERS)
                )
            finally:
                log.close()
        output = server.output()
        assert "Traceback" not in output, output
        assert "never awaited" not in output, output


def mostly(good: st.SearchStrategy[T], bad: st.SearchStrategy[T]) -> st.SearchStrategy[T]:
    """`good` seven times in eight, so that whole commands often get through the rules."""
    return st.integers(0, 7).flatmap(lambda n: bad if n == 7 else good)


def scalar_values(known_ids: tuple[str, ...]) -> dict[str, st.SearchStrategy[graphql.ValueNode]]:
    """Values for every scalar, often ones that pass the rules but as often ones that do not
    (the custom scalars, hypothesis-graphql cannot make at all)."""
    # Two capitals pass every text rule: they make a sku, a name, a city, a country...
    bad_texts = ("gb", " ", "x" * 201, "order_views", "daily_sales", "2024-01-01", "2099-12-31")
    return {
        "ID": mostly(
            st.one_of(st.sampled_from(known_ids), st.uuids().map(str)), st.text(max_size=8)
        ).map(nodes.String),
        "String": mostly(
            st.sampled_from(("GB", "FR", "DE", "SKU-1")),
            st.one_of(st.sampled_from(bad_texts), st.text(max_size=24)),
        ).map(nodes.String),
        "Int": mostly(
            st.integers(1, 12), st.one_of(st.integers(-(2**31), 2**31 - 1), st.integers())
        ).map(nodes.Int),
        "Decimal": mostly(
            st.sampled_from(("19.99", "0", "1000000", "7")).map(nodes.String),
            st.one_of(
                st.sampled_from(("1000000.01", "0.001", "-1", "1e3", "NaN", "")).map(nodes.String),
                st.integers().map(nodes.Int),
                st.text(max_size=8).map(nodes.String),
            ),
        ),
        "Position": mostly(st.integers(0, 40), st.integers(-1, 2**64)).map(nodes.Int),
    }


__all__ = [
    "ANSWER_WITHIN_SECONDS",
    "CALLERS",
    "COMMANDS",
    "DOMAIN_CODES",
    "Target",
    "fuzz_settings",
    "fuzz_target",
    "scalar_values",
    "schema_sdl",
]
