"""The postgres rows: `create` and `get` against the raw routes on a throwaway PostgreSQL."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

from bench.harness import Server, admin_token
from bench.pairs import HttpRows, Plan
from bench.report import Row


def _skipped(reason: str) -> list[Row]:
    row = Row(
        name="postgres",
        product="create and get on PostgreSQL",
        baseline="raw routes on PostgreSQL",
        target=">= 0.8 / >= 0.8",
    )
    row.notes.append(f"skipped: {reason}")
    return [row]


def postgres_rows(folder: Path, plan: Plan) -> tuple[list[Row], str | None]:
    """Both rows and the server's version, or one skipped row when PostgreSQL is missing."""
    try:
        from tests.support.pgserver import PostgresServer, PostgresUnavailable
    except ImportError as error:
        return _skipped(f"tests.support.pgserver cannot be imported: {error}"), None
    try:
        pg = PostgresServer.start()
    except PostgresUnavailable as error:
        return _skipped(str(error)), None
    try:
        name = pg.create_database()
        version = pg._admin(_version)
        log = folder / "server-pg.log"
        with Server(pg.url(name), log) as server:
            rows = HttpRows(server.base_url, admin_token(), plan)
            order_id = rows.seed(120)
            before = log.stat().st_size
            create = rows.create("pg-create", 0.8)
            create.notes.append(batch_sizes(log, before))
            rows_out = [create, rows.get(order_id, "pg-get", 0.8)]
        rows_out[0].notes.append(asyncio.run(_disk(pg.url(name))))
        return rows_out, version
    finally:
        pg.stop()


_APPLIED = re.compile(r"projection order_views applied (\d+) events")


def batch_sizes(log: Path, offset: int) -> str:
    """The group-commit batches written to the log after `offset` (each commits one batch of
    order_views in the writer's transaction; one createOrder is one event)."""
    with log.open("rb") as file:
        file.seek(offset)
        tail = file.read().decode("utf-8", "replace")
    sizes = [int(found) for found in _APPLIED.findall(tail)]
    if not sizes:
        return "batch sizes: no batch lines in the server log"
    return (
        f"group commit under this load: {len(sizes):,} batches, mean {sum(sizes) / len(sizes):.1f} "
        f"commands, max {max(sizes)} (both sides' legs: the baseline writes no batches)"
    )


async def _disk(url: str) -> str:
    """Bytes per event of the log and per order of the views, on PostgreSQL."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            found: dict[str, Any] = {}
            for table in ("event", "command", "order_view", "customer_summary_order"):
                statement = f"SELECT pg_total_relation_size('{table}'), count(*) FROM {table}"
                found[table] = (await conn.execute(text(statement))).one()
            views = await conn.scalar(
                text(
                    "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c WHERE c.relkind = "
                    "'r' AND c.relname ~ '^(order_view|customer_summary|daily_sale)'"
                )
            )
    finally:
        await engine.dispose()
    events = max(int(found["event"][1]), 1)
    orders = max(int(found["order_view"][1]), 1)
    per_view = found["order_view"][0] / orders
    return (
        f"disk on PostgreSQL: event {found['event'][0] / events:,.0f} B/event, command "
        f"{found['command'][0] / max(int(found['command'][1]), 1):,.0f} B/record, views "
        f"{int(views or 0) / orders:,.0f} B/order (order_view {per_view:,.0f}) "
        f"over {events:,} events, {orders:,} orders (tables with their indexes and TOAST)"
    )


async def _version(connection: object) -> str:
    return str(await connection.fetchval("SHOW server_version"))  # type: ignore[attr-defined]


__all__ = ["postgres_rows"]
