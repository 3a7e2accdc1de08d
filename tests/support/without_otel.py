"""`python -m tests.support.without_otel DATABASE_URL`: the service as if the `otel` extra
were not installed (every `opentelemetry` import fails), serving a createOrder and a read over
real HTTP; prints what it answered and which OpenTelemetry modules got imported, as JSON."""

from __future__ import annotations

import asyncio
import importlib.abc
import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence
    from importlib.machinery import ModuleSpec
    from types import ModuleType


class NoOpenTelemetry(importlib.abc.MetaPathFinder):
    """Refuses `opentelemetry` and everything under it, as a missing package would."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname == "opentelemetry" or fullname.startswith("opentelemetry."):
            raise ModuleNotFoundError(f"No module named {fullname!r}", name=fullname)
        return None


async def serve_one_write_and_one_read(address: str) -> dict[str, Any]:
    from tests.support.graph import CREATE_ORDER, order_input, post_data

    created = await post_data(address, CREATE_ORDER, {"input": order_input()})
    order_id = created["createOrder"]["orderId"]
    read = await post_data(
        address, "query Read($id: ID!) { order(id: $id) { id } }", {"id": order_id}
    )
    return {"created": order_id, "read": read["order"]["id"]}


def main() -> None:
    sys.meta_path.insert(0, NoOpenTelemetry())
    from tests.support.graph import uvicorn_server

    with uvicorn_server(sys.argv[1]) as address:
        answers = asyncio.run(serve_one_write_and_one_read(address))
    loaded = sorted(name for name in sys.modules if name.startswith("opentelemetry"))
    print(json.dumps({**answers, "loaded": loaded}))


if __name__ == "__main__":
    main()
