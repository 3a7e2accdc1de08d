"""The operations the `ordergraph` command runs on a database: migrate, rebuild, status, seed.

Each builds the service with `bootstrap`, starts only what it needs and stops it again.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TextIO

from graph.bootstrap import bootstrap
from graph.ops.migrate import migrate
from graph.ops.seed import seed
from graph.ops.terminal import ProgressBar, format_status, shown_url
from graph.settings import Settings
from readmodels.projections import PROJECTION_NAMES

SEED_CATCH_UP_SECONDS = 30


async def migrate_databases(settings: Settings) -> str:
    """Upgrade the event store's database (and the views', when separate); one line each."""
    container = bootstrap(settings)
    try:
        lines = []
        for db in container.databases:
            before, after = await migrate(db)
            change = "already at" if before == after else f"from {before or 'empty'} to"
            lines.append(f"{shown_url(db.url)}: {change} schema revision {after}")
        return "\n".join(lines)
    finally:
        await container.stop()


async def rebuild_projections(settings: Settings, names: Sequence[str], stream: TextIO) -> None:
    """Rebuild each projection in `names`, drawing its progress on `stream`."""
    container = bootstrap(settings)
    try:
        await container.prepare()
        await container.runner.start()
        for name in names:
            bar = ProgressBar(name, stream)
            status = await container.runner.rebuild(name, progress=bar)
            bar.finish()
            stream.write(f"{name}: rebuilt up to position {status.position}\n")
    finally:
        await container.stop()


async def projection_status(settings: Settings) -> str:
    """Each projection's state, position and lag as stored, as a table."""
    container = bootstrap(settings)
    try:
        await container.prepare()
        await container.runner.start()
        # Taken before any await: the checkpoints as stored, not what this process catches up.
        return format_status(container.runner.status())
    finally:
        await container.stop()


async def seed_demo(settings: Settings, orders: int, customers: int, stream: TextIO) -> str:
    """Place demo orders through the command bus and wait for the views to show them."""
    container = bootstrap(settings)
    try:
        await container.start()
        bar = ProgressBar("seed", stream, unit="orders")
        report = await seed(container.bus, orders=orders, customers=customers, progress=bar)
        bar.finish()
        await container.runner.wait_for(
            PROJECTION_NAMES, report.last_position, SEED_CATCH_UP_SECONDS
        )
        return (
            f"placed {report.orders} orders for up to {customers} customers "
            f"({report.commands} commands, head position {report.last_position})"
        )
    finally:
        await container.stop()


__all__ = [
    "migrate_databases",
    "projection_status",
    "rebuild_projections",
    "seed_demo",
]
