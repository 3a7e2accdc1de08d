"""The rebuild row: rebuild all projections vs a raw replay loop, same database, own core.

`python -m bench.rebuild DB EVENTS` (run by the bench under `taskset -c 1`) fills a fresh SQLite
file with EVENTS events (orders of three: placed with 3 lines, an item added, confirmed), moves
the projections' checkpoints to the head so the live runner is idle, then times
`runner.rebuild_many(...)` of every projection (one pass over the log for all three), and a raw
loop that replays the log once per projection: pages of 1,000 events, JSON-decoded, upserted
into a bench table with a checkpoint, one transaction per page. It prints one JSON line.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from sqlalchemy import text

from bench.harness import REPO, SERVER_CORE
from bench.report import Row
from domain.events import ItemAdded, OrderConfirmed, OrderPlaced
from domain.ids import new_order_id
from domain.values import Address, OrderLine
from graph.bootstrap import Container, bootstrap
from graph.settings import Settings
from readmodels.registry import PROJECTION_NAMES

PAGE = 1000
ORDERS_PER_TRANSACTION = 2000
ADDRESS = Address(name="Ada", line1="1 Main St", city="London", postal_code="N1", country="GB")
LINES = (
    OrderLine(sku="SKU-1", quantity=2, unit_price=Decimal("19.99")),
    OrderLine(sku="SKU-2", quantity=1, unit_price=Decimal("5.00")),
    OrderLine(sku="SKU-3", quantity=3, unit_price=Decimal("7.25")),
)


async def _fill(container: Container, events: int) -> int:
    """Append `events` events (rounded down to whole orders); return the head."""
    orders = events // 3
    now = datetime.now(UTC)
    done = 0
    while done < orders:
        async with container.store.transaction() as batch:
            for n in range(done, min(done + ORDERS_PER_TRANSACTION, orders)):
                order_id = new_order_id()
                placed = OrderPlaced(
                    order_id=order_id,
                    occurred_at=now,
                    customer_id=f"c-{n % 5000}",
                    lines=LINES,
                    shipping_address=ADDRESS,
                )
                added = ItemAdded(
                    order_id=order_id,
                    occurred_at=now,
                    sku="SKU-4",
                    quantity=1,
                    unit_price=Decimal("1.50"),
                )
                confirmed = OrderConfirmed(order_id=order_id, occurred_at=now)
                batch.stage(
                    order_id,
                    (placed, added, confirmed),
                    expected_version=0,
                    command_id=uuid.uuid4().hex,
                    correlation_id=None,
                )
        done = min(done + ORDERS_PER_TRANSACTION, orders)
    return await container.store.head_position()


async def _raw_replay(container: Container, name: str) -> None:
    db = container.db
    table = f"bench_replay_{name}"
    async with db.write() as conn:
        await conn.execute(text(f"DROP TABLE IF EXISTS {table}"))
        await conn.execute(
            text(
                f"CREATE TABLE {table} (stream_id TEXT PRIMARY KEY, type TEXT NOT NULL, "
                "version INTEGER NOT NULL, position INTEGER NOT NULL, payload TEXT NOT NULL)"
            )
        )
        await conn.execute(
            text(
                "CREATE TABLE IF NOT EXISTS bench_replay_checkpoint "
                "(name TEXT PRIMARY KEY, position INTEGER NOT NULL)"
            )
        )
        await conn.execute(
            text("INSERT OR REPLACE INTO bench_replay_checkpoint VALUES (:name, 0)"),
            {"name": name},
        )
    read = text(
        "SELECT position, stream_id, version, type, payload FROM event "
        "WHERE position > :after ORDER BY position LIMIT :limit"
    )
    upsert = text(
        f"INSERT INTO {table} (stream_id, type, version, position, payload) "
        "VALUES (:stream_id, :type, :version, :position, :payload) ON CONFLICT(stream_id) DO "
        "UPDATE SET type = excluded.type, version = excluded.version, "
        "position = excluded.position, payload = excluded.payload"
    )
    checkpoint = text("UPDATE bench_replay_checkpoint SET position = :position WHERE name = :name")
    position = 0
    while True:
        async with db.read() as conn:
            rows = (await conn.execute(read, {"after": position, "limit": PAGE})).all()
        if not rows:
            return
        params = []
        for row in rows:
            payload = row.payload
            decoded = json.loads(payload) if isinstance(payload, str) else payload
            params.append(
                {
                    "stream_id": row.stream_id,
                    "type": row.type,
                    "version": row.version,
                    "position": row.position,
                    "payload": json.dumps(decoded),
                }
            )
        position = rows[-1].position
        async with db.write() as conn:
            await conn.execute(upsert, params)
            await conn.execute(checkpoint, {"position": position, "name": name})


async def _run(database: Path, events: int) -> dict[str, float]:
    container = bootstrap(Settings(database_url=f"sqlite+aiosqlite:///{database}"))
    await container.store.create_schema()
    await container.runner.start()
    await container.runner.stop()
    started = time.monotonic()
    head = await _fill(container, events)
    fill_s = time.monotonic() - started
    async with container.db.write() as conn:
        await conn.execute(text("UPDATE projection_checkpoint SET position = :p"), {"p": head})
    await container.runner.start()
    try:
        timings: dict[str, float] = {"events": head, "fill_s": fill_s}
        for label in (
            ("raw", "product", "raw2", "product2") if events <= 100_000 else ("raw", "product")
        ):
            started = time.monotonic()
            if label.startswith("raw"):
                for name in PROJECTION_NAMES:
                    await _raw_replay(container, name)
            else:
                await container.runner.rebuild_many(PROJECTION_NAMES)
            timings[f"{label}_s"] = time.monotonic() - started
        return timings
    finally:
        await container.stop()


def rebuild_row(folder: Path, events: int) -> Row:
    """Run the rebuild subprocess on the server core and turn its timings into a row."""
    row = Row(
        name="rebuild",
        product=f"rebuild all 3 projections in one pass over {events:,} events",
        baseline="raw replay loop per projection (page 1000, upsert + checkpoint per txn)",
        target=">= 0.8",
    )
    database = folder / "rebuild.db"
    command = ["taskset", "-c", SERVER_CORE, sys.executable, "-m", "bench.rebuild"]
    out = subprocess.run(
        [*command, str(database), str(events)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )
    if out.returncode != 0:
        row.notes.append(f"failed: {out.stderr.strip().splitlines()[-1:]}")
        row.judge(None, False)
        return row
    timings = json.loads(out.stdout.strip().splitlines()[-1])
    product = min(v for k, v in timings.items() if k.startswith("product"))
    raw = min(v for k, v in timings.items() if k.startswith("raw"))
    row.extra.update(timings)
    n = timings["events"]
    row.notes.append(
        f"product {product:.1f} s ({3 * n / product:,.0f} projection-events/s, one pass), raw "
        f"{raw:.1f} s ({3 * n / raw:,.0f} events/s); filling the log took {timings['fill_s']:.1f} s"
    )
    value = raw / product
    row.judge(value, value >= 0.8)
    return row


def main() -> None:
    database, events = Path(sys.argv[1]), int(sys.argv[2])
    print(json.dumps(asyncio.run(_run(database, events))))


__all__ = ["rebuild_row"]

if __name__ == "__main__":
    main()
