"""The flat-cost rows: what the service costs with a big store against a small one.

`python -m bench.growth FOLDER ORDERS` (run by the bench under `taskset -c 1`) fills a SQLite
file with ORDERS orders (3 events each: placed with 3 lines and its own time, an item added,
confirmed) with the projections stopped, then measures, all in this run:

- catch-up: the runner started on that log (checkpoints at 0, as after a restart with the
  whole log behind), log events per second until every projection reaches the head, against
  `rebuild_many` of all three over the same log;
- pages: `ListOrders(first=100, after=cursor)` at page 1,000 (cursor of the 99,900th order)
  against page 1, through the QueryBus (what `orders(first: 100, after: ...)` runs without
  totalCount), interleaved, with SQLite's query plan;
- create: in-process `createOrder` from 32 tasks on the big store against an empty one
  (production wiring, views in the writer's transaction), interleaved legs A B A B;
- disk: bytes per event (the event and command tables with their indexes) and per order (the
  views' tables), from SQLite's dbstat;
- reads: `GetOrder` of random orders and page 1 of `ListOrders` with the big views against the
  small store (the few thousand orders its create legs placed), interleaved.

It prints one JSON line; `growth_rows` turns it into rows.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import event, text

from bench.harness import REPO, SERVER_CORE
from bench.report import Row
from domain.commands import CreateOrder
from domain.events import ItemAdded, OrderConfirmed, OrderPlaced
from domain.ids import new_order_id
from domain.values import Address, OrderLine
from graph.bootstrap import Container, bootstrap
from graph.settings import Settings
from readmodels.cursor import OrderCursor
from readmodels.queries import GetOrder, ListOrders
from readmodels.registry import PROJECTION_NAMES

PER_TRANSACTION = 2000
PAGE_DEPTH = 1000
REQUESTS_PER_LEG = 200
ADDRESS = Address(name="Ada", line1="1 Main St", city="London", postal_code="N1", country="GB")
LINES = (
    OrderLine(sku="SKU-1", quantity=2, unit_price=Decimal("19.99")),
    OrderLine(sku="SKU-2", quantity=1, unit_price=Decimal("5.00")),
    OrderLine(sku="SKU-3", quantity=3, unit_price=Decimal("7.25")),
)
T0 = datetime(2026, 1, 1, tzinfo=UTC)


async def fill(container: Container, orders: int) -> int:
    """Append `orders` order histories, each placed a second after the last; return the head."""
    for start in range(0, orders, PER_TRANSACTION):
        async with container.store.transaction() as batch:
            for n in range(start, min(start + PER_TRANSACTION, orders)):
                order_id, at = new_order_id(), T0 + timedelta(seconds=n)
                events = (
                    OrderPlaced(
                        order_id=order_id,
                        occurred_at=at,
                        customer_id=f"c-{n % 5000}",
                        lines=LINES,
                        shipping_address=ADDRESS,
                    ),
                    ItemAdded(
                        order_id=order_id,
                        occurred_at=at,
                        sku="SKU-4",
                        quantity=1,
                        unit_price=Decimal("1.50"),
                    ),
                    OrderConfirmed(order_id=order_id, occurred_at=at),
                )
                batch.stage(
                    order_id,
                    events,
                    expected_version=0,
                    command_id=uuid.uuid4().hex,
                    correlation_id=None,
                )
    return await container.store.head_position()


def _container(database: Path) -> Container:
    return bootstrap(Settings(database_url=f"sqlite+aiosqlite:///{database}"))


async def _catch_up(container: Container, head: int) -> float:
    """Start the runner with the whole log behind; seconds until every view is at the head."""
    started = time.monotonic()
    await container.runner.start()
    result = await container.runner.wait_for(PROJECTION_NAMES, head, 3600)
    assert not result.stale
    return time.monotonic() - started


async def _page_cursor(container: Container, depth: int) -> str:
    """The cursor after the first (depth - 1) pages of 100, newest first."""
    async with container.db.read() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT id, created_at, seq FROM order_view "
                    "ORDER BY created_at DESC, seq DESC LIMIT 1 OFFSET :skip"
                ),
                {"skip": (depth - 1) * 100 - 1},
            )
        ).one()
    created = datetime.fromisoformat(str(row.created_at)).replace(tzinfo=UTC)
    return OrderCursor(created_at=created, seq=row.seq, order_id=row.id).encode()


async def _page_rate(container: Container, after: str | None) -> float:
    started = time.monotonic()
    for _ in range(REQUESTS_PER_LEG):
        page = await container.query_bus.ask(ListOrders(first=100, after=after, with_total=False))
        assert len(page.edges) == 100
    return REQUESTS_PER_LEG / (time.monotonic() - started)


async def _order_ids(container: Container) -> tuple[int, list[str]]:
    """How many orders the views hold, and 500 of their ids at random."""
    async with container.db.read() as conn:
        count = int(await conn.scalar(text("SELECT count(*) FROM order_view")) or 0)
        ids = await conn.scalars(text("SELECT id FROM order_view ORDER BY random() LIMIT 500"))
        return count, list(ids)


async def _get_rate(container: Container, ids: list[str]) -> float:
    started = time.monotonic()
    for n in range(REQUESTS_PER_LEG * 5):
        assert await container.query_bus.ask(GetOrder(order_id=ids[n % len(ids)])) is not None
    return REQUESTS_PER_LEG * 5 / (time.monotonic() - started)


async def _query_plan(container: Container, after: str) -> str:
    """SQLite's plan for the statement the reader sends for a page after `after`."""
    sent: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, params: Any, *_rest: Any) -> None:
        if "FROM order_view" in statement:
            sent.append((statement, params))

    engine = container.db.read_engine.sync_engine
    event.listen(engine, "before_cursor_execute", capture)
    try:
        await container.query_bus.ask(ListOrders(first=100, after=after, with_total=False))
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    statement, params = sent[-1]
    async with container.db.read() as conn:
        rows = await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, params)
        return "; ".join(str(row[-1]) for row in rows)


