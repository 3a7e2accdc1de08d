"""Random valid and invalid commands: the views always equal a fresh replay of the log, and a
one-pass rebuild of them all gives the same tables again."""

from __future__ import annotations

import asyncio
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.commands import (
    AddOrderItem,
    CancelOrder,
    ChangeShippingAddress,
    Command,
    CommandResult,
    ConfirmOrder,
    CreateOrder,
    RemoveOrderItem,
    ShipOrder,
)
from domain.errors import DomainError
from domain.order import Order
from domain.storage.database import Database
from domain.storage.sql import SqlEventStore
from domain.values import OrderLine, OrderStatus
from readmodels.queries import GetCustomers, GetSalesReport, ListOrders
from readmodels.readers.order_history import GetOrderHistories
from readmodels.registry import PROJECTION_NAMES, default_projections
from tests.support.readmodels import (
    ADDRESS,
    OTHER_ADDRESS,
    T0,
    assert_views_equal_replay,
    drop_everything,
    dump,
    live_tables,
    running_service,
)

if TYPE_CHECKING:
    from pathlib import Path

    from readmodels.dto import OrderView
    from readmodels.querybus import QueryBus

KINDS = ("create", "create", "add", "remove", "address", "confirm", "ship", "cancel")


@dataclass(frozen=True)
class Op:
    kind: str
    target: int
    lines: tuple[OrderLine, ...]
    minutes: int


lines_strategy = st.lists(
    st.builds(
        OrderLine,
        sku=st.sampled_from(["A", "B", "C"]),
        quantity=st.sampled_from([1, 2, 7, 10_000, 0]),
        unit_price=st.sampled_from(
            [Decimal("0"), Decimal("0.10"), Decimal("9.99"), Decimal("1000000"), Decimal("0.005")]
        ),
    ),
    max_size=3,
).map(tuple)
ops_strategy = st.lists(
    st.builds(
        Op,
        kind=st.sampled_from(KINDS),
        target=st.integers(0, 9),
        lines=lines_strategy,
        minutes=st.integers(0, 900),
    ),
    max_size=40,
)


def _command(op: Op, order_ids: list[str], clock: list[timedelta]) -> Command:
    clock[0] += timedelta(minutes=op.minutes)
    cid, at = str(uuid.uuid4()), T0 + clock[0]
    if op.kind == "create":
        return CreateOrder(
            command_id=cid,
            issued_at=at,
            customer_id=f"c{op.target % 3}",
            lines=op.lines,
            shipping_address=ADDRESS,
        )
    order_id = order_ids[op.target % len(order_ids)] if order_ids else "no-such-order"
    first = op.lines[0] if op.lines else OrderLine(sku="Z", quantity=1, unit_price=Decimal(1))
    match op.kind:
        case "add":
            return AddOrderItem(command_id=cid, issued_at=at, order_id=order_id, item=first)
        case "remove":
            return RemoveOrderItem(command_id=cid, issued_at=at, order_id=order_id, sku=first.sku)
        case "address":
            return ChangeShippingAddress(
                command_id=cid, issued_at=at, order_id=order_id, shipping_address=OTHER_ADDRESS
            )
        case "confirm":
            return ConfirmOrder(command_id=cid, issued_at=at, order_id=order_id)
        case "ship":
            return ShipOrder(
                command_id=cid, issued_at=at, order_id=order_id, tracking_number="TRACK-1"
            )
        case _:
            return CancelOrder(
                command_id=cid, issued_at=at, order_id=order_id, reason="no longer needed"
            )


async def _all_orders(queries: QueryBus) -> list[OrderView]:
    found: list[OrderView] = []
    after = None
    while True:
        page = await queries.ask(ListOrders(first=7, after=after))
        found.extend(edge.node for edge in page.edges)
        if not page.has_next_page:
            assert page.total_count == len(found)
            return found
        after = page.end_cursor


