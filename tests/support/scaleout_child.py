"""A child process for the scale-out tests: appends orders, or holds an append open.

python -m tests.support.scaleout_child URL append N   -> N OrderPlaced appends, one per transaction
python -m tests.support.scaleout_child URL hold SECONDS -> one append whose transaction stays open
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from datetime import UTC, datetime
from decimal import Decimal

from domain.events import OrderPlaced
from domain.storage.database import Database
from domain.storage.sql import SqlEventStore
from domain.values import Address, OrderLine

ADDRESS = Address(name="N", line1="L", city="C", postal_code="P", country="DE")


def placed(order_id: str) -> OrderPlaced:
    return OrderPlaced(
        order_id=order_id,
        occurred_at=datetime.now(UTC),
        customer_id="scale",
        lines=(OrderLine(sku="S", quantity=1, unit_price=Decimal("1.00")),),
        shipping_address=ADDRESS,
    )


async def main(url: str, mode: str, amount: str) -> None:
    db = Database(url)
    store = SqlEventStore(db)
    try:
        if mode == "append":
            for _ in range(int(amount)):
                order_id = str(uuid.uuid4())
                await store.append(order_id, [placed(order_id)], expected_version=0)
        else:
            async with store.transaction() as batch:
                order_id = str(uuid.uuid4())
                await batch.stream_version(order_id)
                batch.stage(
                    order_id,
                    [placed(order_id)],
                    expected_version=0,
                    command_id=f"hold-{order_id}",
                    correlation_id=None,
                )
                print("holding", flush=True)
                # A statement every half second: a slow transaction, not a stalled one (the
                # server ends a session idle in a transaction for 2 s, see Database).
                deadline = asyncio.get_running_loop().time() + float(amount)
                while asyncio.get_running_loop().time() < deadline:
                    await asyncio.sleep(0.5)
                    await batch.stream_version(str(uuid.uuid4()))
    finally:
        await db.dispose()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
