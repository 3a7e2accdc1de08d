"""Shared pieces of the read-side tests: histories, replays, table dumps, the service as
production wires it, a poisoned projection, and a crash child.

Run as `python -m tests.support.readmodels URL BATCH_SIZE` it is the child process of the
exactly-once crash test: it starts the projection runner on URL, prints `started`, and prints
`done` once every projection has applied the head of the log.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import MetaData, select

from domain.events import (
    Event,
    ItemAdded,
    ItemRemoved,
    OrderCancelled,
    OrderConfirmed,
    OrderPlaced,
    OrderShipped,
    ShippingAddressChanged,
)
from domain.storage.database import Database
from domain.storage.sql import SqlEventStore
from domain.values import Address, OrderLine
from graph.bootstrap import Container, bootstrap
from graph.settings import Settings
from readmodels.live.lists import ListRouter
from readmodels.projections.base import Batch
from readmodels.projections.order_views import OrderViewsProjection
from readmodels.registry import PROJECTION_NAMES, default_projections
from readmodels.runner.runner import ProjectionRunner
from readmodels.tables import new_metadata, projection_checkpoint

if TYPE_CHECKING:
    from domain.ports import EventLog, RecordedEvent
    from readmodels.projections.base import Projection, Tables
    from readmodels.projections.rowset import Rows

T0 = datetime(2024, 3, 1, 21, 0, tzinfo=UTC)
ADDRESS = Address(name="Ada", line1="1 Main St", city="Paris", postal_code="75001", country="FR")
OTHER_ADDRESS = Address(
    name="Bob", line1="2 High St", line2="Flat 3", city="Leeds", postal_code="LS1", country="GB"
)
REPLAY_SUFFIX = "_replay"


def order_history(order_id: str, customer_id: str, at: datetime, kind: int) -> list[Event]:
    """A valid history for one order; `kind` picks one of several shapes (cancelled, shipped...)."""
    step = timedelta(minutes=37)
    lines = (
        OrderLine(sku="A", quantity=2, unit_price=Decimal("9.99")),
        OrderLine(sku="B", quantity=1, unit_price=Decimal("0.10")),
    )
    events: list[Event] = [
        OrderPlaced(
            order_id=order_id,
            occurred_at=at,
            customer_id=customer_id,
            lines=lines,
            shipping_address=ADDRESS,
        ),
        ItemAdded(
            order_id=order_id,
            occurred_at=at + step,
            sku="A",
            quantity=kind % 3 + 1,
            unit_price=Decimal("9.99"),
        ),
        ItemAdded(
            order_id=order_id,
            occurred_at=at + 2 * step,
            sku=f"C{kind % 5}",
            quantity=3,
            unit_price=Decimal("1.25"),
        ),
        ItemRemoved(order_id=order_id, occurred_at=at + 3 * step, sku="B"),
    ]
    later = at + 4 * step
    match kind % 4:
        case 0:
            events.append(OrderCancelled(order_id=order_id, occurred_at=later, reason="changed"))
        case 1:
            events.append(OrderConfirmed(order_id=order_id, occurred_at=later))
        case 2:
            events.append(OrderShipped(order_id=order_id, occurred_at=later, tracking_number="T1"))
        case _:
            events.append(
                ShippingAddressChanged(
                    order_id=order_id, occurred_at=later, shipping_address=OTHER_ADDRESS
                )
            )
    return events


async def append_histories(store: SqlEventStore, count: int, *, per_transaction: int = 1000) -> int:
    """Append `count` order histories (five events each) quickly; return the head."""
    for start in range(0, count, per_transaction):
        async with store.transaction() as batch:
            for n in range(start, min(count, start + per_transaction)):
                order_id = f"order-{n:06d}"
                at = T0 + timedelta(minutes=13 * n)
                events = order_history(order_id, f"customer-{n % 17}", at, n)
                batch.stage(
                    order_id, events, expected_version=0, command_id=order_id, correlation_id=None
                )
    return await store.head_position()


async def dump(db: Database, tables: Tables) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of each table (by base name), sorted by primary key."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    async with db.read() as conn:
        for base, table in tables.items():
            statement = select(table).order_by(*table.primary_key.columns)
            out[base] = [tuple(row) for row in await conn.execute(statement)]
    return out


def live_tables(projection: Projection) -> Tables:
    return projection.define(new_metadata(), "")


class Replay:
    """A fresh replay of the log into `*_replay` tables, advanced step by step."""

    def __init__(self, log: EventLog, db: Database, *, batch_size: int = 997) -> None:
        self.log = log
        self.db = db
        self.batch_size = batch_size
        self.projections = {p.name: p for p in default_projections()}
        self.positions = dict.fromkeys(self.projections, 0)
        self.tables = {
            name: p.define(new_metadata(), REPLAY_SUFFIX) for name, p in self.projections.items()
        }

    async def create(self) -> None:
        """Create empty replay tables (dropping any left from an earlier replay)."""
        for tables in self.tables.values():
            metadata = next(iter(tables.values())).metadata
            async with self.db.write() as conn:
                await conn.run_sync(metadata.drop_all)
                await conn.run_sync(metadata.create_all)

    async def advance(self, name: str, up_to: int) -> None:
        """Apply the log's events up to position `up_to` (never backwards)."""
        projection = self.projections[name]
        position = self.positions[name]
        if up_to < position:
            raise AssertionError(f"{name} went back from {position} to {up_to}")
        while position < up_to:
            limit = min(self.batch_size, up_to - position)
            events = await self.log.read_all(position, limit)
            async with self.db.write() as conn:
                await projection.apply(conn, self.tables[name], projection.wanted(events, ()))
            position = events[-1].position
        self.positions[name] = position

    async def assert_matches(self, name: str) -> None:
        """The live views of `name` equal this replay's tables."""
        projection = self.projections[name]
        live = await dump(self.db, live_tables(projection))
        replayed = await dump(self.db, self.tables[name])
        assert live == replayed, f"{name} differs from a fresh replay"


