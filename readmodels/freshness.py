"""Where a read runs, and the proof that it is fresh enough.

Without replicas every read runs on the views database's read pool; a read with a minimum
position first waits until the views database's projections have applied it (this process
follows them: its own commits, and the other processes' NOTIFY messages).

With replicas a read without a minimum position runs on a replica as it is. A read with one
waits for the views database as above, then proves its freshness on a replica in its own
snapshot (`Replica.snapshot`): when the replica's checkpoints there have reached the position,
the reader runs in that very transaction; when not, it tries again after a short, growing pause,
for at most `Replicas.wait` and never past the read's own timeout, and then the views database
answers it. A replica that fails is skipped. So a read never reflects less than it asked for,
wherever it ran, and `Answered.freshness` says what it reflects.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from readmodels.dto import WaitResult
from readmodels.replicas import REPLICA_FAILURES, ReplicaRead

if TYPE_CHECKING:
    from readmodels.readers.answers import ReadDatabase
    from readmodels.replicas import Replica, Replicas

R = TypeVar("R")

# Pauses between two looks at a lagging replica: from the first, doubling up to the last.
FIRST_PAUSE_SECONDS = 0.001
LONGEST_PAUSE_SECONDS = 0.025


@dataclass(frozen=True, kw_only=True, slots=True)
class MinPosition:
    """What a read needs: `projections` have applied `position`; wait at most `timeout` s."""

    projections: tuple[str, ...]
    position: int
    timeout: float


@dataclass(frozen=True, kw_only=True, slots=True)
class Answered(Generic[R]):
    """A read's answer and, for a read with a minimum position, what it reflects: `reached`
    is the position each projection had applied in what the read saw (at least), `stale` that
    it is less than `requested` (the wait timed out)."""

    answer: R
    freshness: WaitResult | None


class Progress(Protocol):
    """How far the views database's projections are (the projection runner)."""

    def position(self, name: str) -> int: ...

    async def wait_for(self, names: Iterable[str], position: int, timeout: float) -> WaitResult: ...


class FreshReads:
    """Runs readers on the views database (`primary`) or on `replicas`, as fresh as asked."""

    def __init__(
        self, primary: ReadDatabase, progress: Progress, replicas: Replicas | None = None
    ) -> None:
        self.primary = primary
        self.progress = progress
        self.replicas = replicas

    def latest(self, projection: str, timeout: float) -> MinPosition:
        """At least what the views database has applied to `projection` now."""
        return MinPosition(
            projections=(projection,), position=self.progress.position(projection), timeout=timeout
        )

    def floor(self, projection: str) -> int | None:
        """What a read of `projection` without a minimum position is known to reflect: what
        the views database has applied now, when reads run there; None when they may run on
        a replica (which proves nothing without a minimum)."""
        return self.progress.position(projection) if self.replicas is None else None

    async def run(
        self,
        reader: Callable[[ReadDatabase, Any], Awaitable[R]],
        query: Any,
        at: MinPosition | None,
    ) -> Answered[R]:
        """`reader`'s answer to `query`, reflecting at least `at`."""
        if at is None:
            return Answered(answer=await self._anywhere(reader, query), freshness=None)
        loop = asyncio.get_running_loop()
        started = loop.time()
        waited = await self.progress.wait_for(at.projections, at.position, at.timeout)
        if self.replicas is None:
            return Answered(answer=await reader(self.primary, query), freshness=waited)
        if waited.stale:
            # The views database has not got there either: it answers, as fresh as it is.
            self.replicas.observe(ReplicaRead(outcome="fallback_lag", replica=None))
            return Answered(answer=await reader(self.primary, query), freshness=waited)
        deadline = min(started + at.timeout, loop.time() + self.replicas.wait)
        return await self._proven(reader, query, at, waited, deadline)

    async def _anywhere(self, reader: Callable[[ReadDatabase, Any], Awaitable[R]], query: Any) -> R:
        """A read with no minimum position: a replica's answer, else the views database's."""
        replicas = self.replicas
        if replicas is None:
            return await reader(self.primary, query)
        while (replica := replicas.pick()) is not None:
            try:
                answer = await reader(replica, query)
            except REPLICA_FAILURES as error:
                replicas.failed(replica, error)
                continue
            replicas.answered(replica)
            replicas.observe(ReplicaRead(outcome="replica", replica=replica.name))
            return answer
        replicas.observe(ReplicaRead(outcome="fallback_down", replica=None))
        return await reader(self.primary, query)

    async def _proven(
        self,
        reader: Callable[[ReadDatabase, Any], Awaitable[R]],
        query: Any,
        at: MinPosition,
        waited: WaitResult,
        deadline: float,
    ) -> Answered[R]:
        """The answer of a replica whose snapshot has reached `at.position`, or the views
        database's once none has by `deadline` (or none is up)."""
        replicas = self.replicas
        assert replicas is not None
        loop = asyncio.get_running_loop()
        ready = loop.time()
        pause = FIRST_PAUSE_SECONDS
        while (replica := replicas.pick()) is not None:
            try:
                reached, answered = await self._in_snapshot(replica, reader, query, at)
            except REPLICA_FAILURES as error:
                replicas.failed(replica, error)
                continue
            replicas.answered(replica)
            late = answered is None and loop.time() >= deadline
            if answered is not None or late:
                replicas.observe(
                    ReplicaRead(
                        outcome="replica" if answered is not None else "fallback_lag",
                        replica=replica.name,
                        waited=loop.time() - ready,
                        behind=max(0, min(waited.reached.values()) - reached),
                    )
                )
            if answered is not None:
                return answered
            if late:
                return Answered(answer=await reader(self.primary, query), freshness=waited)
            await asyncio.sleep(min(pause, deadline - loop.time()))
            pause = min(pause * 2, LONGEST_PAUSE_SECONDS)
        replicas.observe(ReplicaRead(outcome="fallback_down", replica=None))
        return Answered(answer=await reader(self.primary, query), freshness=waited)

    @staticmethod
    async def _in_snapshot(
        replica: Replica,
        reader: Callable[[ReadDatabase, Any], Awaitable[R]],
        query: Any,
        at: MinPosition,
    ) -> tuple[int, Answered[R] | None]:
        """The lowest checkpoint of `at.projections` in one snapshot of `replica`, and the
        reader's answer in that snapshot when it has reached `at.position`."""
        async with replica.snapshot(at.projections) as (snapshot, checkpoints):
            reached = min(checkpoints.values())
            if reached < at.position:
                return reached, None
            answer = await reader(snapshot, query)
        freshness = WaitResult(stale=False, requested=at.position, reached=checkpoints)
        return reached, Answered(answer=answer, freshness=freshness)


__all__ = ["Answered", "FreshReads", "MinPosition", "Progress"]
