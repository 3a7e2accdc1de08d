"""The operations the `ordergraph` command runs on a database: migrate, rebuild, status, seed.

Each builds the service with `bootstrap`, starts only what it needs and stops it again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import TextIO

from graph.bootstrap import bootstrap
from graph.ops.migrate import check, migrate
from graph.ops.preflight import check_reachable, check_sqlite
from graph.ops.seed import seed
from graph.ops.status import sqlite_served, stored_status
from graph.ops.terminal import ProgressBar, format_status, shown_url
from graph.settings import Settings
from readmodels.registry import PROJECTION_NAMES

# What to run when a command that needs an existing database finds none.
NO_DATABASE_HINT = "run `ordergraph migrate` (or `ordergraph serve`) to create it, or check the URL"

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


def existing(settings: Settings) -> Settings:
    """`settings` for a command that works on an existing database, migrated to this release:
    a missing SQLite file is refused before anything creates it, and the schema only checked."""
    for url in filter(None, (settings.database_url, settings.read_database_url)):
        check_sqlite(url, create=False, missing_hint=NO_DATABASE_HINT)
    return dataclasses.replace(settings, migrate_on_start=False)


async def prepare_databases(settings: Settings) -> list[str]:
    """Before serving: each database answers, and is migrated (or, with migrate_on_start off,
    checked); one line per database that changed."""
    container = bootstrap(settings)
    try:
        lines = []
        for db in container.databases:
            await check_reachable(db)
            if not settings.migrate_on_start:
                await check(db)
                continue
            before, after = await migrate(db)
            if before != after:
                lines.append(f"{shown_url(db.url)}: from {before or 'empty'} to schema {after}")
        return lines
    finally:
        await container.stop()


async def rebuild_projections(settings: Settings, names: Sequence[str], stream: TextIO) -> None:
    """Rebuild the projections in `names` in one pass, drawing its progress on `stream`."""
    container = bootstrap(existing(settings))
    try:
        await check_reachable(container.db)
        await container.prepare()
        await container.runner.start()
        # One pass over the log for all of them (each swapped in once caught up).
        bar = ProgressBar(", ".join(names), stream)
        statuses = await container.runner.rebuild_many(names, progress=bar)
        bar.finish()
        for status in statuses:
            stream.write(f"{status.name}: rebuilt up to position {status.position}\n")
    finally:
        await container.stop()


async def projection_status(settings: Settings) -> str:
    """Each projection's state, position and lag as stored, and whether a process runs it
    (STOPPED when none does), as a table. Runs nothing itself."""
    settings = existing(settings)
    served = sqlite_served(settings.database_url)  # before this process opens the file
    container = bootstrap(settings)
    try:
        await check_reachable(container.db)
        await container.prepare()
        statuses = await stored_status(container.store, container.read_db, PROJECTION_NAMES, served)
        return format_status(statuses)
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
    "existing",
    "migrate_databases",
    "prepare_databases",
    "projection_status",
    "rebuild_projections",
    "seed_demo",
]
