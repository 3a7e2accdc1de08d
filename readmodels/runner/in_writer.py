"""The commit hook that keeps the projections current inside the event store's append."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from domain.storage.faults import fault_of

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from sqlalchemy.ext.asyncio import AsyncConnection

    from domain.ports import RecordedEvent
    from readmodels.runner.projector import Applied, Projector
    from readmodels.runner.slot import Slot

logger = logging.getLogger(__name__)


class InWriterTransaction:
    """Keeps the projections current inside the event store's append transaction.

    Each batch is applied under one SAVEPOINT: if a projection raises, the savepoint is rolled
    back, the append commits all the same, and the runner's own task applies (or fails on) those
    events later; a fault of the database (see `domain.storage.faults`) fails the append. A
    projection that is not exactly at the batch's start (behind, or moved by a rebuild),
    failed, rebuilding or stopped is skipped here for the same reason.
    """

    def __init__(self, slots: Sequence[Slot], projector: Projector) -> None:
        self._slots = slots
        self._projector = projector

    async def __call__(
        self, conn: AsyncConnection, head: int, recorded: list[RecordedEvent]
    ) -> Callable[[], None] | None:
        slots = [slot for slot in self._slots if slot.current_at(head)]
        if not slots:
            return None
        done: list[tuple[Slot, Applied]] = []
        try:
            async with conn.begin_nested():
                for slot in slots:
                    applied = await self._projector.apply_in(conn, slot, recorded)
                    if applied is not None:
                        done.append((slot, applied))
        except Exception as error:
            if fault_of(error) is not None:
                raise  # the database failed, not a projection: so does the append
            logger.warning(
                "applying positions %d-%d in the writer's transaction failed; the runner will",
                recorded[0].position,
                recorded[-1].position,
                exc_info=True,
            )
            return None

        def committed() -> None:
            for slot, applied in done:
                self._projector.committed(slot, applied)

        return committed


__all__ = ["InWriterTransaction"]
