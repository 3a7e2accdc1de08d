"""rebuildProjection (admin): one projection's views replayed from the whole log."""

from __future__ import annotations

from graph.api.access import ADMIN, require
from graph.api.context import Info
from graph.api.freshness import require_projection_name
from graph.api.types import Projection

REBUILD_PROJECTION_DESCRIPTION = (
    "Clears one projection's views and replays the whole log into it; "
    "reads keep answering meanwhile."
)


async def rebuild_projection(info: Info, name: str) -> Projection:
    require(info, ADMIN, "rebuild projections")
    status = await info.context.runner.rebuild(require_projection_name(name))
    return Projection.from_dto(status)


__all__ = ["REBUILD_PROJECTION_DESCRIPTION", "rebuild_projection"]
