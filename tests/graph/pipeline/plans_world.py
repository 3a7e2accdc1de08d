"""What the plan tests share: one running service on a real SQLite file, orders in every state
(three of them damaged in the database so that reads hit graphql-core's errors), and the
service's schema twice: as `build_schema` makes it, and the same with the planner.

`World.answers(document)` runs a document on both schemas with the same context and returns
both results as JSON text (key order kept), the way a client would see them.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import graphql
from graphql import GraphQLSchema

from domain.commands import CancelOrder, ConfirmOrder, CreateOrder, ShipOrder
from domain.values import Address, OrderLine
from graph.api.context import Context, Services
from graph.api.identity import DEVELOPMENT_PRINCIPAL, Principal, Role
from graph.api.schema import build_schema, graphql_schema
from graph.bootstrap import Container, bootstrap
from graph.pipeline.fields import CoroutineSafeExecutor
from graph.pipeline.plans import PlanStats
from graph.pipeline.prepare import Preparer, Refused
from graph.pipeline.run import Answer, Runner
from graph.settings import Settings
from readmodels.registry import PROJECTION_NAMES

T0 = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
ADDRESSES = (
    Address(name="Ada", line1="1 Main St", city="Paris", postal_code="75001", country="FR"),
    Address(
        name="Bob", line1="2 High St", line2="Flat 3", city="Leeds", postal_code="LS1", country="GB"
    ),
)
LINES = (
    OrderLine(sku="A", quantity=3, unit_price=Decimal("2.50")),
    OrderLine(sku="B", quantity=1, unit_price=Decimal("0.05")),
    OrderLine(sku="C", quantity=12, unit_price=Decimal("1000.10")),
)
CUSTOMERS = ("c0", "c1")
CALLERS = {
    "admin": DEVELOPMENT_PRINCIPAL,
    "staff": Principal(subject="sam", role=Role.STAFF),
    "c0": Principal(subject="c0", role=Role.CUSTOMER),
}
# Damage done to orders' rows behind the projection's back (SQLite keeps what it is given, and
# `_damage` first lifts the NOT NULL of two columns): nulls in non-null fields (a sku in the
# lines JSON, the address's city, the position), values the Int serializer refuses in non-null
# fields (a version that is not a number, an item count beyond 32 bits) and bytes for a tracking
# number (the String serializer refuses them, in a nullable field).
DAMAGE = {
    "null_sku": """UPDATE order_view SET items = '[["A", 1, "1.00"], [null, 1, "1.00"]]'
                   WHERE id = ?""",
    "null_city": "UPDATE order_view SET ship_city = NULL WHERE id = ?",
    "null_position": "UPDATE order_view SET position = NULL WHERE id = ?",
    "text_version": "UPDATE order_view SET version = 'abc' WHERE id = ?",
    "huge_item_count": "UPDATE order_view SET item_count = 1099511627776 WHERE id = ?",
    "bytes_tracking_number": "UPDATE order_view SET tracking_number = X'00ff' WHERE id = ?",
}
DAMAGE["all"] = ";".join(DAMAGE.values())
NULLABLE_NOW = ("ship_city VARCHAR(200)", "position BIGINT")
# Which orders (by creation index, newest first on every page) get which damage.
DAMAGED_ORDERS = {
    13: "null_sku", 12: "all", 11: "text_version", 10: "huge_item_count",
    9: "bytes_tracking_number", 8: "all", 6: "all", 3: "null_city", 2: "null_position", 0: "all",
}  # fmt: skip
# Fields of Order that the views fill (the bench's `every field`).
ORDER_FIELDS = (
    "id customerId status items { sku quantity unitPrice lineTotal } itemCount totalAmount "
    "shippingAddress { name line1 line2 city postalCode country } trackingNumber "
    "cancellationReason createdAt updatedAt version position"
)


@dataclass
class World:
    """The running service, its orders, and the two ways of answering: graphql-core alone
    (validate, execute; the oracle) and the pipeline (prepare, run; plans included)."""

    container: Container
    settings: Settings
    order_ids: list[str]
    damaged: dict[str, str]
    schema: GraphQLSchema
    preparer: Preparer
    runner: Runner
    stats: PlanStats
    head: int = 0
    cursors: tuple[str, ...] = ()

    @property
    def known_ids(self) -> tuple[str, ...]:
        return (*self.order_ids, *CUSTOMERS)

    def context(self, caller: str = "admin") -> Context:
        c = self.container
        services = Services(
            command_bus=c.bus,
            query_bus=c.query_bus,
            runner=c.runner,
            settings=self.settings,
            order_reads=c.order_reads,
            live=c.live,
            on_wait=lambda _stale: None,
        )
        return Context(services=services, correlation_id="plans-test", principal=CALLERS[caller])

    async def plain(
        self, document: str, variables: dict[str, Any] | None = None, caller: str = "admin"
    ) -> str:
        """graphql-core's answer (its validation, its executor, no plans; its async fields
        resolved inside their own coroutine, so that none is dropped: fields.py), coded and
        formatted as the pipeline formats an answer."""
        context = self.context(caller)
        try:
            parsed = graphql.parse(document)
        except graphql.GraphQLError as error:
            return self._text(self.runner.refusal([error], context))
        errors = graphql.validate(self.schema, parsed, self.preparer.rules)
        if errors:
            return self._text(self.runner.refusal(errors, context))
        result = graphql.execute(
            self.schema, parsed, None, context, variables, executor_class=CoroutineSafeExecutor
        )
        if graphql.pyutils.is_awaitable(result):
            result = await result
        assert isinstance(result, graphql.ExecutionResult)
        if result.data is None and result.errors and all(e.path is None for e in result.errors):
            return self._text(self.runner.refusal(list(result.errors), context))
        return self._text(self.runner.finish(result.data, list(result.errors or ()), context))

    async def planned(
        self, document: str, variables: dict[str, Any] | None = None, caller: str = "admin"
    ) -> str:
        """The pipeline's answer: prepare, then run."""
        context = self.context(caller)
        try:
            prepared = await self.preparer.prepare(document, None)
        except Refused as refusal:
            return self._text(self.runner.refusal(refusal.errors, context))
        return self._text(await self.runner.run(prepared, variables, context))

    @staticmethod
    def _text(answer: Answer) -> str:
        """The answer in JSON text with its key order, `data` always present."""
        return json.dumps(answer.formatted())

    async def answers(
        self, document: str, variables: dict[str, Any] | None = None, caller: str = "admin"
    ) -> tuple[str, str]:
        """(graphql-core's answer, the pipeline's answer) to the same request."""
        return (
            await self.plain(document, variables, caller),
            await self.planned(document, variables, caller),
        )


