"""A child process for the durability test: appends through the bus until it is killed.

Usage: python -m tests.support.durability_child DATABASE_URL [WORKERS]

Prints `ready` once the bus runs, then one JSON line per acknowledged command (its command id,
order id, version and position), flushed as soon as `dispatch` returns, that is after the commit.
Stops by itself after a minute so that a lost parent leaves no orphan behind.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal

from domain.bus import CommandBus
from domain.commands import AddOrderItem, CommandResult, CreateOrder
from domain.handlers import build_command_bus
from domain.storage.database import Database
from domain.storage.sql import SqlEventStore
from domain.values import Address, OrderLine

LIFETIME = 60.0
ADDS_PER_ORDER = 5


def acknowledge(result: CommandResult) -> None:
    record = {
        "command_id": result.command_id,
        "order_id": result.order_id,
        "version": result.version,
        "position": result.position,
    }
    sys.stdout.write(json.dumps(record) + "\n")
    sys.stdout.flush()


async def worker(bus: CommandBus, name: str, deadline: float) -> None:
    number = 0
    while time.monotonic() < deadline:
        number += 1
        created = await bus.dispatch(
            CreateOrder(
                command_id=f"{name}-{number}-create",
                issued_at=_now(),
                customer_id=name,
                lines=(OrderLine(sku="SKU-1", quantity=1, unit_price=Decimal("1.25")),),
                shipping_address=Address(
                    name="Durable", line1="1 Disk Lane", city="Fsync", postal_code="0", country="GB"
                ),
            )
        )
        acknowledge(created)
        for add in range(ADDS_PER_ORDER):
            added = await bus.dispatch(
                AddOrderItem(
                    command_id=f"{name}-{number}-add-{add}",
                    issued_at=_now(),
                    order_id=created.order_id,
                    item=OrderLine(sku=f"SKU-{add % 2}", quantity=1, unit_price=Decimal("1.25")),
                )
            )
            acknowledge(added)


def _now() -> datetime:
    return datetime.now(UTC)


async def run(url: str, workers: int) -> None:
    db = Database(url)
    store = SqlEventStore(db)
    await store.create_schema()
    bus = build_command_bus(store)
    await bus.start()
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    # Each run's command ids must be new: the database may hold earlier runs' commands.
    run_id = f"{time.time_ns():x}"
    deadline = time.monotonic() + LIFETIME
    try:
        await asyncio.gather(*(worker(bus, f"{run_id}-w{i}", deadline) for i in range(workers)))
    finally:
        await bus.stop()
        await db.dispose()


def main() -> None:
    url = sys.argv[1]
    workers = int(sys.argv[2]) if len(sys.argv) > 2 else 8
    asyncio.run(run(url, workers))


if __name__ == "__main__":
    main()
