"""The commit hook that keeps the projections current inside the event store's append."""

from __future__ import annotations

from typing import TYPE_CHECKING

from readmodels.runner.projector import Share

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from sqlalchemy.ext.asyncio import AsyncConnection

    from domain.ports import RecordedEvent
    from readmodels.runner.projector import Projector
    from readmodels.runner.slot import Slot


class InWriterTransaction:
    """Keeps the projections current inside the event store's append transaction.

    Each batch goes to every projection exactly at the batch's start (`Slot.current_at`), in
    two statements on PostgreSQL whatever their number (see `projector.py`). A projection that
    is behind, moved by a rebuild or another process, failed, rebuilding or stopped, or whose
    events raise, is left to the runner's own task. An error of the database raises: the store
    then appends the batch without the views (or, for a fault, not at all).
    """

    def __init__(self, slots: Sequence[Slot], projector: Projector) -> None:
        self._slots = slots
        self._projector = projector

    async def __call__(
        self, conn: AsyncConnection, head: int, recorded: list[RecordedEvent]
    ) -> Callable[[], None] | None:
        shares = [Share(slot, recorded) for slot in self._slots if slot.current_at(head)]
        if not shares:
            return None
        await self._projector.apply(conn, shares)
        for share in shares:
            if share.moved_to is not None:
                share.slot.settle_at(share.moved_to)
        done = [(share.slot, share.applied) for share in shares if share.applied is not None]

        def committed() -> None:
            for slot, applied in done:
                self._projector.committed(slot, applied)

        return committed


__all__ = ["InWriterTransaction"]
