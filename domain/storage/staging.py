"""What every backend's append batch does the same way: stage, remember, mark and roll back.

A backend subclasses `StagingBatch` and says how to read what is already committed
(`_fetch_streams`, `_fetch_commands`, `_fetch_version`); the staged events and command records
then live here until the backend writes them on commit.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Generic, TypeVar

from domain.commands import CommandResult
from domain.errors import ConcurrencyConflict
from domain.events import Event
from domain.ports import (
    AppendBatch,
    CommitHook,
    EventMetadata,
    HandledCommand,
    Mark,
    RecordedEvent,
)

TxT = TypeVar("TxT")


class BatchRaced(Exception):
    """Another process appended after this batch read the head it staged on (PostgreSQL takes
    the append lock only for the insert): nothing was written; run the batch again. The store
    takes the lock first for a while after one, so the next run does not race."""

    def __init__(self, head: int) -> None:
        super().__init__(f"another process appended up to position {head} first")
        self.head = head


class StagingBatch:
    """The events and command records staged in one write transaction, before they are written."""

    def __init__(self, head: int, now: datetime) -> None:
        self.head = head
        self._now = now
        self._recorded: list[RecordedEvent] = []
        self._handled: dict[str, HandledCommand] = {}
        self._versions: dict[str, int] = {}
        # What was read of the committed log: events by stream, stored commands, ids looked up.
        self._committed: dict[str, list[Event]] = {}
        self._stored: dict[str, HandledCommand] = {}
        self._looked_up: set[str] = set()

    async def _fetch_streams(self, stream_ids: list[str]) -> dict[str, list[Event]]:
        """The committed events of these streams in version order (missing streams left out)."""
        raise NotImplementedError

    async def _fetch_commands(self, command_ids: list[str]) -> dict[str, HandledCommand]:
        """The stored records of these commands (unknown ids left out)."""
        raise NotImplementedError

    async def _fetch_version(self, stream_id: str) -> int:
        """The committed version of one stream (0 when it does not exist)."""
        raise NotImplementedError

    @property
    def last_position(self) -> int:
        """The position of the last staged event (the head when nothing is staged)."""
        return self.head + len(self._recorded)

    @property
    def recorded(self) -> list[RecordedEvent]:
        return list(self._recorded)

    @property
    def handled(self) -> list[HandledCommand]:
        """The command records staged in this batch, in the order they were remembered."""
        return list(self._handled.values())

    async def prefetch(self, command_ids: Iterable[str], stream_ids: Iterable[str]) -> None:
        """Read, in one go each, the handled commands and the streams a batch will ask for."""
        ids = list(dict.fromkeys(command_ids))
        self._stored.update(await self._fetch_commands(ids))
        self._looked_up.update(ids)
        streams = [sid for sid in dict.fromkeys(stream_ids) if sid not in self._committed]
        found = await self._fetch_streams(streams)
        for sid in streams:
            self._committed[sid] = found.get(sid, [])

    async def load_stream(self, stream_id: str) -> list[Event]:
        """The stream's events as of this transaction, staged ones included."""
        if stream_id not in self._committed:
            found = await self._fetch_streams([stream_id])
            self._committed[stream_id] = found.get(stream_id, [])
        events = list(self._committed[stream_id])
        events.extend(r.event for r in self._recorded if r.stream_id == stream_id)
        self._versions[stream_id] = len(events)
        return events

    async def stream_version(self, stream_id: str) -> int:
        """The stream's version as of this transaction (0 when it does not exist)."""
        if stream_id not in self._versions:
            self._versions[stream_id] = await self._fetch_version(stream_id)
        return self._versions[stream_id]

    def stage(
        self,
        stream_id: str,
        events: Sequence[Event],
        *,
        expected_version: int,
        command_id: str,
        correlation_id: str | None,
    ) -> list[RecordedEvent]:
        """Stage events at the end of a stream that must be at `expected_version`."""
        actual = self._versions.get(stream_id, 0)
        if actual != expected_version:
            raise ConcurrencyConflict(stream_id, expected=expected_version, actual=actual)
        metadata = EventMetadata(
            command_id=command_id,
            correlation_id=correlation_id,
            causation_id=command_id,
            recorded_at=self._now,
        )
        staged = [
            RecordedEvent(
                position=self.last_position + offset,
                stream_id=stream_id,
                version=expected_version + offset,
                event=event,
                metadata=metadata,
            )
            for offset, event in enumerate(events, start=1)
        ]
        self._staged(staged)
        self._recorded.extend(staged)
        self._versions[stream_id] = expected_version + len(events)
        return staged

    def _staged(self, recorded: list[RecordedEvent]) -> None:
        """Called with each stage's events before they join the batch (a backend may encode
        them here, so that an event it cannot store fails only its own command)."""

    async def find_command(self, command_id: str) -> HandledCommand | None:
        """A command handled before, in this batch or an earlier commit."""
        if command_id in self._handled:
            return self._handled[command_id]
        if command_id in self._looked_up:
            return self._stored.get(command_id)
        return (await self._fetch_commands([command_id])).get(command_id)

    def remember(self, fingerprint: str, result: CommandResult) -> None:
        """Record a successful command's result in this transaction, for idempotent retries."""
        self._handled[result.command_id] = HandledCommand(fingerprint=fingerprint, result=result)

    def mark(self) -> Mark:
        return Mark(len(self._recorded), len(self._handled), dict(self._versions))

    def rollback(self, mark: Mark) -> None:
        """Drop everything staged since `mark`."""
        del self._recorded[mark.events :]
        for command_id in list(self._handled)[mark.commands :]:
            del self._handled[command_id]
        self._versions = mark.versions


async def run_commit_hooks(
    hooks: Iterable[CommitHook[TxT]], tx: TxT, batch: AppendBatch
) -> list[Callable[[], None]]:
    """Run each hook in the append transaction; return what to call once it has committed."""
    recorded = batch.recorded
    committed: list[Callable[[], None]] = []
    if recorded:
        for hook in hooks:
            if (then := await hook(tx, batch.head, recorded)) is not None:
                committed.append(then)
    return committed


class StagingStore(Generic[TxT]):
    """What every store does the same way on top of its own `transaction()`: one-stream appends
    and the commit hooks it keeps (`TxT` is the handle its hooks get)."""

    def __init__(self) -> None:
        self._hooks: list[CommitHook[TxT]] = []

    def transaction(self) -> AbstractAsyncContextManager[AppendBatch]:
        """One write transaction; what is staged in it is appended atomically on exit."""
        raise NotImplementedError

    def add_commit_hook(self, hook: CommitHook[TxT]) -> None:
        """Run `hook` in every append transaction of this store (see CommitHook)."""
        self._hooks.append(hook)

    async def append(
        self,
        stream_id: str,
        events: Sequence[Event],
        *,
        expected_version: int | None = None,
        command_id: str | None = None,
        correlation_id: str | None = None,
    ) -> list[RecordedEvent]:
        """Append events to one stream atomically; a version mismatch raises ConcurrencyConflict."""
        while True:
            try:
                async with self.transaction() as batch:
                    current = await batch.stream_version(stream_id)
                    if expected_version is not None and expected_version != current:
                        raise ConcurrencyConflict(
                            stream_id, expected=expected_version, actual=current
                        )
                    return batch.stage(
                        stream_id,
                        events,
                        expected_version=current,
                        command_id=command_id or f"append-{stream_id}-{current}",
                        correlation_id=correlation_id,
                    )
            except BatchRaced:
                continue  # another process appended first: read the stream again


__all__ = ["BatchRaced", "StagingBatch", "StagingStore", "run_commit_hooks"]
