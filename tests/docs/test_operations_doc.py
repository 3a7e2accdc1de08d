"""docs/operations.md lists every series /metrics serves, and nothing it does not: the names
and types of a live service's exposition (after a write, over real HTTP) against the doc's
tables (a counter as PromQL names it, `_total`)."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.support.graph import CREATE_ORDER, order_input, post_data, uvicorn_server

DOC = Path(__file__).resolve().parents[2] / "docs" / "operations.md"
_ROW = re.compile(r"^\| `(?P<name>[a-z_]+)` \| (?P<type>counter|gauge|histogram) \|", re.MULTILINE)


async def _exposition(address: str) -> str:
    await post_data(address, CREATE_ORDER, {"input": order_input()})
    async with httpx.AsyncClient(base_url=f"http://{address}") as http:
        response = await http.get("/metrics")
    assert response.status_code == 200
    return response.text


def test_the_doc_lists_every_series_with_its_type(sqlite_url: str) -> None:
    with uvicorn_server(sqlite_url) as address:
        exposition = asyncio.run(_exposition(address))
    served = {
        family.name + ("_total" if family.type == "counter" else ""): family.type
        for family in text_string_to_metric_families(exposition)
        if not family.name.endswith("_created")
    }
    documented = {row["name"]: row["type"] for row in _ROW.finditer(DOC.read_text())}
    assert documented == served
