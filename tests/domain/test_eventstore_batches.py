"""The event-store contract on every backend: what one write batch sees and keeps (staged
streams, idempotency records, marks) and the hooks that run inside its transaction."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from domain.commands import CommandResult
from domain.errors import ConcurrencyConflict
from domain.events import Event
from domain.ports import (
    AppendBatch,
    EventStore,
    HandledCommand,
    RecordConflict,
    RecordedEvent,
)
from tests.support.domain import Backend, Boom, Store, confirmed, placed, shipped


def stage(batch: AppendBatch, stream: str, event: Event, version: int, command_id: str) -> None:
    batch.stage(
        stream, [event], expected_version=version, command_id=command_id, correlation_id=None
    )


async def remember_then_fail(store: Store, command_id: str) -> None:
    async with store.transaction() as batch:
        batch.remember("f-1", result(command_id, 1))
        raise Boom


async def remember(store: Store, fingerprint: str, handled: CommandResult) -> None:
    async with store.transaction() as batch:
        batch.remember(fingerprint, handled)


def result(command_id: str, position: int) -> CommandResult:
    return CommandResult(command_id=command_id, order_id="a", version=position, position=position)


async def test_every_backend_implements_the_event_store_port(store: Store) -> None:
    port: EventStore = store  # checked by mypy
    assert await port.head_position() == port.committed.head == 0


async def test_a_batch_sees_what_it_staged(store: Store) -> None:
    await store.append("a", [placed("a")])
    async with store.transaction() as batch:
        await batch.prefetch(["c-1"], ["a", "b"])
        assert await batch.load_stream("a") == [placed("a")]
        assert await batch.load_stream("b") == []
        stage(batch, "a", confirmed("a"), 1, "c-1")
        assert await batch.load_stream("a") == [placed("a"), confirmed("a")]
        assert await batch.stream_version("a") == 2
        assert (batch.head, batch.last_position) == (1, 2)
        assert [r.position for r in batch.recorded] == [2]
    assert [r.version for r in await store.read_stream("a")] == [1, 2]


async def test_staging_at_a_stale_version_is_a_concurrency_conflict(store: Store) -> None:
    await store.append("a", [placed("a"), confirmed("a")])
    async with store.transaction() as batch:
        await batch.load_stream("a")
        with pytest.raises(ConcurrencyConflict) as conflict:
            stage(batch, "a", shipped("a"), 1, "c")
        assert (conflict.value.expected, conflict.value.actual) == (1, 2)
    assert await store.head_position() == 2


async def test_rolling_back_to_a_mark_drops_only_what_came_after(store: Store) -> None:
    async with store.transaction() as batch:
        await batch.load_stream("a")
        stage(batch, "a", placed("a"), 0, "c-1")
        batch.remember("f-1", result("c-1", 1))
        mark = batch.mark()
        stage(batch, "a", confirmed("a"), 1, "c-2")
        batch.remember("f-2", result("c-2", 2))
        batch.rollback(mark)
        assert await batch.find_command("c-2") is None
        assert await batch.stream_version("a") == 1
        stage(batch, "a", shipped("a"), 1, "c-3")
    assert [(r.position, type(r.event)) for r in await store.read_all()] == [
        (1, type(placed())),
        (2, type(shipped())),
    ]


async def test_idempotency_records_are_found_in_the_batch_and_after_the_commit(
    backend: Backend,
) -> None:
    handled = HandledCommand(fingerprint="f-1", result=result("c-1", 1))
    async with backend.open() as store:
        async with store.transaction() as batch:
            assert await batch.find_command("c-1") is None
            await batch.load_stream("a")
            stage(batch, "a", placed("a"), 0, "c-1")
            batch.remember("f-1", handled.result)
            assert await batch.find_command("c-1") == handled
        async with store.transaction() as batch:
            assert await batch.find_command("c-1") == handled
            await batch.prefetch(["c-1", "c-2"], [])
            assert await batch.find_command("c-1") == handled
            assert await batch.find_command("c-2") is None
    async with backend.open() as reopened, reopened.transaction() as batch:
        assert await batch.find_command("c-1") == handled


async def test_a_rolled_back_transaction_keeps_no_idempotency_record(store: Store) -> None:
    with pytest.raises(Boom):
        await remember_then_fail(store, "c-1")
    async with store.transaction() as batch:
        assert await batch.find_command("c-1") is None


async def test_a_command_id_recorded_twice_is_refused(store: Store) -> None:
    await remember(store, "f-1", result("c-1", 1))
    with pytest.raises(RecordConflict):
        await remember(store, "f-2", result("c-1", 2))
    async with store.transaction() as batch:
        handled = await batch.find_command("c-1")
        assert handled is not None
        assert handled.fingerprint == "f-1"


async def test_commit_hooks_run_in_the_transaction_and_then_after_the_commit(
    store: Store,
) -> None:
    seen: list[tuple[int, list[int], int]] = []
    after: list[int] = []

    async def hook(tx: object, head: int, recorded: list[RecordedEvent]) -> Callable[[], None]:
        seen.append((head, [r.position for r in recorded], store.committed.head))
        return lambda: after.append(store.committed.head)

    store.add_commit_hook(hook)
    await store.append("a", [placed("a"), confirmed("a")])
    async with store.transaction():
        pass
    await store.append("b", [placed("b")])
    assert seen == [(0, [1, 2], 0), (2, [3], 2)], "never called for an empty batch"
    assert after == [2, 3]


async def test_a_failing_commit_hook_leaves_the_batch_to_be_appended_without_it(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    called: list[int] = []

    async def hook(tx: object, head: int, recorded: list[RecordedEvent]) -> Callable[[], None]:
        if head == 0:
            raise Boom
        return lambda: called.append(head)

    store.add_commit_hook(hook)
    first = await store.append("a", [placed("a")])
    assert [e.position for e in first] == [1]
    assert await store.head_position() == 1 == store.committed.head
    assert [e.position for e in await store.read_stream("a")] == [1]
    assert "without it" in caplog.text
    await store.append("b", [placed("b")])
    assert called == [1], "a hook that did not raise runs as before"
