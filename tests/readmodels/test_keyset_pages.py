"""Pages after a cursor seek the (created_at, seq) index to the cursor on SQLite instead of
scanning it from the newest order, so page 1,000 costs what page 1 does (the growth bench row
measures the speed; this holds the plan)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from readmodels.readers.order_pages import _page_statement
from tests.support.readmodels import running_service


@pytest.mark.parametrize(("customer", "status"), [(False, False), (True, False), (False, True)])
async def test_a_page_after_a_cursor_seeks_the_index(
    sqlite_url: str, customer: bool, status: bool
) -> None:
    statement = _page_statement(customer, status, True)
    async with running_service(sqlite_url) as service, service.read_db.read() as conn:
        compiled = statement.compile(conn.sync_connection)
        values = {
            "customer_id": "c-1",
            "status": "PLACED",
            "after_created_at": datetime(2026, 1, 1, tzinfo=UTC).isoformat(),
            "after_seq": 10,
            "limit": 100,
        }
        names = compiled.positiontup or []
        plan = await conn.exec_driver_sql(
            f"EXPLAIN QUERY PLAN {compiled}",
            tuple(values.get(n, compiled.params.get(n)) for n in names),
        )
        details = [str(row[-1]) for row in plan]
    (access,) = [d for d in details if "order_view" in d]
    assert access.startswith("SEARCH"), details
    assert "created_at<?" in access or "created_at<" in access.replace(" ", ""), details
