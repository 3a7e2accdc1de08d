"""The Mutation root: one module per mutation (its input and resolver), the shared steps in
`command.py`, the shared input types in `inputs.py`.

Each command's input arrives as graphql-core's coerced dict (see `inputs.py`).
"""

from __future__ import annotations

import strawberry

from graph.api.mutations.add_order_item import ADD_ORDER_ITEM_DESCRIPTION, add_order_item
from graph.api.mutations.cancel_order import CANCEL_ORDER_DESCRIPTION, cancel_order
from graph.api.mutations.change_shipping_address import (
    CHANGE_SHIPPING_ADDRESS_DESCRIPTION,
    change_shipping_address,
)
from graph.api.mutations.confirm_order import CONFIRM_ORDER_DESCRIPTION, confirm_order
from graph.api.mutations.create_order import CREATE_ORDER_DESCRIPTION, create_order
from graph.api.mutations.rebuild_projection import (
    REBUILD_PROJECTION_DESCRIPTION,
    rebuild_projection,
)
from graph.api.mutations.remove_order_item import REMOVE_ORDER_ITEM_DESCRIPTION, remove_order_item
from graph.api.mutations.retry_projection import RETRY_PROJECTION_DESCRIPTION, retry_projection
from graph.api.mutations.ship_order import SHIP_ORDER_DESCRIPTION, ship_order
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
    create_order: CommandResult = strawberry.mutation(
        resolver=create_order, description=CREATE_ORDER_DESCRIPTION
    )
    add_order_item: CommandResult = strawberry.mutation(
        resolver=add_order_item, description=ADD_ORDER_ITEM_DESCRIPTION
    )
    remove_order_item: CommandResult = strawberry.mutation(
        resolver=remove_order_item, description=REMOVE_ORDER_ITEM_DESCRIPTION
    )
    change_shipping_address: CommandResult = strawberry.mutation(
        resolver=change_shipping_address, description=CHANGE_SHIPPING_ADDRESS_DESCRIPTION
    )
    confirm_order: CommandResult = strawberry.mutation(
        resolver=confirm_order, description=CONFIRM_ORDER_DESCRIPTION
    )
    ship_order: CommandResult = strawberry.mutation(
        resolver=ship_order, description=SHIP_ORDER_DESCRIPTION
    )
    cancel_order: CommandResult = strawberry.mutation(
        resolver=cancel_order, description=CANCEL_ORDER_DESCRIPTION
    )
    retry_projection: Projection = strawberry.mutation(
        resolver=retry_projection, description=RETRY_PROJECTION_DESCRIPTION
    )
    skip_projection_event: Projection = strawberry.mutation(
        resolver=skip_projection_event, description=SKIP_PROJECTION_EVENT_DESCRIPTION
    )


__all__ = ["Mutation"]
