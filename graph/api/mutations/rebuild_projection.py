"""rebuildProjection (admin): one projection's views replayed from the whole log."""

from __future__ import annotations

from graph.api.access import ADMIN, require
from graph.api.arguments import ProjectionName
from graph.api.context import Info
from graph.api.freshness import require_projection_name
from graph.api.types import Projection


class RebuildInProgress(Exception):
    """A projection is already being rebuilt (here or by another process):
    REBUILD_IN_PROGRESS (graph/pipeline/errors.py)."""


REBUILD_PROJECTION_DESCRIPTION = (
    "Clears one projection's views and replays the whole log into it; "
    "reads keep answering meanwhile."
)


async def rebuild_projection(info: Info, name: ProjectionName) -> Projection:
    require(info, ADMIN, "rebuild projections")
    projection = require_projection_name(name)
    try:
        status = await info.context.runner.rebuild(projection)
    except RuntimeError as error:
        # The runner refuses a second rebuild of one projection (here or in another process).
        if "already being rebuilt" not in str(error):
            raise
        raise RebuildInProgress(
            f"{projection} is already being rebuilt: retry once that rebuild has finished"
        ) from None
    return Projection.from_dto(status)


__all__ = ["REBUILD_PROJECTION_DESCRIPTION", "RebuildInProgress", "rebuild_projection"]
