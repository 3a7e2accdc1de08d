"""On PostgreSQL, with the views kept in the writer's transaction (production wiring), a batch
costs the same few round trips whatever its size: BEGIN, the idempotency lookup (and the
streams, when commands touch existing orders), the append lock, the append, one read of every
view's checkpoint and rows, one write of every view's rows, checkpoint and NOTIFY, COMMIT."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import event

from domain.commands import Command
from tests.support.domain import add, cancel, confirm, create
from tests.support.readmodels import Service, running_service

MOST_ROUND_TRIPS = 8


async def round_trips_of_one_batch(service: Service, commands: list[Command]) -> list[str]:
    """What the write connection sent in the append transaction that committed `commands`
    (one batch), BEGIN and COMMIT included, each statement by its first words."""
    engine = service.db.write_engine.sync_engine
    open_: dict[int, list[str]] = {}
    appends: list[list[str]] = []

    def begin(conn: Any) -> None:
        open_[id(conn)] = ["begin"]

    def statement(conn: Any, _cursor: Any, sql: str, *_rest: Any) -> None:
        open_.setdefault(id(conn), []).append(" ".join(sql.split()[:3]).lower())

    def commit(conn: Any) -> None:
        sent = [*open_.pop(id(conn), []), "commit"]
        if "with head as" in sent:  # the append (the runner's and the probes' are others)
            appends.append(sent)

    listeners = (("begin", begin), ("before_cursor_execute", statement), ("commit", commit))
    for name, listener in listeners:
        event.listen(engine, name, listener)
    try:
        await asyncio.gather(*(service.bus.dispatch(command) for command in commands))
    finally:
        for name, listener in listeners:
            event.remove(engine, name, listener)
    (sent,) = appends
    return sent


async def test_a_batch_of_creates_costs_seven_round_trips_for_1_and_for_40(
    postgres_url: str,
) -> None:
    async with running_service(postgres_url) as service:
        await service.bus.dispatch(create())  # warm: the views are current at the head
        one = await round_trips_of_one_batch(service, [create()])
        many = await round_trips_of_one_batch(service, [create() for _ in range(40)])
    assert one == many
    assert one == [
        "begin",
        "select command.command_id, command.fingerprint,",
        "select pg_advisory_xact_lock($1)",
        "with head as",
        "select 0 as",
        "with q0 as",
        "commit",
    ]


async def test_a_batch_of_every_kind_of_command_costs_at_most_eight_round_trips(
    postgres_url: str,
) -> None:
    async with running_service(postgres_url) as service:
        orders = [(await service.bus.dispatch(create())).order_id for _ in range(30)]
        commands: list[Command] = [create() for _ in range(10)]
        commands += [confirm(order_id) for order_id in orders[:10]]
        commands += [add(order_id) for order_id in orders[10:20]]
        commands += [cancel(order_id) for order_id in orders[20:]]
        sent = await round_trips_of_one_batch(service, commands)
        head = service.store.committed.head
        views = [service.runner.position(name) for name in service.runner.leading()]
    assert len(sent) <= MOST_ROUND_TRIPS, sent
    assert sent.count("commit") == 1
    assert views == [head] * len(views)  # applied in the writer's transaction
