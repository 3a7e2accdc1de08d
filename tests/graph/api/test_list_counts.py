"""A listing counts every matching order only when the client asks for totalCount."""

from __future__ import annotations

from readmodels.queries import ListOrders
from tests.support.graph import app_client
from tests.support.readmodels import running_service


async def test_the_count_is_made_only_when_asked_for(sqlite_url: str) -> None:
    async with app_client(sqlite_url) as client:
        for _ in range(3):
            await client.create_order()
        plain = await client.data("{ orders(first: 2) { edges { node { id } } } }")
        assert len(plain["orders"]["edges"]) == 2
        spread = await client.data(
            "{ orders(first: 1) { ...Counted } } "
            "fragment Counted on OrderConnection { totalCount pageInfo { hasNextPage } }"
        )
        assert spread["orders"] == {"totalCount": 3, "pageInfo": {"hasNextPage": True}}
        nested = await client.data(
            '{ customer(id: "cust-1") { orders(first: 1) { ... on OrderConnection '
            "{ totalCount } } } }"
        )
        assert nested["customer"]["orders"]["totalCount"] == 3

    async with running_service(sqlite_url) as service:
        queries = service.query_bus
        assert (await queries.ask(ListOrders(first=1, with_total=False))).total_count is None
        assert (await queries.ask(ListOrders(first=1))).total_count == 3
