"""The read steps every read field shares: wait for its projections when asked (by the field's
`minPosition` or the session's: graph/api/session.py), then ask; what each read reflects goes
into the request's freshness report and its session position."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, TypeVar

from graph.api.context import given
from graph.api.freshness import timeout_seconds
from readmodels.freshness import MinPosition

if TYPE_CHECKING:
    from graph.api.context import Context, Info
    from readmodels.dto import WaitResult
    from readmodels.queries import Query

R = TypeVar("R")


async def wait_for_projections(
    context: Context, names: Sequence[str], min_position: int | None, timeout_ms: int | None
) -> None:
    """Wait until `names` have applied `min_position` (never without one) and log the outcome."""
    timeout = timeout_seconds(context.settings, timeout_ms)
    if min_position is None:
        return
    _record(context, await context.runner.wait_for(names, min_position, timeout))


async def read(
    context: Context,
    projection: str,
    query: Query[R],
    min_position: int | None,
    timeout_ms: int | None,
) -> R:
    """`query`'s answer, reflecting at least the larger of `min_position` and the session's
    minimum when either is given (waiting at most `timeoutMs`; on a replica too:
    `readmodels/freshness.py`), what it reflects logged."""
    timeout = timeout_seconds(context.settings, timeout_ms)
    position = context.session.at_least(min_position)
    if position is None:
        floor = context.query_bus.floor(projection)
        found = await context.query_bus.ask(query)
        if floor is not None:
            context.session.read(floor)
        return found
    at = MinPosition(projections=(projection,), position=position, timeout=timeout)
    answered = await context.query_bus.answer(query, at)
    if answered.freshness is not None:
        _record(context, answered.freshness)
    return answered.answer


async def answer(
    info: Info,
    projection: str,
    query: Query[R],
    min_position: int | None,
    timeout_ms: int | None,
) -> R:
    """`read` with a field's arguments, which may be Strawberry's UNSET."""
    return await read(info.context, projection, query, given(min_position), given(timeout_ms))


def _record(context: Context, result: WaitResult) -> None:
    context.services.on_wait(result.stale)
    context.freshness.record(result)
    context.session.proved(result)


__all__ = ["answer", "read", "wait_for_projections"]
