"""Order reads answer the same whichever way they are asked: a listing page alone or in a batch,
an order alone or among several, and over GraphQL with every field from the views."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest

from domain.commands import CancelOrder, ConfirmOrder, CreateOrder
from domain.errors import ValidationFailed
from domain.storage.database import Database
from domain.values import OrderLine, OrderStatus
from readmodels import readers
from readmodels.dto import OrderPage
from readmodels.queries import GetOrder, ListOrders
from readmodels.registry import PROJECTION_NAMES
from tests.support.graph import app_client
from tests.support.readmodels import ADDRESS, T0, Service, running_service

LINES = (
    OrderLine(sku="A", quantity=3, unit_price=Decimal("2.50")),
    OrderLine(sku="B", quantity=1, unit_price=Decimal("0.05")),
)


@dataclass(frozen=True)
class Views:
    db: Database
    order_ids: list[str]  # in creation order


@pytest.fixture
async def views(database_url: str) -> AsyncIterator[Views]:
    """13 orders of two customers, most created at the same instant (ties broken by seq)."""
    async with running_service(database_url) as service:
        yield Views(db=service.db, order_ids=await _place_orders(service))


async def _place_orders(service: Service) -> list[str]:
    bus, runner, store = service.bus, service.runner, service.store
    order_ids = []
    for n in range(13):
        result = await bus.dispatch(
            CreateOrder(
                command_id=str(uuid.uuid4()),
                issued_at=T0 + timedelta(days=n // 5),
                customer_id=f"c{n % 2}",
                lines=LINES[: 1 + n % 2],
                shipping_address=ADDRESS,
            )
        )
        order_ids.append(result.order_id)
    later = T0 + timedelta(days=9)
    for n in (0, 3, 8):
        await bus.dispatch(
            CancelOrder(command_id=f"x{n}", issued_at=later, order_id=order_ids[n], reason="r")
        )
    await bus.dispatch(ConfirmOrder(command_id="y", issued_at=later, order_id=order_ids[4]))
    assert not (await runner.wait_for(PROJECTION_NAMES, await store.head_position(), 5)).stale
    return order_ids


async def _walk(db: Database, request: ListOrders) -> list[OrderPage]:
    """Every page of `request`, each read alone, following the end cursors."""
    pages = [await readers.list_orders(db, request)]
    while pages[-1].has_next_page:
        pages.append(
            await readers.list_orders(
                db,
                ListOrders(
                    customer_id=request.customer_id,
                    status=request.status,
                    first=request.first,
                    after=pages[-1].end_cursor,
                    with_total=False,
                ),
            )
        )
    return pages


SHAPES = [
    (customer_id, status, first)
    for customer_id in (None, "c0")
    for status in (None, OrderStatus.PLACED, OrderStatus.CANCELLED)
    for first in (1, 3, 100)
]


async def test_a_listing_page_is_the_same_alone_or_in_a_batch(views: Views) -> None:
    for customer_id, status, first in SHAPES:
        request = ListOrders(customer_id=customer_id, status=status, first=first, with_total=False)
        walked = await _walk(views.db, request)
        after = None
        for page in walked:
            assert page.total_count is None
            (batch,) = await readers.list_order_pages(
                views.db,
                (
                    ListOrders(
                        customer_id=customer_id,
                        status=status,
                        first=first,
                        after=after,
                        with_total=False,
                    ),
                ),
            )
            assert page == batch
            after = page.end_cursor
        ids = [edge.node.id for page in walked for edge in page.edges]
        (everything,) = await readers.list_order_pages(
            views.db, (ListOrders(customer_id=customer_id, status=status, first=100),)
        )
        assert ids == [edge.node.id for edge in everything.edges]
        assert len(ids) == everything.total_count


async def test_listing_pages_walk_newest_first_through_ties(views: Views) -> None:
    walked = await _walk(views.db, ListOrders(first=2, with_total=False))
    assert [len(page.edges) for page in walked] == [2] * 6 + [1]
    assert [edge.node.id for page in walked for edge in page.edges] == views.order_ids[::-1]
    newest = walked[0].edges[0].node
    assert newest.status is OrderStatus.PLACED
    assert [line.line_total for line in newest.items] == [Decimal("7.50")]


async def test_a_bad_first_or_cursor_is_refused_alone_or_in_a_batch(views: Views) -> None:
    refused = [
        (ListOrders(first=0, with_total=False), "first"),
        (ListOrders(first=101, with_total=False), "first"),
        (ListOrders(after="not a cursor", with_total=False), "after"),
        (ListOrders(first=0, after="not a cursor", with_total=False), "first"),
    ]
    for request, field in refused:
        with pytest.raises(ValidationFailed) as one:
            await readers.list_orders(views.db, request)
        with pytest.raises(ValidationFailed) as batch:
            await readers.list_order_pages(views.db, (request,))
        assert one.value.field == batch.value.field == field


async def test_an_order_reads_the_same_alone_or_among_several(views: Views) -> None:
    for order_id in (*views.order_ids, "missing"):
        (batch,) = await readers.get_orders_by_id(views.db, (order_id,))
        assert await readers.get_order(views.db, GetOrder(order_id=order_id)) == batch
    cancelled = await readers.get_order(views.db, GetOrder(order_id=views.order_ids[3]))
    assert cancelled is not None
    assert cancelled.status is OrderStatus.CANCELLED
    assert cancelled.cancellation_reason == "r"


ORDER_FIELDS = (
    "id customerId status items { sku quantity unitPrice lineTotal } itemCount totalAmount "
    "shippingAddress { name line1 line2 city postalCode country } trackingNumber "
    "cancellationReason createdAt updatedAt version position customer { id }"
)


async def test_orders_and_order_answer_every_field_from_the_views(sqlite_url: str) -> None:
    async with app_client(sqlite_url) as client:
        created = [await client.create_order(customerId=f"g{n % 2}") for n in range(5)]
        await client.data(
            'mutation($id: ID!) { cancelOrder(input: {orderId: $id, reason: "gone"}) { orderId } }',
            {"id": created[3]["orderId"]},
        )
        head = await client.head()
        page = await client.data(
            "query($p: Position!) { orders(first: 3, minPosition: $p) { edges { cursor "
            f"node {{ {ORDER_FIELDS} }} }} pageInfo {{ hasNextPage endCursor }} }} }}",
            {"p": head},
        )
        rest = await client.data(
            "query($after: String!) { orders(first: 3, after: $after) "
            "{ edges { node { id } } pageInfo { hasNextPage } } }",
            {"after": page["orders"]["pageInfo"]["endCursor"]},
        )
        one = await client.data(
            f"query($id: ID!) {{ order(id: $id) {{ {ORDER_FIELDS} }} }}",
            {"id": created[3]["orderId"]},
        )
    edges = page["orders"]["edges"]
    later = rest["orders"]["edges"]
    ids = [edge["node"]["id"] for edge in [*edges, *later]]
    assert ids == [result["orderId"] for result in reversed(created)]
    assert page["orders"]["pageInfo"] == {"hasNextPage": True, "endCursor": edges[-1]["cursor"]}
    assert rest["orders"]["pageInfo"] == {"hasNextPage": False}
    assert edges[1]["node"] == one["order"]
    order = one["order"]
    assert order["status"] == "CANCELLED"
    assert order["cancellationReason"] == "gone"
    assert order["items"] == [
        {"sku": "SKU-1", "quantity": 2, "unitPrice": "19.99", "lineTotal": "39.98"}
    ]
    assert order["shippingAddress"] == {
        "name": "Ada Lovelace",
        "line1": "1 Analytical Way",
        "line2": None,
        "city": "London",
        "postalCode": "N1 9GU",
        "country": "GB",
    }
    assert order["customer"]["id"] == "g1"
    assert order["createdAt"].endswith("Z")
    assert isinstance(order["position"], int)
