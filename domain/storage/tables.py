"""The write model's tables: the append-only event log and the record of handled commands."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

# On SQLite an INTEGER PRIMARY KEY is the rowid; BIGINT elsewhere.
Position = BigInteger().with_variant(Integer(), "sqlite")

event = Table(
    "event",
    metadata,
    Column("position", Position, primary_key=True, autoincrement=False),
    Column("stream_id", String(128), nullable=False),
    Column("version", Integer, nullable=False),
    Column("type", String(64), nullable=False),
    Column("schema_version", Integer, nullable=False),
    Column("payload", JSON().with_variant(JSONB(), "postgresql"), nullable=False),
    Column("command_id", String(128), nullable=False),
    Column("correlation_id", String(128), nullable=True),
    Column("causation_id", String(128), nullable=True),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("stream_id", "version"),
)

command = Table(
    "command",
    metadata,
    Column("command_id", String(128), primary_key=True),
    Column("fingerprint", String(64), nullable=False),
    Column("order_id", String(128), nullable=False),
    Column("version", Integer, nullable=False),
    Column("position", Position, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)

Index(None, event.c.command_id)

__all__ = ["NAMING_CONVENTION", "command", "event", "metadata"]
