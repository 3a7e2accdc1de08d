"""The read steps every read field shares: wait for its projections when asked, then ask."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, TypeVar

from graph.api.context import given
from graph.api.freshness import timeout_seconds

if TYPE_CHECKING:
    from graph.api.context import Context, Info
    from readmodels.queries import Query

R = TypeVar("R")


async def wait_for_projections(
    context: Context, names: Sequence[str], min_position: int | None, timeout_ms: int | None
) -> None:
    """Wait until `names` have applied `min_position` (never without one) and log the outcome."""
    timeout = timeout_seconds(context.settings, timeout_ms)
    if min_position is None:
        return
    result = await context.runner.wait_for(names, min_position, timeout)
    context.services.on_wait(result.stale)
    context.freshness.record(result)


async def answer(
    info: Info,
    projection: str,
    query: Query[R],
    min_position: int | None,
    timeout_ms: int | None,
) -> R:
    """`query`'s answer once `projection` has applied `min_position` (when the client gave
    one, at most `timeoutMs`); the arguments may be Strawberry's UNSET."""
    await wait_for_projections(info.context, (projection,), given(min_position), given(timeout_ms))
    return await info.context.query_bus.ask(query)


__all__ = ["answer", "wait_for_projections"]
