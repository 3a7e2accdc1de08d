"""docs/extending.md stays true: its gift-note example runs end to end on a real SQLite file.

The example's code is tests/docs/extending_example.py, quoted block by block by the doc. The two
lines a real change writes into domain/order.py (the decision in `DECISIONS`, and a `case` in
the closed `Order.apply`) are installed here with monkeypatch, as the doc describes them.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import strawberry
from alembic.autogenerate import compare_metadata
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select, update
from strawberry.schema.config import StrawberryConfig

from domain import order as aggregate
from domain.bus import CommandBus
from domain.commands import CommandResult
from domain.errors import DomainError, ErrorCode, ValidationFailed
from domain.events import Event, OrderConfirmed, OrderPlaced
from domain.handlers import build_command_bus
from domain.order import Order
from domain.storage.database import Database
from domain.storage.registry import EventRegistry, UnknownEventType
from domain.storage.sql import SqlEventStore
from graph.api.context import Context, Services
from graph.api.identity import Principal, Role
from graph.api.query import Query
from graph.api.scalars import SCALAR_MAP
from graph.api.schema import graphql_schema
from graph.api.subscription import Subscription
from graph.ops.migrate import migrate, target_metadata
from graph.pipeline.plans import PlanStats
from graph.pipeline.prepare import Preparer
from graph.pipeline.run import Runner
from graph.settings import Settings
from readmodels.feed import SharedOrderReads
from readmodels.live import ListRouter, LiveRoutes, OrderFollowers
from readmodels.queries import GetOrder
from readmodels.querybus import QueryBus, build_query_bus
from readmodels.registry import READERS, reader_answers
from readmodels.runner.runner import ProjectionRunner
from tests.docs.extending_example import (
    ANSWERS,
    EVENT_TYPES_WITH_GIFT_NOTES,
    AddGiftNote,
    GetGiftNote,
    GiftNoteAdded,
    GiftNotesProjection,
    GiftNoteView,
    MutationWithGiftNotes,
    apply_gift_note,
    decide_gift_note,
    downgrade,
    gift_note,
    projections_with_gift_notes,
    upgrade,
)
from tests.support.domain import (
    CUSTOMER_ID,
    NOW,
    address,
    cancel,
    command_id,
    confirm,
    create,
    ship,
)

ROOT = Path(__file__).resolve().parents[2]
PROJECTIONS = ("order_views", "customer_summaries", "daily_sales", "gift_notes")


@pytest.fixture
def gift_notes_in_the_domain(monkeypatch: pytest.MonkeyPatch) -> None:
    """What a real change writes into domain/order.py, installed for a test."""
    plain_apply = Order.apply

    def apply(order: Order, event: Event) -> Order:
        if isinstance(event, GiftNoteAdded):
            return apply_gift_note(order, event)
        return plain_apply(order, event)

    monkeypatch.setattr(Order, "apply", apply)
    monkeypatch.setitem(aggregate.DECISIONS, AddGiftNote, decide_gift_note)


@dataclass(frozen=True, kw_only=True, slots=True)
class Service:
    db: Database
    store: SqlEventStore
    bus: CommandBus
    runner: ProjectionRunner
    query_bus: QueryBus


@pytest.fixture
async def service(sqlite_url: str, gift_notes_in_the_domain: None) -> AsyncIterator[Service]:
    """The write and read sides wired as graph/bootstrap.py would, with gift notes added."""
    db = Database(sqlite_url)
    store = SqlEventStore(db, EventRegistry(EVENT_TYPES_WITH_GIFT_NOTES))
    await store.create_schema()
    bus = build_command_bus(store)
    runner = ProjectionRunner(store, db, projections_with_gift_notes())
    # What readmodels/registry.py's READERS would list with the new reader module in it.
    query_bus = build_query_bus(db, runner, reader_answers((*READERS, ANSWERS)))
    await bus.start()
    await runner.start()
    try:
        yield Service(db=db, store=store, bus=bus, runner=runner, query_bus=query_bus)
    finally:
        await bus.stop()
        await runner.stop()
        await db.dispose()


def note(order_id: str, text: str = "Happy birthday!", **changes: Any) -> AddGiftNote:
    command = AddGiftNote(command_id=command_id(), issued_at=NOW, order_id=order_id, note=text)
    return replace(command, **changes)


async def caught_up(service: Service, result: CommandResult) -> None:
    waited = await service.runner.wait_for(PROJECTIONS, result.position, timeout=5)
    assert not waited.stale, waited


async def gift_note_rows(db: Database) -> list[dict[str, Any]]:
    async with db.read() as conn:
        rows = await conn.execute(select(gift_note).order_by(gift_note.c.order_id))
        return [dict(row) for row in rows.mappings()]


async def test_a_gift_note_is_recorded_projected_and_answered(service: Service) -> None:
    bus = service.bus
    placed = await bus.dispatch(create())
    order_id = placed.order_id
    first = await bus.dispatch(note(order_id))
    await bus.dispatch(confirm(order_id))
    last = await bus.dispatch(note(order_id, "Happy birthday, Ada!", expected_version=3))

    assert (first.version, last.version) == (2, 4)
    events = [recorded.event for recorded in await service.store.read_stream(order_id)]
    assert [type(event) for event in events] == [
        OrderPlaced,
        GiftNoteAdded,
        OrderConfirmed,
        GiftNoteAdded,
    ]
    assert events[-1] == GiftNoteAdded(
        order_id=order_id, occurred_at=NOW, note="Happy birthday, Ada!"
    )

    await caught_up(service, last)
    answer = await service.query_bus.ask(GetGiftNote(order_id=order_id))
    assert answer == GiftNoteView(order_id=order_id, note="Happy birthday, Ada!", updated_at=NOW)
    assert await service.query_bus.ask(GetGiftNote(order_id="no-such-order")) is None
    view = await service.query_bus.ask(GetOrder(order_id=order_id))
    assert view is not None
    assert (view.version, view.position) == (4, last.position)
    assert await gift_note_rows(service.db) == [
        {"order_id": order_id, "note": "Happy birthday, Ada!", "updated_at": NOW}
    ]


async def test_a_retried_gift_note_appends_nothing(service: Service) -> None:
    placed = await service.bus.dispatch(create())
    command = note(placed.order_id)
    first = await service.bus.dispatch(command)
    assert await service.bus.dispatch(command) == first
    assert len(await service.store.read_stream(placed.order_id)) == 2


async def test_refused_gift_notes_carry_their_error_code(service: Service) -> None:
    bus = service.bus
    shipped = (await bus.dispatch(create())).order_id
    await bus.dispatch(confirm(shipped))
    await bus.dispatch(ship(shipped))
    cancelled = (await bus.dispatch(create())).order_id
    await bus.dispatch(cancel(cancelled))
    head = await service.store.head_position()
    refusals = [
        (note(shipped), ErrorCode.INVALID_TRANSITION),
        (note(cancelled), ErrorCode.INVALID_TRANSITION),
        (note(shipped, "   "), ErrorCode.BAD_USER_INPUT),
        (note(shipped, "x" * 201), ErrorCode.BAD_USER_INPUT),
        (note("no-such-order"), ErrorCode.NOT_FOUND),
        (note(cancelled, on_behalf_of="someone-else"), ErrorCode.NOT_FOUND),
        (note(cancelled, expected_version=1), ErrorCode.CONCURRENCY_CONFLICT),
    ]
    for command, code in refusals:
        with pytest.raises(DomainError) as refused:
            await bus.dispatch(command)
        assert refused.value.code == code, command
    with pytest.raises(ValidationFailed) as blank:
        await bus.dispatch(note(shipped, ""))
    assert blank.value.field == "note"
    assert await service.store.head_position() == head


async def test_rebuilding_gift_notes_replays_the_log(service: Service) -> None:
    orders = [(await service.bus.dispatch(create())).order_id for _ in range(3)]
    for order_id in orders:
        last = await service.bus.dispatch(note(order_id, f"For {order_id}"))
    await caught_up(service, last)
    expected = await gift_note_rows(service.db)
    assert len(expected) == 3
    async with service.db.write() as conn:
        await conn.execute(update(gift_note).values(note="lost"))

    status = await service.runner.rebuild("gift_notes")

    assert status.position == await service.store.head_position()
    assert await gift_note_rows(service.db) == expected


async def test_code_without_the_event_type_cannot_read_the_log(service: Service) -> None:
    placed = await service.bus.dispatch(create())
    await service.bus.dispatch(note(placed.order_id))
    older_release = SqlEventStore(service.db)
    with pytest.raises(UnknownEventType, match="GiftNoteAdded"):
        await older_release.read_stream(placed.order_id)


def test_the_aggregate_is_closed_to_new_messages() -> None:
    """Why the fixture patches: without the two lines in domain/order.py, the order refuses
    the new event and cannot decide the new command."""
    placed = OrderPlaced(
        order_id="o-1",
        occurred_at=NOW,
        customer_id=CUSTOMER_ID,
        lines=create().lines,
        shipping_address=address(),
    )
    gift = GiftNoteAdded(order_id="o-1", occurred_at=NOW, note="Hi")
    with pytest.raises(TypeError, match="cannot apply GiftNoteAdded"):
        Order.replay([placed, gift])
    with pytest.raises(TypeError, match="cannot decide AddGiftNote"):
        Order.started(placed).decide(note("o-1"))


async def test_the_migration_adds_exactly_the_new_table(sqlite_url: str) -> None:
    db = Database(sqlite_url)
    target = target_metadata()
    GiftNotesProjection().define(target, "")

    def drift(sync_conn: Any) -> list[Any]:
        context = MigrationContext.configure(sync_conn, opts={"compare_type": True})
        differences: list[Any] = compare_metadata(context, target)
        return differences

    def run(step: Any) -> Any:
        def migrate_step(sync_conn: Any) -> None:
            with Operations.context(MigrationContext.configure(sync_conn)):
                step()

        return migrate_step

    try:
        await migrate(db)
        async with db.write() as conn:
            before = await conn.run_sync(drift)
            await conn.run_sync(run(upgrade))
            after = await conn.run_sync(drift)
            await conn.run_sync(run(downgrade))
            undone = await conn.run_sync(drift)
    finally:
        await db.dispose()
    assert [(kind, table.name) for kind, table in before] == [("add_table", "gift_note")]
    assert after == []
    assert [(kind, table.name) for kind, table in undone] == [("add_table", "gift_note")]


ADD_GIFT_NOTE = """
mutation Note($input: AddGiftNoteInput!) {
  addGiftNote(input: $input) { version order { id version } }
}
"""


async def test_the_graphql_mutation_sends_the_command(service: Service) -> None:
    schema = strawberry.Schema(
        query=Query,
        mutation=MutationWithGiftNotes,
        subscription=Subscription,
        config=StrawberryConfig(scalar_map=SCALAR_MAP),
    )
    assert "addGiftNote(input: AddGiftNoteInput!): CommandResult!" in schema.as_str()
    core = graphql_schema(schema)
    reads = SharedOrderReads(service.query_bus)
    committed = partial(service.runner.committed, "order_views")
    services = Services(
        command_bus=service.bus,
        query_bus=service.query_bus,
        runner=service.runner,
        settings=Settings(),
        order_reads=reads,
        live=LiveRoutes(
            lists=ListRouter(service.runner.changes, service.query_bus, committed),
            orders=OrderFollowers(service.runner.changes, reads),
        ),
        on_wait=lambda _stale: None,
    )
    context = Context(
        services=services,
        correlation_id="extending",
        principal=Principal(subject=CUSTOMER_ID, role=Role.CUSTOMER),
    )
    placed = await service.bus.dispatch(create())
    variables = {"input": {"orderId": placed.order_id, "note": "With love"}}
    prepared = await Preparer(core, Settings(), PlanStats()).prepare(ADD_GIFT_NOTE, None)
    runner = Runner(core, production=False)

    result = await runner.run(prepared, variables, context)

    assert result.errors == []
    assert result.data == {
        "addGiftNote": {"version": 2, "order": {"id": placed.order_id, "version": 2}}
    }
    await service.bus.dispatch(cancel(placed.order_id))
    refused = await runner.run(prepared, variables, context)
    assert refused.errors[0].extensions is not None
    assert refused.errors[0].extensions["code"] == "INVALID_TRANSITION"


def test_the_doc_quotes_the_example_verbatim() -> None:
    """Every ```python block under a `<!-- example -->` marker is in extending_example.py."""
    doc = (ROOT / "docs" / "extending.md").read_text(encoding="utf-8")
    source = (ROOT / "tests" / "docs" / "extending_example.py").read_text(encoding="utf-8")
    quoted = re.findall(r"<!-- example -->\n```python\n(.*?)```", doc, flags=re.DOTALL)
    assert len(quoted) >= 10
    missing = [block for block in quoted if block not in source]
    assert missing == []


def test_the_checklist_names_at_most_nine_files_to_write() -> None:
    """The checklist's first table: the files a new command with its event and projection
    touches by hand (the domain's registries are derived, the read side's listed in
    readmodels/registry.py; the migration and schema.graphql generated)."""
    doc = (ROOT / "docs" / "extending.md").read_text(encoding="utf-8")
    checklist = doc.split("## The checklist", 1)[1].split("\n\n| ", 1)[1].split("\n\n", 1)[0]
    rows = [row.split("|")[2] for row in checklist.splitlines()[2:]]
    files = {(path, "(new)" in row) for row in rows for path in re.findall(r"`([\w/]+\.py)`", row)}
    assert 1 <= len(files) <= 9, sorted(files)
    # An existing file is named where it is; a new one goes into an existing package.
    assert [path for path, new in files if not (ROOT / path).exists() and not new] == []
    assert [path for path, new in files if new and not (ROOT / path).parent.is_dir()] == []
