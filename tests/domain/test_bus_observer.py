"""Observers of the command bus: one outcome per dispatch, whatever became of the command."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from domain.bus import CommandBus, CommandOutcome, UnknownCommand
from domain.commands import Command
from domain.errors import OrderNotFound, ValidationFailed
from domain.handlers import build_command_bus
from tests.support.domain import NOW, Store, command_id, confirm, create, line


@dataclass(frozen=True, kw_only=True, slots=True)
class Unregistered(Command):
    pass


async def test_every_dispatch_is_observed_once_with_its_outcome(bus: CommandBus) -> None:
    seen: list[CommandOutcome] = []
    bus.observe(seen.append)
    created = await bus.dispatch(create())
    bad_input = create(lines=(line(quantity=0),))
    with pytest.raises(ValidationFailed):
        await bus.dispatch(bad_input)
    missing = confirm("missing")
    with pytest.raises(OrderNotFound):
        await bus.dispatch(missing)
    unknown = Unregistered(command_id=command_id(), issued_at=NOW)
    with pytest.raises(UnknownCommand):
        await bus.dispatch(unknown)
    assert [(o.command.command_id, o.outcome) for o in seen] == [
        (created.command_id, "ok"),
        (bad_input.command_id, "BAD_USER_INPUT"),
        (missing.command_id, "NOT_FOUND"),
        (unknown.command_id, "INTERNAL_SERVER_ERROR"),
    ]
    assert all(0 <= outcome.seconds < 5 for outcome in seen)


async def test_a_command_refused_when_the_bus_is_stopped_is_observed(
    store: Store,
) -> None:
    bus = build_command_bus(store)
    seen: list[CommandOutcome] = []
    bus.observe(seen.append)
    with pytest.raises(RuntimeError):
        await bus.dispatch(create())
    assert [outcome.outcome for outcome in seen] == ["INTERNAL_SERVER_ERROR"]


async def test_a_failing_observer_never_fails_the_dispatch(
    bus: CommandBus, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[str] = []

    def broken(outcome: CommandOutcome) -> None:
        raise RuntimeError("the observer broke")

    bus.observe(broken)
    bus.observe(lambda outcome: seen.append(outcome.outcome))
    with caplog.at_level("ERROR", logger="ordergraph.commands"):
        result = await bus.dispatch(create())
    assert result.version == 1
    assert seen == ["ok"]
    assert any("observer" in record.getMessage() for record in caplog.records)
