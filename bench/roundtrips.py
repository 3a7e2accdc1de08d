"""Round trips per group-commit batch: statements sent by the writer, counted per transaction.

`python -m bench.roundtrips [--url postgresql+asyncpg://...] [--tasks 50] [--seconds 5]` runs
`createOrder` from concurrent tasks in-process on the production wiring (views in the writer's
transaction) and prints, per committed batch, how many statements the write connection sent
(an executemany counts once: asyncpg pipelines it) with BEGIN, SAVEPOINT and COMMIT counted
as the round trips they are, and the mean batch size. Without --url it starts a throwaway
PostgreSQL server (tests/support/pgserver.py).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event

from bench.growth import dispatch_creates
from graph.bootstrap import Container, bootstrap
from graph.settings import Settings

APPEND_STATEMENTS = ("select pg_advisory_xact_lock", "insert into event", "with head as")


@dataclass
class Counts:
    """The statements of each append transaction (the one that takes the append lock or
    inserts events), by the first words of their SQL; other transactions are left out."""

    statements: Counter[str] = field(default_factory=Counter)
    transactions: int = 0
    _open: dict[int, list[str]] = field(default_factory=dict)

    def attach(self, container: Container) -> None:
        engine = container.db.write_engine.sync_engine

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            self._open[id(conn)] = []

        @event.listens_for(engine, "before_cursor_execute")
        def _statement(conn: Any, *args: Any) -> None:
            self._open.setdefault(id(conn), []).append(_kind(args[1]))

        @event.listens_for(engine, "commit")
        def _commit(conn: Any) -> None:
            kinds = self._open.pop(id(conn), [])
            if any(k.startswith(APPEND_STATEMENTS) for k in kinds):
                self.transactions += 1
                self.statements.update(kinds)


def _kind(sql: str) -> str:
    words = sql.split()
    head = " ".join(words[:3]).lower()
    return head[:60]


async def measure(url: str, *, tasks: int, seconds: float) -> dict[str, Any]:
    """Run the load once to warm up, then count one leg; the figures as a dict."""
    container = bootstrap(Settings(database_url=url))
    await container.start()
    try:
        await dispatch_creates(container, 1.0, tasks)
        counts = Counts()
        counts.attach(container)
        started = time.monotonic()
        commands = await dispatch_creates(container, seconds, tasks)
        elapsed = time.monotonic() - started
    finally:
        await container.stop()
    batches = max(counts.transactions, 1)
    statements = sum(counts.statements.values())
    # BEGIN and COMMIT are one round trip each (SAVEPOINT and RELEASE are statements).
    round_trips = statements + 2 * counts.transactions
    return {
        "commands": commands,
        "commands_per_s": commands / elapsed,
        "transactions": counts.transactions,
        "mean_batch": commands / batches,
        "statements_per_batch": statements / batches,
        "round_trips_per_batch": round_trips / batches,
        "by_kind": {k: v / batches for k, v in counts.statements.most_common()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a postgresql+asyncpg:// URL (default: a throwaway server)")
    parser.add_argument("--tasks", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    server = None
    url = args.url
    if url is None:
        from tests.support.pgserver import PostgresServer

        server = PostgresServer.start()
        url = server.url(server.create_database())
    try:
        figures = asyncio.run(measure(url, tasks=args.tasks, seconds=args.seconds))
    finally:
        if server is not None:
            server.stop()
    print(
        f"{figures['commands']} creates in {figures['transactions']} batches "
        f"({figures['commands_per_s']:,.0f}/s, {args.tasks} tasks): mean batch "
        f"{figures['mean_batch']:.1f} commands, {figures['statements_per_batch']:.1f} statements "
        f"and {figures['round_trips_per_batch']:.1f} round trips per batch"
    )
    for kind, per_batch in figures["by_kind"].items():
        print(f"  {per_batch:5.2f}  {kind}")


if __name__ == "__main__":
    main()
