"""Pages after or before a cursor seek the (created_at, seq) index to the cursor on SQLite
instead of scanning it from one end, in either direction, and so do the probes that tell
whether there is a previous or a next page: page 1,000 costs what page 1 does (the growth bench
row measures the speed; this holds the plan)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from readmodels.readers.order_pages import _page_statement
from tests.support.readmodels import running_service

FILTERS = [(False, False), (True, False), (False, True)]
CURSORS = [  # (after, before, backward)
    (True, False, False),
    (False, True, True),
    (True, False, True),
    (False, True, False),
    (True, True, False),
    (True, True, True),
]


async def _plan(url: str, statement: object) -> list[str]:
    values = {
        "customer_id": "c-1",
        "status": "PLACED",
        "after_created_at": datetime(2026, 1, 1, tzinfo=UTC).isoformat(),
        "after_seq": 10,
        "before_created_at": datetime(2025, 1, 1, tzinfo=UTC).isoformat(),
        "before_seq": 10,
        "limit": 100,
    }
    async with running_service(url) as service, service.read_db.read() as conn:
        compiled = statement.compile(conn.sync_connection)  # type: ignore[attr-defined]
        names = compiled.positiontup or []
        plan = await conn.exec_driver_sql(
            f"EXPLAIN QUERY PLAN {compiled}",
            tuple(values.get(n, compiled.params.get(n)) for n in names),
        )
        return [str(row[-1]) for row in plan]


@pytest.mark.parametrize(("customer", "status"), FILTERS)
@pytest.mark.parametrize(("after", "before", "backward"), CURSORS)
async def test_a_page_by_a_cursor_and_its_probes_seek_the_index(
    sqlite_url: str, customer: bool, status: bool, after: bool, before: bool, backward: bool
) -> None:
    details = await _plan(sqlite_url, _page_statement(customer, status, after, before, backward))
    accesses = [d for d in details if "order_view" in d]
    assert len(accesses) == 1 + after + before, details  # the page and one probe per cursor
    for access in accesses:
        assert access.startswith("SEARCH"), details
        assert "created_at<" in access or "created_at>" in access, details
    assert not [d for d in details if "TEMP B-TREE" in d], details  # read in index order


@pytest.mark.parametrize(("customer", "status"), FILTERS)
@pytest.mark.parametrize("backward", [False, True])
async def test_a_first_or_last_page_reads_the_index_from_its_end(
    sqlite_url: str, customer: bool, status: bool, backward: bool
) -> None:
    details = await _plan(sqlite_url, _page_statement(customer, status, False, False, backward))
    (access,) = [d for d in details if "order_view" in d]
    assert "USING INDEX" in access, details
    assert not [d for d in details if "TEMP B-TREE" in d], details
