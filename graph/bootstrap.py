"""The composition root: builds the databases, event store, buses and projection runner."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from domain.bus import CommandBus
from domain.handlers import build_command_bus
from domain.storage.database import Database
from domain.storage.sql import SqlEventStore
from graph.ops.migrate import check, migrate
from graph.settings import Settings
from readmodels.dto import BatchApplied
from readmodels.feed import SharedOrderReads
from readmodels.querybus import QueryBus, build_query_bus
from readmodels.runner.runner import ProjectionRunner


@dataclass(frozen=True, kw_only=True, slots=True)
class Container:
    """Everything the service runs on; `read_db` is `db` unless a views database is configured."""

    settings: Settings
    db: Database
    read_db: Database
    store: SqlEventStore
    bus: CommandBus
    runner: ProjectionRunner
    query_bus: QueryBus
    order_reads: SharedOrderReads

    @property
    def databases(self) -> list[Database]:
        """The event store's database, and the views' when it is another one."""
        return [self.db] if self.read_db is self.db else [self.db, self.read_db]

    async def prepare(self) -> None:
        """Migrate the schema (or only check it, when migrate_on_start is off)."""
        for db in self.databases:
            if self.settings.migrate_on_start:
                await migrate(db)
            else:
                await check(db)

    async def start(self) -> None:
        """Prepare the schema, then start the store's listener, the bus and the runner."""
        await self.prepare()
        await self.store.start()
        await self.bus.start()
        await self.runner.start()

    async def stop(self) -> None:
        """Commit queued commands, stop the runner at a batch boundary, close the databases."""
        try:
            await self.bus.stop()
            await self.runner.stop()
            await self.store.stop()
        finally:
            await self.db.dispose()
            if self.read_db is not self.db:
                await self.read_db.dispose()


def bootstrap(
    settings: Settings | None = None, *, on_batch: Callable[[BatchApplied], None] | None = None
) -> Container:
    """Wire the service from `settings` (the environment's when omitted); starts nothing.
    `on_batch` observes every batch the projections commit (for metrics)."""
    settings = settings or Settings.from_env()
    db = Database(settings.database_url)
    read_db = Database(settings.read_database_url) if settings.read_database_url else db
    store = SqlEventStore(db)
    runner = ProjectionRunner(store, read_db, on_batch=on_batch)
    if read_db is db:
        # Views in the event store's database: keep them current in the writer's transaction.
        store.add_commit_hook(runner.in_writer_transaction())
    query_bus = build_query_bus(read_db, runner)
    return Container(
        settings=settings,
        db=db,
        read_db=read_db,
        store=store,
        bus=build_command_bus(store),
        runner=runner,
        query_bus=query_bus,
        order_reads=SharedOrderReads(query_bus),
    )


__all__ = ["Container", "bootstrap"]
