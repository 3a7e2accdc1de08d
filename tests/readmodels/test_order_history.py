"""The order_history projection: one entry per event, worded for people, read many orders at a
time, and rebuilt to the same rows (the live-versus-replay property test covers it too)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from domain.commands import (
    AddOrderItem,
    CancelOrder,
    ChangeShippingAddress,
    ConfirmOrder,
    CreateOrder,
    RemoveOrderItem,
    ShipOrder,
)
from domain.events import Event
from domain.values import OrderLine
from readmodels.projections.order_history import OrderHistoryProjection, summary
from readmodels.readers.order_history import GetOrderHistories
from tests.support.readmodels import (
    ADDRESS,
    OTHER_ADDRESS,
    T0,
    Service,
    dump,
    live_tables,
    running_service,
)

if TYPE_CHECKING:
    from pathlib import Path

KEYBOARD = OrderLine(sku="KB-MECH-87", quantity=1, unit_price=Decimal("89.00"))
CABLE = OrderLine(sku="CABLE-HDMI-2M", quantity=2, unit_price=Decimal("9.99"))


def _id() -> str:
    return str(uuid.uuid4())


async def _placed(service: Service, *lines: OrderLine) -> str:
    result = await service.bus.dispatch(
        CreateOrder(
            command_id=_id(),
            issued_at=T0,
            customer_id="ada",
            lines=lines,
            shipping_address=ADDRESS,
        )
    )
    return result.order_id


async def _shipped_order(service: Service) -> str:
    order_id = await _placed(service, KEYBOARD, CABLE)
    at = T0 + timedelta(hours=1)
    bus = service.bus
    await bus.dispatch(
        AddOrderItem(
            command_id=_id(),
            issued_at=at,
            order_id=order_id,
            item=OrderLine(sku="KB-MECH-87", quantity=2, unit_price=Decimal("89.00")),
        )
    )
    await bus.dispatch(
        RemoveOrderItem(command_id=_id(), issued_at=at, order_id=order_id, sku="CABLE-HDMI-2M")
    )
    await bus.dispatch(
        ChangeShippingAddress(
            command_id=_id(), issued_at=at, order_id=order_id, shipping_address=OTHER_ADDRESS
        )
    )
    await bus.dispatch(ConfirmOrder(command_id=_id(), issued_at=at, order_id=order_id))
    await bus.dispatch(
        ShipOrder(command_id=_id(), issued_at=at, order_id=order_id, tracking_number="1Z999")
    )
    return order_id


async def test_every_event_is_an_entry_worded_for_people(database_url: str) -> None:
    async with running_service(database_url) as service:
        shipped = await _shipped_order(service)
        cancelled = await _placed(service, KEYBOARD)
        await service.bus.dispatch(
            CancelOrder(command_id=_id(), issued_at=T0, order_id=cancelled, reason="out of stock")
        )
        histories = await service.query_bus.ask(
            GetOrderHistories(order_ids=(shipped, "no-such-order", cancelled, shipped))
        )
        stream = await service.store.read_stream(shipped)
    first, missing, other, again = histories
    assert missing == ()
    assert again == first
    assert [entry.summary for entry in first] == [
        "placed with 2 lines, total 108.98",
        "added 2 \N{MULTIPLICATION SIGN} KB-MECH-87 at 89.00",
        "removed CABLE-HDMI-2M",
        "shipping address changed to Leeds, GB",
        "confirmed",
        "shipped (tracking 1Z999)",
    ]
    assert [(e.type, e.version, e.position, e.occurred_at) for e in first] == [
        (type(r.event).__name__, r.version, r.position, r.event.occurred_at) for r in stream
    ]
    assert all(entry.occurred_at.tzinfo is UTC for entry in first)
    assert [(e.type, e.summary) for e in other] == [
        ("OrderPlaced", "placed with 1 line, total 89.00"),
        ("OrderCancelled", "cancelled: out of stock"),
    ]


def test_an_event_with_no_wording_yet_reads_as_its_name() -> None:
    @dataclass(frozen=True, kw_only=True, slots=True)
    class GiftNoteAdded(Event):
        note: str

    assert summary(GiftNoteAdded(order_id="o", occurred_at=T0, note="hi")) == "gift note added"


async def test_the_history_is_current_when_the_command_returns(database_url: str) -> None:
    """With the views in the event store's database it is applied in the writer's
    transaction, like order_views: no wait between a command and its entry."""
    async with running_service(database_url) as service:
        runner = service.runner
        for n in range(3):
            order_id = await _placed(service, KEYBOARD)
            position = await service.store.head_position()
            assert runner.position(OrderHistoryProjection.name) == position
            (history,) = await service.query_bus.ask(GetOrderHistories(order_ids=(order_id,)))
            assert [entry.position for entry in history] == [position], n


async def test_a_rebuild_gives_the_live_rows_again(database_url: str) -> None:
    async with running_service(database_url) as service:
        for _ in range(3):
            await _shipped_order(service)
        tables = live_tables(OrderHistoryProjection())
        before = await dump(service.read_db, tables)
        status = await service.runner.rebuild(OrderHistoryProjection.name)
        assert status.position == await service.store.head_position()
        assert await dump(service.read_db, tables) == before
        assert len(before["order_history_entry"]) == 18


async def test_with_views_of_their_own_the_runner_keeps_the_history(
    sqlite_url: str, tmp_path: Path
) -> None:
    views = f"sqlite+aiosqlite:///{tmp_path}/views.db"
    async with running_service(sqlite_url, read_url=views) as service:
        order_id = await _shipped_order(service)
        head = await service.store.head_position()
        assert not (await service.runner.wait_for([OrderHistoryProjection.name], head, 5)).stale
        (history,) = await service.query_bus.ask(GetOrderHistories(order_ids=(order_id,)))
    assert [entry.version for entry in history] == [1, 2, 3, 4, 5, 6]
