"""Alembic migrations: an empty database reaches this code's schema, with no drift, on both
backends; an unmigrated or newer database is refused with a clear message."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from domain.storage.database import Database
from graph.ops.migrate import SchemaMismatch, check, head_revision, migrate, target_metadata


async def test_migrations_build_exactly_the_schema_the_code_defines(database_url: str) -> None:
    db = Database(database_url)
    try:
        assert await migrate(db) == (None, head_revision())
        await check(db)

        def drift(sync_conn: Any) -> list[Any]:
            context = MigrationContext.configure(sync_conn, opts={"compare_type": True})
            differences: list[Any] = compare_metadata(context, target_metadata())
            return differences

        async with db.read() as conn:
            assert await conn.run_sync(drift) == []
        assert await migrate(db) == (head_revision(), head_revision())
    finally:
        await db.dispose()


async def test_an_unmigrated_database_is_refused_with_a_hint(database_url: str) -> None:
    db = Database(database_url)
    try:
        with pytest.raises(SchemaMismatch, match=r"not migrated.*ordergraph migrate"):
            await check(db)
    finally:
        await db.dispose()


async def test_a_database_migrated_by_a_newer_release_is_refused(database_url: str) -> None:
    db = Database(database_url)
    try:
        await migrate(db)
        async with db.write() as conn:
            await conn.execute(text("UPDATE alembic_version SET version_num = 'f00d'"))
        for attempt in (check, migrate):
            with pytest.raises(SchemaMismatch, match=r"f00d.*newer ordergraph"):
                await attempt(db)
    finally:
        await db.dispose()
