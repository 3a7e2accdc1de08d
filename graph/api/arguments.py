"""The arguments several root fields share, each with the description the schema shows.

Descriptions are CommonMark (GraphiQL renders them so, with every line break a hard break):
one paragraph is one line of text, never wrapped with `\\n`.
"""

from __future__ import annotations

from typing import Annotated

import strawberry

from graph.api.paging import STATUS_FILTER_DESCRIPTION
from graph.api.scalars import Position
from graph.api.types import OrderStatus

MIN_POSITION_DESCRIPTION = (
    "Answer once the views behind this field have applied this log position (say, the "
    "`position` a mutation returned): read-your-writes. A request's `OrderGraph-Min-Position` "
    "header (or `extensions.minPosition`) does the same for every field; the larger wins. "
    "Without either the field never waits."
)
TIMEOUT_MS_DESCRIPTION = (
    "How long `minPosition` may wait, in milliseconds: 0 to the server's cap (default cap "
    "10000, default wait 5000). Then the field answers with what the views hold and "
    "`extensions.freshness.stale` is true."
)
AFTER_POSITION_DESCRIPTION = (
    "The largest `position` the client has read: what changed after it is sent first, then the "
    "live changes, with no gap and no duplicate. Resume with it after a reconnect."
)
CUSTOMER_FILTER_DESCRIPTION = (
    "Only this customer's orders. A customer's token may name only its own id (another is "
    "FORBIDDEN), and without this argument it gets its own orders anyway."
)
PROJECTION_NAME_DESCRIPTION = "A projection's name, such as `order_views` (see `projections`)."

MinPosition = Annotated[Position | None, strawberry.argument(description=MIN_POSITION_DESCRIPTION)]
TimeoutMs = Annotated[int | None, strawberry.argument(description=TIMEOUT_MS_DESCRIPTION)]
AfterPosition = Annotated[
    Position | None, strawberry.argument(description=AFTER_POSITION_DESCRIPTION)
]
CustomerFilter = Annotated[
    strawberry.ID | None, strawberry.argument(description=CUSTOMER_FILTER_DESCRIPTION)
]
StatusFilter = Annotated[
    OrderStatus | None, strawberry.argument(description=STATUS_FILTER_DESCRIPTION)
]
ProjectionName = Annotated[str, strawberry.argument(description=PROJECTION_NAME_DESCRIPTION)]

__all__ = [
    "AfterPosition",
    "CustomerFilter",
    "MinPosition",
    "ProjectionName",
    "StatusFilter",
    "TimeoutMs",
]