async def dispatch_creates(container: Container, seconds: float, tasks: int = 32) -> int:
    """How many createOrder commands `tasks` concurrent tasks dispatch in `seconds`."""
    done = 0
    deadline = time.monotonic() + seconds

    async def worker() -> None:
        nonlocal done
        while time.monotonic() < deadline:
            await container.bus.dispatch(
                CreateOrder(
                    command_id=uuid.uuid4().hex,
                    issued_at=datetime.now(UTC),
                    customer_id="customer-1",
                    lines=LINES,
                    shipping_address=ADDRESS,
                )
            )
            done += 1

    await asyncio.gather(*(worker() for _ in range(tasks)))
    return done


async def _creates(container: Container, seconds: float) -> float:
    started = time.monotonic()
    done = await dispatch_creates(container, seconds)
    return done / (time.monotonic() - started)


async def _disk(container: Container) -> dict[str, int]:
    # dbstat walks the b-trees as this connection sees them (the WAL included).
    async with container.db.read() as conn:
        sizes = await conn.execute(
            text(
                "SELECT s.name, m.tbl_name, SUM(s.pgsize) FROM dbstat s "
                "LEFT JOIN sqlite_master m ON m.name = s.name GROUP BY s.name"
            )
        )
        by_table: dict[str, int] = {}
        for name, table, size in sizes:
            owner = str(table or name)
            by_table[owner] = by_table.get(owner, 0) + int(size)
        return by_table