async def _place_orders(container: Container) -> list[str]:
    bus, ids = container.bus, []
    for n in range(14):
        result = await bus.dispatch(
            CreateOrder(
                command_id=str(uuid.uuid4()),
                issued_at=T0 + timedelta(hours=n // 3),
                customer_id=CUSTOMERS[n % 2],
                lines=LINES[: 1 + n % 3],
                shipping_address=ADDRESSES[n % 2],
            )
        )
        ids.append(result.order_id)
    later = T0 + timedelta(days=2)
    for n in (1, 5, 9):
        await bus.dispatch(
            ConfirmOrder(command_id=f"confirm-{n}", issued_at=later, order_id=ids[n])
        )
    for n in (5, 9):
        await bus.dispatch(
            ShipOrder(
                command_id=f"ship-{n}", issued_at=later, order_id=ids[n], tracking_number=f"TN{n}"
            )
        )
    await bus.dispatch(
        CancelOrder(command_id="cancel-2", issued_at=later, order_id=ids[2], reason="changed mind")
    )
    head = await container.store.head_position()
    assert not (await container.runner.wait_for(PROJECTION_NAMES, head, 5)).stale
    return ids


def _damage(path: Path, order_ids: list[str]) -> dict[str, str]:
    """Damage some orders (see DAMAGED_ORDERS); the newest damaged order of each kind."""
    damage(path, {order_ids[index]: kind for index, kind in DAMAGED_ORDERS.items()})
    damaged: dict[str, str] = {}
    for index, kind in DAMAGED_ORDERS.items():
        damaged.setdefault(kind, order_ids[index])
    return damaged


def damage(path: Path, kinds: dict[str, str]) -> None:
    """Damage each order's view row in the SQLite file at `path` the way `kinds` names it (a key
    of DAMAGE), after lifting the NOT NULL that would refuse it."""
    with sqlite3.connect(path) as connection:
        (table,) = connection.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'order_view'"
        ).fetchone()
        for column in NULLABLE_NOW:
            table = table.replace(f"{column} NOT NULL", column)
        (version,) = connection.execute("PRAGMA schema_version").fetchone()
        connection.execute("PRAGMA writable_schema = ON")
        connection.execute(
            "UPDATE sqlite_master SET sql = ? WHERE type = 'table' AND name = 'order_view'",
            (table,),
        )
        connection.execute(f"PRAGMA schema_version = {version + 1}")
        connection.execute("PRAGMA writable_schema = OFF")
    connection.close()
    with sqlite3.connect(path) as connection:
        for order_id, kind in kinds.items():
            for statement in DAMAGE[kind].split(";"):
                connection.execute(statement, (order_id,))
    connection.close()


@asynccontextmanager
async def running_world(tmp_path: Path) -> AsyncIterator[World]:
    """The service on a fresh SQLite file with its orders (damaged ones included)."""
    path = tmp_path / "plans.db"
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{path}", default_wait_ms=5, max_wait_ms=20
    )
    container = bootstrap(settings)
    await container.start()
    try:
        order_ids = await _place_orders(container)
        damaged = _damage(path, order_ids)
        schema = graphql_schema(build_schema())
        stats = PlanStats()
        world = World(
            container=container,
            settings=settings,
            order_ids=order_ids,
            damaged=damaged,
            schema=schema,
            preparer=Preparer(schema, settings, stats),
            runner=Runner(schema, production=False),
            stats=stats,
            head=await container.store.head_position(),
        )
        page = json.loads(await world.plain("{ orders(first: 50) { edges { cursor } } }"))
        world.cursors = tuple(edge["cursor"] for edge in page["data"]["orders"]["edges"])
        yield world
    finally:
        await container.stop()


__all__ = ["ORDER_FIELDS", "World", "damage", "running_world"]
