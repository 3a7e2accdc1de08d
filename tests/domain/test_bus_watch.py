"""The bus's BatchWatch, the neutral hook traces use: each dispatch is wrapped in its caller's
task and yields a mark; each batch's transaction is wrapped in the writer's task and given the
marks of exactly the commands it commits, in order (group commit: many commands, one batch)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import pytest

from domain.bus import CommandBus
from domain.commands import Command
from domain.errors import ValidationFailed
from tests.support.domain import create, line


class Recorder:
    """A BatchWatch that notes what it is told."""

    def __init__(self) -> None:
        self.dispatched: list[str] = []
        self.ended: list[tuple[str, str]] = []
        self.batches: list[list[object]] = []
        self.tasks: set[asyncio.Task[object] | None] = set()

    @contextmanager
    def dispatching(self, command: Command) -> Iterator[object]:
        self.dispatched.append(command.command_id)
        try:
            yield f"mark {command.command_id}"
        except Exception as error:
            self.ended.append((command.command_id, type(error).__name__))
            raise
        self.ended.append((command.command_id, "ok"))

    @contextmanager
    def committing(self, marks: Sequence[object]) -> Iterator[None]:
        self.batches.append(list(marks))
        self.tasks.add(asyncio.current_task())
        yield


async def test_a_batch_is_given_the_marks_of_the_commands_it_commits(bus: CommandBus) -> None:
    watch = Recorder()
    bus.watch(watch)
    commands = [create() for _ in range(5)]
    await asyncio.gather(*(bus.dispatch(command) for command in commands))
    ids = [command.command_id for command in commands]
    assert watch.dispatched == ids
    assert sorted(watch.ended) == sorted((command_id, "ok") for command_id in ids)
    assert [mark for batch in watch.batches for mark in batch] == [f"mark {i}" for i in ids]
    assert len(watch.batches) < len(ids)  # group commit: fewer batches than commands
    assert asyncio.current_task() not in watch.tasks  # batches run in the writer's task


async def test_a_refused_dispatch_ends_its_watch_with_its_error(bus: CommandBus) -> None:
    watch = Recorder()
    bus.watch(watch)
    refused = create(lines=(line(quantity=0),))
    with pytest.raises(ValidationFailed):
        await bus.dispatch(refused)
    assert watch.ended == [(refused.command_id, "ValidationFailed")]
    assert watch.batches == []  # refused by the input rules, before any batch
