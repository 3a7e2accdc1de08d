"""The live list's catch-up (`OrdersChangedSince`) seeks order_view's position index instead of
scanning the table; every generation of the table has that index, so a rebuild keeps it, and
revision 0003 comes off again after a rebuild renamed it.

With a customer or status filter, SQLite (no ANALYZE statistics) prefers the equality on the
(customer_id | status, created_at, seq) index and sorts; only the unfiltered plan is held here.
"""

from __future__ import annotations

from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event, inspect

from graph.ops.migrate import MIGRATIONS, head_revision
from readmodels.queries import OrdersChangedSince
from readmodels.readers.changed import orders_changed_since
from tests.support.readmodels import append_histories, running_service


def _position_indexes(sync_conn: Any) -> list[str | None]:
    indexes = inspect(sync_conn).get_indexes("order_view")
    return [index["name"] for index in indexes if index["column_names"] == ["position"]]


async def test_the_catch_up_query_seeks_the_position_index(sqlite_url: str) -> None:
    seen: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "order_view" in statement:
            seen.append((statement, parameters))

    async with running_service(sqlite_url) as service:
        await append_histories(service.store, 20)
        engine = service.read_db.read_engine.sync_engine
        event.listen(engine, "before_cursor_execute", capture)
        try:
            views = await orders_changed_since(
                service.read_db, OrdersChangedSince(after_position=60, first=5)
            )
        finally:
            event.remove(engine, "before_cursor_execute", capture)
        assert [view.position for view in views] == [65, 70, 75, 80, 85]
        ((statement, parameters),) = seen
        async with service.read_db.read() as conn:
            plan = await conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            details = [str(row[-1]) for row in plan]
    (access,) = [d for d in details if "order_view" in d]
    assert access.startswith("SEARCH"), details
    assert "ix_order_view_position" in access, details
    assert not any("TEMP B-TREE" in d for d in details), details


async def test_a_rebuild_keeps_the_index_and_the_revision_comes_off_after_it(
    database_url: str,
) -> None:
    async with running_service(database_url) as service:
        await append_histories(service.store, 10)
        async with service.read_db.read() as conn:
            assert await conn.run_sync(_position_indexes) == ["ix_order_view_position"]
        for _ in range(2):  # twice: the second swap drops the first shadow's index with its table
            await service.runner.rebuild("order_views")
            async with service.read_db.read() as conn:
                (name,) = await conn.run_sync(_position_indexes)
            # A swapped-in shadow keeps its own names (ix_order_view__<suffix>_position).
            assert name is not None
            assert name.startswith("ix_order_view__"), name
            assert name.endswith("_position"), name

        def step(sync_conn: Any, target: str, down: bool) -> None:
            config = Config()
            config.set_main_option("script_location", str(MIGRATIONS))
            config.attributes["connection"] = sync_conn
            (command.downgrade if down else command.upgrade)(config, target)

        async with service.read_db.write() as conn:
            await conn.run_sync(step, "0002", True)
            assert await conn.run_sync(_position_indexes) == []
            await conn.run_sync(step, head_revision(), False)
            assert await conn.run_sync(_position_indexes) == ["ix_order_view_position"]
