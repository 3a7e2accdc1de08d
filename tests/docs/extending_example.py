"""The worked example of docs/extending.md: gift notes on orders, from command to GraphQL.

docs/extending.md quotes this module block by block and tests/docs/test_extending.py checks that
the quotes still match, so the walk-through cannot drift from code that runs. Each section names
the product file the code belongs in for a real change; here it lives in test code, so the
product stays as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Self

import sqlalchemy as sa
import strawberry
from alembic import op
from sqlalchemy import Column, MetaData, String, Table, select

from domain.commands import OrderCommand
from domain.errors import InvalidTransition
from domain.events import EVENT_TYPES, Event
from domain.order import Order
from domain.rules import check_text
from domain.values import OrderStatus
from graph.api.context import Info
from graph.api.mutations import Mutation
from graph.api.mutations.command import dispatch, order_envelope
from graph.api.mutations.inputs import OrderCommandFields, coerced
from graph.api.types import CommandResult
from readmodels.projections.base import Batch, Projection, Tables
from readmodels.projections.order_views import OrderViewsProjection
from readmodels.projections.rowset import RowSet
from readmodels.queries import Query
from readmodels.registry import default_projections
from readmodels.sqltypes import UtcDateTime
from readmodels.tables import new_metadata

if TYPE_CHECKING:
    from domain.ports import RecordedEvent
    from readmodels.readers.answers import Answers, ReadDatabase

# --- domain/events.py -------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class GiftNoteAdded(Event):
    """The note to print on the gift card; a later note replaces it."""

    note: str


EVENT_TYPES_WITH_GIFT_NOTES: dict[str, type[Event]] = {
    **EVENT_TYPES,
    "GiftNoteAdded": GiftNoteAdded,
}

# --- domain/commands.py -----------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class AddGiftNote(OrderCommand):
    note: str

    def checked(self) -> Self:
        """The input rule: 1 to 200 characters, not blank, storable."""
        command = OrderCommand.checked(self)
        check_text(command.note, "note")
        return command


# --- domain/order.py --------------------------------------------------------------------------

GIFT_NOTE_STATUSES = frozenset({OrderStatus.PLACED, OrderStatus.CONFIRMED})


def decide_gift_note(order: Order, command: AddGiftNote) -> GiftNoteAdded:
    """The state rule: only an order that has not shipped or been cancelled takes a note."""
    if order.status not in GIFT_NOTE_STATUSES:
        raise InvalidTransition(f"cannot add a gift note to an order that is {order.status.value}")
    return GiftNoteAdded(order_id=order.id, occurred_at=command.issued_at, note=command.note)


def apply_gift_note(order: Order, event: GiftNoteAdded) -> Order:
    """No rule reads the note, so the order's state only moves on a version."""
    return replace(order, version=order.version + 1)


# --- readmodels/projections/gift_notes.py -----------------------------------------------------


def gift_note_table(metadata: MetaData, name: str) -> Table:
    """One row per order that has a gift note."""
    return Table(
        name,
        metadata,
        Column("order_id", String(128), primary_key=True),
        Column("note", String(200), nullable=False),
        Column("updated_at", UtcDateTime, nullable=False),
    )


gift_note = gift_note_table(new_metadata(), "gift_note")
"""The live table, which the reader selects from."""


class GiftNotesProjection(Projection):
    """Keeps `gift_note`: each order's latest note."""

    name = "gift_notes"
    handles = frozenset({GiftNoteAdded})

    def define(self, metadata: MetaData, suffix: str) -> Tables:
        return {"gift_note": gift_note_table(metadata, "gift_note" + suffix)}

    def batch(self, tables: Tables) -> Batch:
        return _GiftNoteBatch(RowSet(tables["gift_note"]))


class _GiftNoteBatch(Batch):
    def __init__(self, rows: RowSet) -> None:
        self.rows = rows

    def rowsets(self) -> list[RowSet]:
        return [self.rows]

    def want(self, events: Sequence[RecordedEvent]) -> None:
        self.rows.want(e.stream_id for e in events)

    def apply(self, recorded: RecordedEvent) -> None:
        event = recorded.event
        assert isinstance(event, GiftNoteAdded)
        row = self.rows.get(recorded.stream_id) or self.rows.add({"order_id": recorded.stream_id})
        row.update(note=event.note, updated_at=event.occurred_at)


# --- readmodels/projections/order_views.py (nothing to do in the product) ---------------------


class OrderViewsWithGiftNotes(OrderViewsProjection):
    """order_views must see every event of an order, or its `version` falls behind."""

    handles = OrderViewsProjection.handles | {GiftNoteAdded}


def projections_with_gift_notes() -> list[Projection]:
    """default_projections(), with order_views handling GiftNoteAdded, plus gift_notes."""
    views = [
        OrderViewsWithGiftNotes() if p.name == "order_views" else p for p in default_projections()
    ]
    return [*views, GiftNotesProjection()]


# --- readmodels/readers/gift_notes.py ---------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class GiftNoteView:
    order_id: str
    note: str
    updated_at: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class GetGiftNote(Query[GiftNoteView | None]):
    order_id: str


async def get_gift_note(db: ReadDatabase, query: GetGiftNote) -> GiftNoteView | None:
    async with db.read() as conn:
        statement = select(gift_note).where(gift_note.c.order_id == query.order_id)
        row = (await conn.execute(statement)).mappings().first()
    if row is None:
        return None
    return GiftNoteView(order_id=row["order_id"], note=row["note"], updated_at=row["updated_at"])


ANSWERS: Answers = {GetGiftNote: get_gift_note}

# --- graph/api/mutations/add_gift_note.py -----------------------------------------------------


@coerced
@strawberry.input
class AddGiftNoteInput:
    command_id: strawberry.ID | None
    order_id: strawberry.ID
    expected_version: int | None
    note: str


class AddGiftNoteFields(OrderCommandFields):
    """An `AddGiftNoteInput` as graphql-core coerced it."""

    note: str


async def add_gift_note(
    info: Info,
    input: Annotated[AddGiftNoteFields, strawberry.argument(graphql_type=AddGiftNoteInput)],
) -> CommandResult:
    return await dispatch(info, AddGiftNote(**order_envelope(info, input), note=input["note"]))


# --- graph/api/mutations/__init__.py ----------------------------------------------------------


@strawberry.type(name="Mutation")
class MutationWithGiftNotes(Mutation):
    add_gift_note: CommandResult = strawberry.mutation(resolver=add_gift_note)


# --- graph/ops/migrations/versions/NNNN_gift_notes.py -----------------------------------------


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "gift_note",
        sa.Column("order_id", sa.String(length=128), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_gift_note")),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("gift_note")


__all__ = [
    "ANSWERS",
    "EVENT_TYPES_WITH_GIFT_NOTES",
    "GIFT_NOTE_STATUSES",
    "AddGiftNote",
    "AddGiftNoteFields",
    "AddGiftNoteInput",
    "GetGiftNote",
    "GiftNoteAdded",
    "GiftNoteView",
    "GiftNotesProjection",
    "MutationWithGiftNotes",
    "OrderViewsWithGiftNotes",
    "add_gift_note",
    "apply_gift_note",
    "decide_gift_note",
    "downgrade",
    "get_gift_note",
    "gift_note",
    "gift_note_table",
    "projections_with_gift_notes",
    "upgrade",
]
