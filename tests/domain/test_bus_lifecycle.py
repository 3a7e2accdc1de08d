"""The bus's life and routing: start, stop, unregistered commands, cancelled callers."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest

from domain.bus import BusNotRunning, CommandBus, UnknownCommand
from domain.commands import (
    Command,
)
from domain.handlers import (
    build_command_bus,
)
from tests.support.domain import (
    NOW,
    Store,
    command_id,
    create,
    running,
)

# --- the bus's life and routing -----------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class Unregistered(Command):
    pass


async def test_an_unregistered_command_type_is_refused_clearly(bus: CommandBus) -> None:
    with pytest.raises(UnknownCommand, match="no handler is registered for Unregistered"):
        await bus.dispatch(Unregistered(command_id=command_id(), issued_at=NOW))


def is_running(bus: CommandBus) -> bool:
    return bus.running


async def test_dispatch_outside_start_and_stop_is_refused(store: Store) -> None:
    bus = build_command_bus(store)
    assert not is_running(bus)
    with pytest.raises(BusNotRunning):
        await bus.dispatch(create())
    async with running(bus):
        assert is_running(bus)
        await bus.dispatch(create())
    assert not is_running(bus)
    with pytest.raises(BusNotRunning):
        await bus.dispatch(create())
    async with running(bus):
        assert (await bus.dispatch(create())).position == 2
    assert await store.head_position() == 2


async def test_stop_commits_what_is_queued(store: Store) -> None:
    bus = build_command_bus(store, max_batch=4)
    await bus.start()
    pending = [asyncio.create_task(bus.dispatch(create())) for _ in range(10)]
    await asyncio.sleep(0)
    await bus.stop()
    done = await asyncio.gather(*pending)
    assert sorted(result.position for result in done) == list(range(1, 11))
    assert await store.head_position() == 10


async def test_a_cancelled_caller_does_not_stop_its_command(bus: CommandBus, store: Store) -> None:
    command = create()
    waiting = asyncio.create_task(bus.dispatch(command))
    await asyncio.sleep(0)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    retried = await bus.dispatch(command)
    assert retried.position == 1
    assert await store.head_position() == 1