async def checkpoints(db: Database) -> dict[str, int]:
    """Each projection's stored checkpoint."""
    async with db.read() as conn:
        rows = await conn.execute(
            select(projection_checkpoint.c.name, projection_checkpoint.c.position)
        )
        return {name: int(position) for name, position in rows}


async def assert_views_equal_replay(runner: ProjectionRunner, log: EventLog, db: Database) -> None:
    """Every view equals a fresh replay of the log up to the projection's checkpoint."""
    stored = await checkpoints(db)
    replay = Replay(log, db)
    await replay.create()
    for name in PROJECTION_NAMES:
        assert stored[name] == runner.position(name)
        await replay.advance(name, stored[name])
        await replay.assert_matches(name)


async def drop_everything(db: Database) -> None:
    """Drop every table of the database (for a fresh start on a reused database)."""
    async with db.write() as conn:
        metadata = MetaData()
        await conn.run_sync(metadata.reflect)
        await conn.run_sync(metadata.drop_all)


async def _child(url: str, batch_size: int) -> None:
    """The runner alone, catching up from its checkpoints on a log appended beforehand: the
    path a crash recovers through (no writer, so no in-writer hook), in batches of
    `batch_size`."""
    db = Database(url)
    store = SqlEventStore(db)
    await store.create_schema()
    runner = ProjectionRunner(store, db, default_projections(), batch_size=batch_size)
    await runner.start()
    print("started", flush=True)
    result = await runner.wait_for(PROJECTION_NAMES, await store.head_position(), 120)
    print("stale" if result.stale else "done", flush=True)
    await runner.stop()
    await db.dispose()


Service = Container
"""A started service, as production wires it (what most read-side tests need)."""


@asynccontextmanager
async def running_service(
    url: str, *, read_url: str | None = None, **overrides: Any
) -> AsyncIterator[Service]:
    """The service on `url` (its views on `read_url` when given) as `graph.bootstrap` wires
    it, in-writer hook included, started; stopped afterwards. `overrides` go to `bootstrap`."""
    container = bootstrap(Settings(database_url=url, read_database_url=read_url), **overrides)
    try:
        await container.start()
        yield container
    finally:
        await container.stop()


def list_router(
    service: Service, *, queue_size: int = 256
) -> tuple[ListRouter, asyncio.Queue[int]]:
    """A live-list router of its own on the service's change hub, its lists without
    `after_position` starting where order_views has committed (as the service's own router's
    do); and a queue of those start positions, one per list as it starts (a test waits for it
    before it writes what the list must send)."""
    starts: asyncio.Queue[int] = asyncio.Queue()

    async def committed() -> int:
        position = await service.runner.committed(OrderViewsProjection.name)
        starts.put_nowait(position)
        return position

    router = ListRouter(service.runner.changes, service.query_bus, committed, queue_size=queue_size)
    return router, starts


class PoisonedOrderViews(OrderViewsProjection):
    """order_views that raises on the event at `poison` while `poison` is set."""

    def __init__(self, poison: int | None) -> None:
        super().__init__()
        self.poison = poison

    def batch(self, tables: Tables) -> Batch:
        return PoisonedBatch(super().batch(tables), self)


class Poisoned(Protocol):
    """A projection that raises on the event at `poison` while `poison` is set."""

    poison: int | None


class PoisonedBatch(Batch):
    """`inner`, raising on the event at `projection.poison` while it is set."""

    def __init__(self, inner: Batch, projection: Poisoned) -> None:
        self.inner = inner
        self.projection = projection

    def rowsets(self) -> Sequence[Rows]:
        return self.inner.rowsets()

    def want(self, events: Sequence[RecordedEvent]) -> None:
        self.inner.want(events)

    def apply(self, recorded: RecordedEvent) -> None:
        if recorded.position == self.projection.poison:
            raise RuntimeError("poison")
        self.inner.apply(recorded)

    def committed(self) -> None:
        self.inner.committed()


if __name__ == "__main__":
    asyncio.run(_child(sys.argv[1], int(sys.argv[2])))