async def _run(folder: Path, orders: int, leg_seconds: float) -> dict[str, Any]:
    big, empty = _container(folder / "big.db"), _container(folder / "empty.db")
    out: dict[str, Any] = {"orders": orders}
    for container in (big, empty):
        await container.start()
        await container.runner.stop()
    try:
        started = time.monotonic()
        head = await fill(big, orders)
        out.update(events=head, fill_s=time.monotonic() - started)
        out["catch_up_s"] = await _catch_up(big, head)
        started = time.monotonic()
        await big.runner.rebuild_many(PROJECTION_NAMES)
        out["rebuild_s"] = time.monotonic() - started
        depth = out["depth"] = min(PAGE_DEPTH, orders // 100)
        cursor = await _page_cursor(big, depth)
        first, deep = [], []
        for _ in range(3):
            first.append(await _page_rate(big, None))
            deep.append(await _page_rate(big, cursor))
        out.update(page1_per_s=statistics.median(first), page1000_per_s=statistics.median(deep))
        out["plan"] = await _query_plan(big, cursor)
        out["disk"] = await _disk(big)
        await empty.runner.start()
        await _creates(big, 1.0)
        await _creates(empty, 1.0)
        on_big, on_empty = [], []
        for _ in range(2):
            on_big.append(await _creates(big, leg_seconds))
            on_empty.append(await _creates(empty, leg_seconds))
        out.update(
            create_big_per_s=statistics.median(on_big),
            create_empty_per_s=statistics.median(on_empty),
        )
        # Reads with the big views against the small ones (the orders the create legs placed).
        (big_orders, big_ids), (small_orders, small_ids) = [
            await _order_ids(c) for c in (big, empty)
        ]
        legs: dict[str, list[float]] = {key: [] for key in ("gb", "gs", "lb", "ls")}
        for _ in range(3):
            legs["gb"].append(await _get_rate(big, big_ids))
            legs["gs"].append(await _get_rate(empty, small_ids))
            legs["lb"].append(await _page_rate(big, None))
            legs["ls"].append(await _page_rate(empty, None))
        out.update(big_orders=big_orders, small_orders=small_orders)
        out.update({f"{key}_per_s": statistics.median(rates) for key, rates in legs.items()})
        return out
    finally:
        await big.stop()
        await empty.stop()


VIEW_TABLES = ("order_view", "customer_summary", "daily_sale")


def growth_rows(folder: Path, orders: int, leg_seconds: float) -> list[Row]:
    """Run the growth subprocess on the server core and turn its figures into rows."""
    work = folder / "growth"
    work.mkdir(exist_ok=True)
    command = ["taskset", "-c", SERVER_CORE, sys.executable, "-m", "bench.growth"]
    out = subprocess.run(
        [*command, str(work), str(orders), str(leg_seconds)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=3600,
    )
    if out.returncode != 0:
        row = Row(name="growth", product="-", baseline="-", target="-")
        row.notes.append(f"failed: {out.stderr.strip().splitlines()[-1:]}")
        row.judge(None, False)
        return [row]
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    return _rows(figures)


def _rows(f: dict[str, Any]) -> list[Row]:
    events, orders = f["events"], f["orders"]
    page = Row(
        name="page-1000",
        product=f"ListOrders(first=100, after=cursor) at page {f['depth']:,} of {orders:,} orders",
        baseline="the same at page 1",
        target=">= 0.9",
    )
    ratio = f["page1000_per_s"] / f["page1_per_s"]
    page.judge(ratio, ratio >= 0.9)
    page.notes.append(
        f"{f['page1000_per_s']:,.0f} pages/s at page {f['depth']:,}, {f['page1_per_s']:,.0f} at "
        f"page 1 (QueryBus, no totalCount); plan: {f['plan']}"
    )
    create = Row(
        name="create-big-log",
        product=f"in-process createOrder (32 tasks) with {events:,} events in the log",
        baseline="the same on an empty log",
        target=">= 0.9",
    )
    ratio = f["create_big_per_s"] / f["create_empty_per_s"]
    create.judge(ratio, ratio >= 0.9)
    create.notes.append(
        f"{f['create_big_per_s']:,.0f}/s with the big log, {f['create_empty_per_s']:,.0f}/s empty"
    )
    catch = Row(
        name="catch-up",
        product=f"runner catch-up from 0 over {events:,} events (a restart with all behind)",
        baseline="rebuild_many of the 3 projections over the same log",
        target=">= 0.8",
    )
    ratio = f["rebuild_s"] / f["catch_up_s"]
    catch.judge(ratio, ratio >= 0.8)
    catch.notes.append(
        f"catch-up {events / f['catch_up_s']:,.0f} events/s ({f['catch_up_s']:.1f} s), rebuild "
        f"{events / f['rebuild_s']:,.0f} events/s ({f['rebuild_s']:.1f} s); fill "
        f"{f['fill_s']:.1f} s"
    )
    disk = f["disk"]
    log_bytes = disk.get("event", 0) + disk.get("command", 0)
    view_bytes = sum(size for name, size in disk.items() if name.startswith(VIEW_TABLES))
    size = Row(
        name="disk",
        product="SQLite bytes per event (event table and indexes) and per order (views)",
        baseline="-",
        target="reported",
    )
    size.judge(disk.get("event", 0) / events, None)
    size.unit = "B/event"
    per_table = ", ".join(
        f"{name} {bytes_ / orders:,.0f}"
        for name, bytes_ in sorted(disk.items())
        if name.startswith(VIEW_TABLES)
    )
    size.notes.append(
        f"event table {disk.get('event', 0) / events:,.0f} B/event, with the command records "
        f"{log_bytes / events:,.0f} B/event; views {view_bytes / orders:,.0f} B/order "
        f"({per_table})"
    )
    reads = []
    for name, what, big, small in (
        ("get-big-views", "GetOrder(id) of random orders", "gb", "gs"),
        ("list-big-views", "ListOrders(first=100), page 1", "lb", "ls"),
    ):
        read = Row(
            name=name,
            product=f"{what} with {f['big_orders']:,} orders in the views",
            baseline=f"the same with {f['small_orders']:,}",
            target=">= 0.9",
        )
        ratio = f[f"{big}_per_s"] / f[f"{small}_per_s"]
        read.judge(ratio, ratio >= 0.9)
        read.notes.append(f"{f[f'{big}_per_s']:,.0f}/s against {f[f'{small}_per_s']:,.0f}/s")
        reads.append(read)
    return [page, create, catch, size, *reads]


def main() -> None:
    folder, orders, leg_seconds = Path(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    print(json.dumps(asyncio.run(_run(folder, orders, leg_seconds))))


__all__ = ["fill", "growth_rows"]

if __name__ == "__main__":
    main()
