"""The peer row: the same write workload in-process, ordergraph's CommandBus vs `eventsourcing`.

The workload is one order's life start: create it with 3 lines, then confirm it. ordergraph runs
it on its CommandBus (group commit, SQLite, no projections running); the peer runs it through
an `eventsourcing` Application on its SQLite persistence (WAL). Both run in one subprocess on
the server core, interleaved A B A B. ordergraph is driven by 32 concurrent tasks (its normal
use: many requests share a commit); the peer is synchronous, so it runs in one thread. The
sequential ordergraph rate is reported beside them.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.harness import REPO, SERVER_CORE
from bench.report import Row
from domain.commands import ConfirmOrder, CreateOrder
from domain.values import Address, OrderLine
from graph.bootstrap import Container, bootstrap
from graph.settings import Settings

CONCURRENCY = 32
ADDRESS = Address(name="Ada", line1="1 Main St", city="London", postal_code="N1", country="GB")
LINES = (
    OrderLine(sku="SKU-1", quantity=2, unit_price=Decimal("19.99")),
    OrderLine(sku="SKU-2", quantity=1, unit_price=Decimal("5.00")),
    OrderLine(sku="SKU-3", quantity=3, unit_price=Decimal("7.25")),
)


async def _ordergraph_leg(container: Container, seconds: float, workers: int) -> float:
    """Create-then-confirm workflows per second with `workers` concurrent callers."""
    done = 0
    deadline = time.monotonic() + seconds

    async def worker() -> None:
        nonlocal done
        while time.monotonic() < deadline:
            now = datetime.now(UTC)
            created = await container.bus.dispatch(
                CreateOrder(
                    command_id=uuid.uuid4().hex,
                    issued_at=now,
                    customer_id="customer-1",
                    lines=LINES,
                    shipping_address=ADDRESS,
                )
            )
            await container.bus.dispatch(
                ConfirmOrder(command_id=uuid.uuid4().hex, issued_at=now, order_id=created.order_id)
            )
            done += 1

    started = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(workers)))
    return done / (time.monotonic() - started)


def _peer_app(folder: Path) -> Any:
    from eventsourcing.application import Application
    from eventsourcing.domain import Aggregate, event

    class PeerOrder(Aggregate):
        @event("Placed")
        def __init__(
            self, customer_id: str, lines: list[dict[str, Any]], address: dict[str, Any]
        ) -> None:
            self.customer_id = customer_id
            self.lines = lines
            self.address = address
            self.status = "PLACED"

        @event("Confirmed")
        def confirm(self) -> None:
            if self.status != "PLACED":
                raise ValueError("only a placed order can be confirmed")
            self.status = "CONFIRMED"

    class PeerOrders(Application[uuid.UUID]):
        def create_order(self) -> uuid.UUID:
            lines = [
                {"sku": ln.sku, "quantity": ln.quantity, "unit_price": ln.unit_price}
                for ln in LINES
            ]
            address = {"name": "Ada", "line1": "1 Main St", "city": "London", "country": "GB"}
            order = PeerOrder("customer-1", lines, address)
            self.save(order)
            order_id: uuid.UUID = order.id
            return order_id

        def confirm_order(self, order_id: uuid.UUID) -> None:
            order: PeerOrder = self.repository.get(order_id)
            order.confirm()
            self.save(order)

    env = {"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(folder / "peer.db")}
    return PeerOrders(env=env)


def _peer_leg(app: Any, seconds: float) -> float:
    done = 0
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        app.confirm_order(app.create_order())
        done += 1
    return done / (time.monotonic() - started)


async def _run(folder: Path, seconds: float) -> dict[str, Any]:
    container = bootstrap(Settings(database_url=f"sqlite+aiosqlite:///{folder / 'og-peer.db'}"))
    await container.store.create_schema()
    await container.store.start()
    await container.bus.start()
    app = _peer_app(folder)
    ours: list[float] = []
    theirs: list[float] = []
    try:
        await _ordergraph_leg(container, seconds / 2, CONCURRENCY)
        _peer_leg(app, seconds / 2)
        for _ in range(2):
            ours.append(await _ordergraph_leg(container, seconds, CONCURRENCY))
            theirs.append(_peer_leg(app, seconds))
        sequential = await _ordergraph_leg(container, seconds, 1)
    finally:
        await container.stop()
    return {
        "ordergraph": statistics.median(ours),
        "peer": statistics.median(theirs),
        "ordergraph_sequential": sequential,
    }


def peer_row(folder: Path, seconds: float) -> Row:
    """Run both legs in a subprocess on the server core."""
    row = Row(
        name="peer",
        product=f"CommandBus in-process, create(3 lines)+confirm, {CONCURRENCY} tasks",
        baseline="eventsourcing Application on SQLite, same workflow, 1 thread",
        target=">= 1.5",
    )
    try:
        import eventsourcing  # noqa: F401
    except ImportError:
        row.notes.append("skipped: the `eventsourcing` package is not installed")
        return row
    command = ["taskset", "-c", SERVER_CORE, sys.executable, "-m", "bench.peer"]
    out = subprocess.run(
        [*command, str(folder), str(seconds)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
        env=dict(os.environ),
    )
    if out.returncode != 0:
        row.notes.append(f"failed: {out.stderr.strip().splitlines()[-1:]}")
        row.judge(None, False)
        return row
    rates = json.loads(out.stdout.strip().splitlines()[-1])
    row.extra.update(rates)
    row.notes.append(
        f"workflows/s: ordergraph {rates['ordergraph']:,.0f} ({CONCURRENCY} tasks), "
        f"{rates['ordergraph_sequential']:,.0f} (1 task); eventsourcing {rates['peer']:,.0f}"
    )
    value = rates["ordergraph"] / rates["peer"] if rates["peer"] else 0.0
    row.judge(value, value >= 1.5)
    return row


def main() -> None:
    folder, seconds = Path(sys.argv[1]), float(sys.argv[2])
    print(json.dumps(asyncio.run(_run(folder, seconds))))


__all__ = ["peer_row"]

if __name__ == "__main__":
    main()
