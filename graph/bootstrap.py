"""The composition root: builds the databases, event store, buses, projection runner and live
routes, with the read side's projections and readers as `readmodels/registry.py` lists them."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from domain.handlers import build_command_bus
from domain.storage.database import Database
from domain.storage.sql import SqlEventStore
from graph.ops.migrate import check, migrate
from graph.settings import Settings
from readmodels.feed import SharedOrderReads
from readmodels.live.lists import ListRouter
from readmodels.live.orders import OrderFollowers
from readmodels.live.routes import LiveRoutes
from readmodels.projections.order_views import OrderViewsProjection
from readmodels.querybus import QueryBus, build_query_bus
from readmodels.registry import default_projections, reader_answers
from readmodels.replicas import Replicas
from readmodels.runner.runner import ProjectionRunner

if TYPE_CHECKING:
    from domain.bus import BatchWatch, CommandBus, CommandOutcome
    from readmodels.dto import BatchApplied
    from readmodels.projections.base import Projection
    from readmodels.replicas import ReplicaRead
    from readmodels.runner.projector import ApplyWatch


log = logging.getLogger("ordergraph.app")


@dataclass(frozen=True, kw_only=True, slots=True)
class Container:
    """Everything the service runs on; `read_db` is `db` unless a views database is configured,
    `replicas` the standbys of `read_db` that reads go to (None: reads go to `read_db`), and
    `live` the routes from order_views changes to the subscriptions that follow them."""

    settings: Settings
    db: Database
    read_db: Database
    store: SqlEventStore
    bus: CommandBus
    runner: ProjectionRunner
    query_bus: QueryBus
    order_reads: SharedOrderReads
    live: LiveRoutes
    replicas: Replicas | None = None

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

    async def unready(self) -> str | None:
        """Why this process should take no traffic now, or None when it is ready: the command
        bus or the projections stopped, the database does not answer, or writes fail (see
        `domain.storage.health`: probed at most once a second)."""
        if not self.bus.running:
            return "the command bus is not running"
        if not self.runner.alive:
            return "the projections are not running"
        return await self.store.health.problem()

    async def start(self) -> None:
        """Prepare the schema, then start the store's listener, the bus and the runner."""
        await self.prepare()
        await self.store.start()
        await self.bus.start()
        await self.runner.start()
        if self.replicas is not None:
            names = ", ".join(replica.name for replica in self.replicas.members)
            log.info("reads go to the replicas %s, each proving its freshness", names)

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
            if self.replicas is not None:
                await self.replicas.dispose()


def bootstrap(
    settings: Settings | None = None,
    *,
    store: SqlEventStore | None = None,
    build_bus: Callable[[SqlEventStore], CommandBus] = build_command_bus,
    projections: Sequence[Projection] | None = None,
    on_batch: Callable[[BatchApplied], None] | None = None,
    on_command: Callable[[CommandOutcome], None] | None = None,
    on_replica_read: Callable[[ReplicaRead], None] | None = None,
    batch_watch: BatchWatch | None = None,
    on_apply: ApplyWatch | None = None,
) -> Container:
    """Wire the service from `settings` (the environment's when omitted); starts nothing.

    The keywords replace one piece each, for tests and tools: `store` (its database becomes the
    event store's; default: a `SqlEventStore` on `settings.database_url`), `build_bus` (the
    command bus built on the store), `projections` (default: the service's views). `on_batch`
    observes every batch the projections commit, `on_command` every command the bus
    answers and `on_replica_read` every read that could go to a replica (for metrics);
    `batch_watch` follows every dispatch and batch, `on_apply` wraps every projection's apply
    (for traces).
    """
    settings = settings or Settings.from_env()
    if store is None:
        store = SqlEventStore(Database(settings.database_url))
    db = store.db
    read_db = Database(settings.read_database_url) if settings.read_database_url else db
    chosen = default_projections() if projections is None else projections
    runner = ProjectionRunner(store, read_db, chosen, on_batch=on_batch, on_apply=on_apply)
    if read_db is db:
        # Views in the event store's database: keep them current in the writer's transaction.
        store.add_commit_hook(runner.in_writer_transaction())
    bus = build_bus(store)
    if on_command is not None:
        bus.observe(on_command)
    if batch_watch is not None:
        bus.watch(batch_watch)
    replica_wait = settings.replica_wait_ms / 1000
    replicas = (
        Replicas(settings.replica_urls, wait=replica_wait, observe=on_replica_read)
        if settings.replica_urls
        else None
    )
    query_bus = build_query_bus(read_db, runner, reader_answers(), replicas)
    # The live feeds read at least what the views database has applied when they read.
    order_views = OrderViewsProjection.name
    live_bus = query_bus.following(order_views, replica_wait)
    projection = runner.projection(order_views)
    committed = projection.committed if isinstance(projection, OrderViewsProjection) else None
    order_reads = SharedOrderReads(live_bus, committed=committed)
    live = LiveRoutes(
        lists=ListRouter(runner.changes, live_bus, partial(runner.committed, order_views)),
        orders=OrderFollowers(runner.changes, order_reads),
    )
    return Container(
        settings=settings,
        db=db,
        read_db=read_db,
        store=store,
        bus=bus,
        runner=runner,
        query_bus=query_bus,
        order_reads=order_reads,
        live=live,
        replicas=replicas,
    )


__all__ = ["Container", "bootstrap"]
