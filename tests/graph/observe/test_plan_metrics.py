"""The service answers reads through operation plans, and /metrics says how often it did and why
graphql-core answered instead."""

from __future__ import annotations

import re

from tests.support.graph import app_client


def counter(text: str, name: str) -> float:
    found = re.search(rf"^{re.escape(name)} (\S+)$", text, re.MULTILINE)
    assert found is not None, f"{name} not in /metrics"
    return float(found.group(1))


async def test_reads_go_through_plans_and_metrics_count_them(sqlite_url: str) -> None:
    async with app_client(sqlite_url) as client:
        created = await client.create_order()
        before = (await client.http.get("/metrics")).text
        data = await client.data(
            "query($id: ID!) { order(id: $id) { id status items { sku quantity } } }",
            {"id": created["orderId"]},
        )
        after = (await client.http.get("/metrics")).text
    assert data["order"]["items"] == [{"sku": "SKU-1", "quantity": 2}]
    planned = "ordergraph_plan_objects_total"
    assert counter(after, planned) > counter(before, planned)
    assert counter(after, "ordergraph_plans_compiled_total") >= 1
    assert 'ordergraph_plan_fallbacks_total{reason="null_in_non_null"}' in after
    assert 'ordergraph_plan_unplanned_total{reason="resolver"}' in after
