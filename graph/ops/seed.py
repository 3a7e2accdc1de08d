"""Demo data: realistic orders sent through the CommandBus, like any client's commands."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from domain.commands import (
    CancelOrder,
    Command,
    CommandResult,
    ConfirmOrder,
    CreateOrder,
    ShipOrder,
)
from domain.values import Address, OrderLine

if TYPE_CHECKING:
    from domain.bus import CommandBus

CATALOG = (
    ("KB-MECH-87", "89.00"),
    ("MOUSE-ERGO", "49.90"),
    ("USB-C-HUB-7", "34.50"),
    ("MON-27-4K", "329.00"),
    ("CABLE-HDMI-2M", "9.99"),
    ("HEADSET-BT", "119.00"),
    ("WEBCAM-1080", "59.00"),
    ("LAPTOP-STAND", "42.00"),
    ("SSD-1TB", "74.90"),
    ("DESK-LAMP-LED", "27.50"),
)
CITIES = (
    ("Berlin", "10115", "DE"),
    ("Lyon", "69001", "FR"),
    ("Leeds", "LS1 4AP", "GB"),
    ("Utrecht", "3511 AB", "NL"),
    ("Porto", "4000-322", "PT"),
    ("Austin", "78701", "US"),
)
NAMES = ("Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Margaret")
Progress = Callable[[int, int], None]


@dataclass(frozen=True, kw_only=True, slots=True)
class SeedReport:
    orders: int
    commands: int
    last_position: int


async def seed(
    bus: CommandBus,
    *,
    orders: int,
    customers: int,
    days: int = 60,
    rng_seed: int = 7,
    concurrency: int = 512,
    progress: Progress | None = None,
) -> SeedReport:
    """Place `orders` orders for `customers` customers over the last `days` days, then confirm,
    ship or cancel some of them, all through the bus.

    `concurrency` orders are under way at once, so the bus commits their commands together
    (group commit): on SQLite 512 place about twice as many orders a second as 64 (the batches
    reach the bus's 256), and 1,024 no more. Each order's data is drawn from the seeded random
    generator in order, whichever worker places it."""
    if orders < 1 or customers < 1:
        raise ValueError("seed needs at least one order and one customer")
    rng = random.Random(rng_seed)
    now = datetime.now(UTC)
    done = commands = last = 0

    async def send(command: Command) -> CommandResult:
        nonlocal commands, last
        result = await bus.dispatch(command)
        commands += 1
        last = max(last, result.position)
        return result

    async def one(index: int) -> None:
        nonlocal done
        placed_at = now - timedelta(days=days * (orders - index) / orders)
        customer = f"customer-{rng.randrange(customers) + 1:04d}"
        name, city = rng.choice(NAMES), rng.choice(CITIES)
        picks = rng.sample(CATALOG, rng.randint(1, 4))
        create = CreateOrder(
            command_id=f"seed-{uuid.uuid4().hex}",
            issued_at=placed_at,
            customer_id=customer,
            lines=tuple(
                OrderLine(sku=sku, quantity=rng.randint(1, 3), unit_price=Decimal(price))
                for sku, price in picks
            ),
            shipping_address=Address(
                name=f"{name} {customer[-4:]}",
                line1=f"{rng.randint(1, 200)} Main Street",
                city=city[0],
                postal_code=city[1],
                country=city[2],
            ),
        )
        fate = rng.random()
        later = placed_at + timedelta(hours=rng.randint(1, 48))
        shipped = later + timedelta(hours=rng.randint(1, 48))
        order_id = (await send(create)).order_id
        if fate < 0.1:
            await send(CancelOrder(**_envelope(later), order_id=order_id, reason="Changed my mind"))
        elif fate < 0.8:
            await send(ConfirmOrder(**_envelope(later), order_id=order_id))
            if fate < 0.5:
                await send(
                    ShipOrder(
                        **_envelope(shipped), order_id=order_id, tracking_number=f"TRK{index:08d}"
                    )
                )
        done += 1
        if progress is not None:
            progress(done, orders)

    indices = iter(range(orders))  # shared: each worker takes the next order

    async def worker() -> None:
        for index in indices:
            await one(index)

    await asyncio.gather(*(worker() for _ in range(min(concurrency, orders))))
    return SeedReport(orders=orders, commands=commands, last_position=last)


def _envelope(at: datetime) -> dict[str, Any]:
    return {"command_id": f"seed-{uuid.uuid4().hex}", "issued_at": min(at, datetime.now(UTC))}


__all__ = ["SeedReport", "seed"]
