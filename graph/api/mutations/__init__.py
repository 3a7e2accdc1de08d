"""The Mutation root: one module per mutation (its input and resolver), the shared steps in
`command.py`, the shared input types in `inputs.py`.

Each command's input arrives as graphql-core's coerced dict (see `inputs.py`).
"""

from __future__ import annotations

import strawberry

from graph.api.mutations.add_order_item import add_order_item
from graph.api.mutations.cancel_order import cancel_order
from graph.api.mutations.change_shipping_address import change_shipping_address
from graph.api.mutations.confirm_order import confirm_order
from graph.api.mutations.create_order import create_order
from graph.api.mutations.rebuild_projection import (
    REBUILD_PROJECTION_DESCRIPTION,
    rebuild_projection,
)
from graph.api.mutations.remove_order_item import remove_order_item
from graph.api.mutations.retry_projection import RETRY_PROJECTION_DESCRIPTION, retry_projection
from graph.api.mutations.ship_order import ship_order
from graph.api.mutations.skip_projection_event import (
    SKIP_PROJECTION_EVENT_DESCRIPTION,
    skip_projection_event,
)
from graph.api.types import CommandResult, Projection


@strawberry.type
class Mutation:
    # rebuildProjection first: the order of the published schema.
    rebuild_projection: Projection = strawberry.mutation(
        resolver=rebuild_projection, description=REBUILD_PROJECTION_DESCRIPTION
    )
    create_order: CommandResult = strawberry.mutation(resolver=create_order)
    add_order_item: CommandResult = strawberry.mutation(resolver=add_order_item)
    remove_order_item: CommandResult = strawberry.mutation(resolver=remove_order_item)
    change_shipping_address: CommandResult = strawberry.mutation(resolver=change_shipping_address)
    confirm_order: CommandResult = strawberry.mutation(resolver=confirm_order)
    ship_order: CommandResult = strawberry.mutation(resolver=ship_order)
    cancel_order: CommandResult = strawberry.mutation(resolver=cancel_order)
    retry_projection: Projection = strawberry.mutation(
        resolver=retry_projection, description=RETRY_PROJECTION_DESCRIPTION
    )
    skip_projection_event: Projection = strawberry.mutation(
        resolver=skip_projection_event, description=SKIP_PROJECTION_EVENT_DESCRIPTION
    )


__all__ = ["Mutation"]
