"""Schema migrations (Alembic) for the event store and the view tables, on either backend.

`ordergraph migrate` upgrades a database to this code's schema; `serve` does the same on start
unless ORDERGRAPH_MIGRATE_ON_START=false, in which case it only checks and refuses to start on
a database that is not at this code's revision. Concurrent starts on PostgreSQL take turns
under an advisory lock, so several processes can start at once.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, create_engine, text

from domain.storage import tables as event_schema
from graph.pipeline import persisted_documents
from readmodels.schema import read_side_metadata

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from domain.storage.database import Database

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Any 64-bit constant: the advisory lock that makes concurrent migrations take turns.
MIGRATION_LOCK_KEY = 0x6F67_6D69_6772_6174


class SchemaMismatch(RuntimeError):
    """The database is not at this code's schema revision."""


def target_metadata() -> MetaData:
    """Every table the service owns: what the write side's storage and the read side each
    expose, and the persisted queries' documents, in one MetaData (Alembic compares against
    one)."""
    metadata = MetaData(naming_convention=event_schema.NAMING_CONVENTION)
    for source in (event_schema.metadata, read_side_metadata(), persisted_documents.metadata):
        for table in source.tables.values():
            table.to_metadata(metadata)
    return metadata


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision this code knows."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def _current(connection: Connection) -> str | None:
    revision: str | None = MigrationContext.configure(connection).get_current_revision()
    return revision


def _upgrade(connection: Connection) -> tuple[str | None, str]:
    before = _current(connection)
    _refuse_unknown(before)
    command.upgrade(_config(connection), "head")
    return before, head_revision()


def _refuse_unknown(revision: str | None) -> None:
    if revision is None:
        return
    known = {script.revision for script in ScriptDirectory.from_config(_config()).walk_revisions()}
    if revision not in known:
        raise SchemaMismatch(
            f"the database is at schema revision {revision}, which this ordergraph does not "
            f"know (its newest is {head_revision()}): the database was migrated by a newer "
            "ordergraph; upgrade ordergraph"
        )


async def migrate(db: Database) -> tuple[str | None, str]:
    """Upgrade the database to this code's schema; returns (revision before, revision after)."""
    async with db.write() as conn:
        if db.dialect == "postgresql":
            # Waiting for another process's migration is no fault, however long it takes.
            await conn.execute(text("SET LOCAL lock_timeout = 0"))
            await conn.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
            )
        result: tuple[str | None, str] = await conn.run_sync(_upgrade)
        return result


async def check(db: Database) -> None:
    """Raise SchemaMismatch unless the database is at this code's revision."""
    async with db.read() as conn:
        current: Any = await conn.run_sync(_current)
    _refuse_unknown(current)
    if current != head_revision():
        raise SchemaMismatch(
            f"the database is at schema revision {current or 'none (not migrated)'}, not "
            f"{head_revision()}: run `ordergraph migrate` first"
        )


def new_revision(message: str) -> Path | None:
    """Write a new revision for whatever the code defines that the migrations do not build
    yet (autogenerate against a scratch SQLite database at head); returns its file, or None
    when there is nothing to write (then no file is written)."""

    def unless_empty(_context: Any, _revision: Any, directives: list[Any]) -> None:
        if directives[0].upgrade_ops.is_empty():
            directives.clear()

    with tempfile.TemporaryDirectory() as folder:
        engine = create_engine(f"sqlite:///{folder}/scratch.db")
        try:
            with engine.begin() as connection:
                command.upgrade(_config(connection), "head")
                script = command.revision(
                    _config(connection),
                    message=message,
                    autogenerate=True,
                    process_revision_directives=unless_empty,
                )
        finally:
            engine.dispose()
    if not script:
        return None
    assert not isinstance(script, list)
    return Path(script.path)


__all__ = [
    "SchemaMismatch",
    "check",
    "head_revision",
    "migrate",
    "new_revision",
    "target_metadata",
]
