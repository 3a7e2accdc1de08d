"""Several processes on one PostgreSQL database: positions in commit order, nothing skipped."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from domain.storage.database import Database
from domain.storage.sql import SqlEventStore
from readmodels.projections.order_views import OrderViewsProjection
from readmodels.runner.runner import ProjectionRunner
from readmodels.tables import new_metadata

ROOT = Path(__file__).resolve().parents[2]
WRITERS = 8
APPENDS = 500


async def _child(url: str, mode: str, amount: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.support.scaleout_child",
        url,
        mode,
        amount,
        cwd=ROOT,
        stdout=subprocess.PIPE,
    )


@pytest.mark.slow
async def test_a_tailing_projection_misses_nothing_while_a_transaction_is_held_open(
    postgres_url: str,
) -> None:
    db = Database(postgres_url)
    store = SqlEventStore(db)
    await store.create_schema()
    await store.start()
    runner = ProjectionRunner(store, db, [OrderViewsProjection()], batch_size=200)
    await runner.start()
    try:
        holder = await _child(postgres_url, "hold", "3")
        assert holder.stdout is not None
        assert await asyncio.wait_for(holder.stdout.readline(), 30) == b"holding\n"
        writers = [await _child(postgres_url, "append", str(APPENDS)) for _ in range(WRITERS)]
        codes = await asyncio.wait_for(
            asyncio.gather(holder.wait(), *(writer.wait() for writer in writers)), 120
        )
        assert codes == [0] * (WRITERS + 1)

        total = WRITERS * APPENDS + 1
        assert await store.head_position() == total
        waited = await runner.wait_for(["order_views"], total, timeout=30)
        assert not waited.stale
        events = await store.read_all(0, total + 10)
        assert [e.position for e in events] == list(range(1, total + 1))
        views = new_metadata()
        table = OrderViewsProjection().define(views, "")["order_view"]
        async with db.read() as conn:
            count = await conn.scalar(select(func.count()).select_from(table))
            streams = set((await conn.execute(select(table.c.id))).scalars())
        assert count == total
        assert streams == {e.stream_id for e in events}
    finally:
        await runner.stop()
        await store.stop()
        await db.dispose()
