"""Alembic's environment: run with the connection that `graph.ops.migrate` hands over."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from sqlalchemy.types import TypeDecorator

from graph.ops.migrate import target_metadata


def render_item(kind: str, item: Any, _context: Any) -> str | Literal[False]:
    """Write our column types (TypeDecorators) as the plain types they store, so a revision
    does not import application code."""
    if kind == "type" and isinstance(item, TypeDecorator):
        return f"sa.{item.impl!r}"
    return False


connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=target_metadata(),
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    render_item=render_item,
)
with context.begin_transaction():
    context.run_migrations()
