"""retryProjection (admin): a FAILED projection tries again now instead of after its backoff,
in whichever process runs it."""

from __future__ import annotations

from graph.api.access import ADMIN, require
from graph.api.arguments import ProjectionName
from graph.api.context import Info
from graph.api.freshness import require_projection_name
from graph.api.types import Projection

RETRY_PROJECTION_DESCRIPTION = (
    "Makes a failed projection try its failing event again now (after a fix), instead of "
    "after its backoff; answers once it moved past it, or after a second."
)
# How long the answer waits for the retry to move the projection.
RETRY_WAIT_SECONDS = 1.0


async def retry_projection(info: Info, name: ProjectionName) -> Projection:
    require(info, ADMIN, "retry projections")
    projection = require_projection_name(name)
    runner = info.context.runner
    before = runner.position(projection)
    await runner.retry(projection)
    await runner.wait_for([projection], before + 1, RETRY_WAIT_SECONDS)
    return current(info, projection)


def current(info: Info, name: str) -> Projection:
    """`name`'s status in this process now."""
    (status,) = [s for s in info.context.runner.status() if s.name == name]
    return Projection.from_dto(status)


__all__ = ["RETRY_PROJECTION_DESCRIPTION", "current", "retry_projection"]
