"""`python -m bench.plans`: the pipeline's run in-process, against graphql-core's own path.

Both sides execute the same documents on one container (a throwaway SQLite file with
`--orders` orders of 3 lines): `plain` is graphql-core's `execute` on the parsed and validated
document (its own executor, no plans) with the answer encoded as Strawberry's view did
(`json.dumps`), `pipeline` the prepared operation run by `Runner.run` (plans from the root
down) and encoded by `Answer.encode` (orjson). Rounds alternate A B A B; each side reports its
best leg's median time per request (interference only adds time), in CPU time of the process
by default, which a busy machine disturbs far less than elapsed time (`--clock wall` for
elapsed). Every request is real (a query-bus read of the views each time). Rows:

- `list`: `orders(first: 100) { edges { cursor node { every field but lineTotal } } pageInfo }`
- `get`: `order(id)` with every view field

`--reads memory` answers the two reads from memory (the GraphQL layer alone); `--profile
list|get` prints a cProfile of the pipeline side instead.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import pstats
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import graphql

from bench.workloads import GET, LIST
from domain.commands import CreateOrder
from domain.values import Address, OrderLine
from graph.api.context import Context, Services
from graph.api.identity import DEVELOPMENT_PRINCIPAL
from graph.api.schema import build_schema, graphql_schema
from graph.bootstrap import Container, bootstrap
from graph.pipeline.plans import PlanStats
from graph.pipeline.prepare import Preparer
from graph.pipeline.run import Runner
from graph.settings import Settings
from readmodels.dto import OrderPage, OrderView
from readmodels.queries import GetOrder, ListOrders
from readmodels.querybus import QueryBus

LINES = (
    OrderLine(sku="SKU-RED-1", quantity=2, unit_price=Decimal("19.99")),
    OrderLine(sku="SKU-BLUE-2", quantity=1, unit_price=Decimal("5.00")),
    OrderLine(sku="SKU-GREEN-3", quantity=3, unit_price=Decimal("7.25")),
)
ADDRESS = Address(name="Ada", line1="1 Main St", city="Paris", postal_code="75001", country="FR")
T0 = datetime(2026, 1, 1, tzinfo=UTC)


class Bench:
    """graphql-core and the pipeline over one running container, a fresh Context per request."""

    def __init__(
        self, container: Container, settings: Settings, query_bus: QueryBus | None = None
    ) -> None:
        self.container = container
        self.settings = settings
        self.query_bus = query_bus or container.query_bus
        self.schema = graphql_schema(build_schema())
        self.stats = PlanStats()
        self.preparer = Preparer(self.schema, settings, self.stats)
        self.runner = Runner(self.schema, production=False)

    def context(self) -> Context:
        c = self.container
        services = Services(
            command_bus=c.bus,
            query_bus=self.query_bus,
            runner=c.runner,
            settings=self.settings,
            order_reads=c.order_reads,
            live=c.live,
            on_wait=lambda _stale: None,
        )
        return Context(services=services, correlation_id="bench", principal=DEVELOPMENT_PRINCIPAL)

    def plain(self, query: str, variables: dict[str, Any] | None) -> Callable[[], Awaitable[None]]:
        document = graphql.parse(query)
        assert not graphql.validate(self.schema, document)

        async def run() -> None:
            result = graphql.execute(self.schema, document, None, self.context(), variables)
            if graphql.pyutils.is_awaitable(result):
                result = await result
            assert isinstance(result, graphql.ExecutionResult)
            assert result.errors is None, result.errors
            json.dumps({"data": result.data}, separators=(",", ":")).encode()

        return run

    async def pipeline(
        self, query: str, variables: dict[str, Any] | None
    ) -> Callable[[], Awaitable[None]]:
        prepared = await self.preparer.prepare(query, None)

        async def run() -> None:
            answer = await self.runner.run(prepared, variables, self.context())
            assert not answer.errors, answer.errors
            answer.encode()

        return run


async def _place_orders(container: Container, count: int) -> str:
    last = ""
    for n in range(count):
        result = await container.bus.dispatch(
            CreateOrder(
                command_id=str(uuid.uuid4()),
                issued_at=T0 + timedelta(minutes=n),
                customer_id=f"customer-{n % 7}",
                lines=LINES,
                shipping_address=ADDRESS,
            )
        )
        last = result.order_id
    return last


CLOCKS = {"cpu": time.process_time, "wall": time.perf_counter}
clock = CLOCKS["cpu"]


async def memory_reads(container: Container, order_id: str) -> QueryBus:
    """A query bus answering GetOrder and ListOrders from answers read once: the rows' cost
    out of the measurement, only the GraphQL layer left."""
    order = await container.query_bus.ask(GetOrder(order_id=order_id))
    page = await container.query_bus.ask(
        ListOrders(customer_id=None, status=None, first=100, after=None, with_total=False)
    )

    async def get(_query: GetOrder) -> OrderView | None:
        return order

    async def list_orders(_query: ListOrders) -> OrderPage:
        return page

    bus = QueryBus()
    bus.register(GetOrder, get)
    bus.register(ListOrders, list_orders)
    return bus


async def _median_seconds(run: Callable[[], Awaitable[None]], iterations: int) -> float:
    times = []
    for _ in range(iterations):
        started = clock()
        await run()
        times.append(clock() - started)
    return statistics.median(times)


async def compare(
    plain: Callable[[], Awaitable[None]],
    planned: Callable[[], Awaitable[None]],
    iterations: int,
    rounds: int,
) -> tuple[float, float]:
    """Each side's best leg (median seconds per request) over interleaved legs, after a warm-up."""
    await _median_seconds(plain, max(3, iterations // 10))
    await _median_seconds(planned, max(3, iterations // 10))
    a, b = [], []
    for _ in range(rounds):
        a.append(await _median_seconds(plain, iterations))
        b.append(await _median_seconds(planned, iterations))
    return min(a), min(b)


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.plans", description=__doc__)
    parser.add_argument("--orders", type=int, default=150)
    parser.add_argument("--iterations", type=int, default=40, help="requests per leg")
    parser.add_argument("--rounds", type=int, default=4, help="A B legs per row")
    parser.add_argument("--profile", choices=("list", "get"), help="cProfile the planned side")
    parser.add_argument(
        "--clock",
        choices=tuple(CLOCKS),
        default="cpu",
        help="cpu: the process's CPU time per request (steady on a shared machine; the read "
        "pool's threads included), wall: elapsed time",
    )
    parser.add_argument(
        "--reads",
        choices=("database", "memory"),
        default="database",
        help="memory: the query bus answers from memory (the GraphQL layer alone)",
    )
    args = parser.parse_args(argv)
    global clock
    clock = CLOCKS[args.clock]

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(database_url=f"sqlite+aiosqlite:///{Path(tmp) / 'plans.db'}")
        container = bootstrap(settings)
        await container.start()
        try:
            order_id = await _place_orders(container, args.orders)
            memory = await memory_reads(container, order_id) if args.reads == "memory" else None
            bench = Bench(container, settings, memory)
            workloads = {"list": (LIST, None), "get": (GET, {"id": order_id})}
            if args.profile:
                query, variables = workloads[args.profile]
                run = await bench.pipeline(query, variables)
                await _median_seconds(run, 5)
                profiler = cProfile.Profile()
                profiler.enable()
                await _median_seconds(run, args.iterations)
                profiler.disable()
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
                return 0
            legs = f"best of {args.rounds} legs of {args.iterations} requests"
            print(f"{args.clock} time per request (median of a leg), {legs}, reads: {args.reads}")
            print(f"{'row':<24}{'plain ms':>10}{'pipeline ms':>13}{'speed-up':>10}")
            for name, (query, variables) in workloads.items():
                a, b = await compare(
                    bench.plain(query, variables),
                    await bench.pipeline(query, variables),
                    args.iterations,
                    args.rounds,
                )
                print(f"{name:<24}{a * 1e3:>10.3f}{b * 1e3:>13.3f}{a / b:>9.2f}x")
            print(f"plan stats: {bench.stats.snapshot()}")
        finally:
            await container.stop()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
