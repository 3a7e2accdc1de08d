"""A listing counts every matching order only when the client asks for totalCount."""

from __future__ import annotations

from domain.storage.database import Database
from domain.storage.sql import SqlEventStore
from readmodels.queries import ListOrders
from readmodels.querybus import build_query_bus
from readmodels.runner.runner import ProjectionRunner
from tests.support.graph import app_client


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

    db = Database(sqlite_url)
    try:
        queries = build_query_bus(db, ProjectionRunner(SqlEventStore(db), db))
        assert (await queries.ask(ListOrders(first=1, with_total=False))).total_count is None
        assert (await queries.ask(ListOrders(first=1))).total_count == 3
    finally:
        await db.dispose()
