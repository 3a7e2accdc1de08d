"""skipProjectionEvent (admin): a projection passes over the event it is stuck on (or the one
at `position`), for good; the skip is recorded with the event's type and error, and honoured by
rebuilds and by whichever process runs the projection."""

from __future__ import annotations

from typing import Annotated

import strawberry

from domain.errors import ValidationFailed
from graph.api.access import ADMIN, require
from graph.api.arguments import ProjectionName
from graph.api.context import Info
from graph.api.freshness import require_projection_name
from graph.api.mutations.retry_projection import current
from graph.api.scalars import Position
from graph.api.types import Projection

SKIP_PROJECTION_EVENT_DESCRIPTION = (
    "Makes a projection pass over one event for good: the one it is stuck on (its "
    "failingEvent), or the one at `position`. Recorded in skippedEvents; the views will never "
    "reflect that event. Answers once the projection moved past it, or after a few seconds."
)
SKIPPED_POSITION_DESCRIPTION = (
    "The event to pass over; by default the one the projection is stuck on (its failingEvent)."
)
SKIP_WAIT_SECONDS = 5.0


async def skip_projection_event(
    info: Info,
    name: ProjectionName,
    position: Annotated[
        Position | None, strawberry.argument(description=SKIPPED_POSITION_DESCRIPTION)
    ] = None,
) -> Projection:
    require(info, ADMIN, "skip events")
    projection = require_projection_name(name)
    runner = info.context.runner
    try:
        if position is None:
            skipped = await runner.skip_failing_event(projection)
        else:
            await runner.skip_event(projection, position)
            skipped = position
    except ValueError as error:
        raise ValidationFailed(
            str(error), field="name" if position is None else "position"
        ) from None
    await runner.wait_for([projection], skipped, SKIP_WAIT_SECONDS)
    return current(info, projection)


__all__ = ["SKIP_PROJECTION_EVENT_DESCRIPTION", "skip_projection_event"]