async def _check_against_the_aggregates(
    store: SqlEventStore, queries: QueryBus, order_ids: list[str]
) -> None:
    orders = await _all_orders(queries)
    assert sorted(o.id for o in orders) == sorted(order_ids)
    spent: dict[str, Decimal] = defaultdict(Decimal)
    counted: dict[str, int] = defaultdict(int)
    histories = await queries.ask(GetOrderHistories(order_ids=tuple(o.id for o in orders)))
    for view, history in zip(orders, histories, strict=True):
        stream = await store.read_stream(view.id)
        assert [(e.type, e.version, e.position) for e in history] == [
            (type(r.event).__name__, r.version, r.position) for r in stream
        ]
        order = Order.replay([r.event for r in stream])
        assert view.status == order.status
        assert view.version == order.version
        assert [(i.sku, i.quantity, i.unit_price) for i in view.items] == [
            (line.sku, line.quantity, line.unit_price) for line in order.lines
        ]
        assert view.total_amount == sum((line.line_total for line in order.lines), Decimal(0))
        assert view.shipping_address == order.shipping_address
        counted[view.customer_id] += 1
        if view.status is not OrderStatus.CANCELLED:
            spent[view.customer_id] += view.total_amount
    customers = await queries.ask(GetCustomers(customer_ids=tuple(counted)))
    for customer in customers:
        assert customer is not None
        assert customer.order_count == counted[customer.id]
        assert customer.total_spent == spent[customer.id]
    report = await queries.ask(
        GetSalesReport(from_date=T0.date(), to_date=T0.date() + timedelta(days=40))
    )
    assert sum(day.orders_placed for day in report) == len(orders)
    assert sum(day.revenue for day in report) == sum(spent.values())


async def _scenario(url: str, read_url: str | None, ops: list[Op], group: int) -> None:
    for fresh in filter(None, (url, read_url)):
        db = Database(fresh)
        await drop_everything(db)
        await db.dispose()
    async with running_service(url, read_url=read_url) as service:
        bus, runner, store = service.bus, service.runner, service.store
        order_ids: list[str] = []
        clock = [timedelta()]
        for start in range(0, len(ops), group):
            commands = [_command(op, order_ids, clock) for op in ops[start : start + group]]
            outcomes = await asyncio.gather(
                *(bus.dispatch(c) for c in commands), return_exceptions=True
            )
            for command, outcome in zip(commands, outcomes, strict=True):
                if isinstance(outcome, CommandResult):
                    if isinstance(command, CreateOrder):
                        order_ids.append(outcome.order_id)
                elif not isinstance(outcome, DomainError):
                    raise outcome
        head = await store.head_position()
        assert not (await runner.wait_for(PROJECTION_NAMES, head, 10)).stale
        await assert_views_equal_replay(runner, store, service.read_db)
        await _check_against_the_aggregates(store, service.query_bus, order_ids)
        # The one-pass rebuild of them all gives the same tables as the live path built.
        live = {p.name: live_tables(p) for p in default_projections()}
        before = {name: await dump(service.read_db, tables) for name, tables in live.items()}
        await runner.rebuild_many(PROJECTION_NAMES)
        for name, tables in live.items():
            assert await dump(service.read_db, tables) == before[name]
        await assert_views_equal_replay(runner, store, service.read_db)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(ops=ops_strategy, group=st.integers(1, 8), separate_views=st.booleans())
def test_views_equal_a_fresh_replay_after_random_commands(
    database_url: str, tmp_path: Path, ops: list[Op], group: int, separate_views: bool
) -> None:
    """Through the production wiring: each group of concurrent commands is one group commit.
    With the views in the event store's database it applies them in the writer's transaction;
    with a views database of their own the runner's tasks apply them."""
    read_url = f"sqlite+aiosqlite:///{tmp_path}/views.db" if separate_views else None
    asyncio.run(_scenario(database_url, read_url, ops, group))
