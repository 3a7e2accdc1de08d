"""The live page as a person sees it at 1400 px: after "Place order" no cleared field looks
invalid, no column is cut, and the time column is the one the rows are sorted by."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from graph.ops.seed import seed
from tests.support.browser import chromium_path, node_script
from tests.support.graph import uvicorn_server
from tests.support.readmodels import running_service


async def test_the_live_page_after_placing_an_order_at_1400_px(sqlite_url: str) -> None:
    chromium_path()
    async with running_service(sqlite_url) as service:
        # Orders of the last days: their times show a date too, the widest the column gets.
        await seed(service.bus, orders=30, customers=12, days=20)
    with uvicorn_server(sqlite_url) as address:
        async with node_script("orders_page_layout.cjs", f"http://{address}") as script:
            seen = await script.expect("seen", timeout=60)
            await script.finish()
    assert seen["userInvalid"] == []
    assert not seen["cut"], "the orders table is wider than its panel"
    assert seen["header"][-1] == "Placed"
    placed = [datetime.fromisoformat(p) for p in seen["placed"]]
    assert len(placed) >= 6
    assert placed == sorted(placed, reverse=True)
    assert datetime.now(UTC) - placed[0] < timedelta(minutes=5)
    assert seen["lastCell"]
