"""Departures: a live list filtered by status is also sent the change that takes an order out.

The order goes out with its new state, so the client can drop it; after that it is sent again only
if it matches again. (A customer filter needs nothing of this: an order's customer never changes.)

Whether a change took an order out of the filter depends on the order's status before the change,
and order_view keeps only the current state. Two sources, the exact one first:

- `StatusMemory`: the list router sees every order_views change while anyone watches a list, and
  remembers each order's status as of its last change (the newest `size` orders). For an order it
  remembers, the rule is exact: sent when the status before was the filter's and the new one is
  not, and not sent again while it does not match.
- The order lifecycle (`LATER`) for the rest: an order last changed before anyone watched, or
  forgotten, and the catch-up from the table by `afterPosition`. Statuses only move forward
  (PLACED -> CONFIRMED -> SHIPPED, PLACED or CONFIRMED -> CANCELLED), so an order changed since
  then whose status comes after the filter's may have left the filter in between, and is sent.
  That over-approximates: the client may get an order it never had in that list (cancelled while
  PLACED, for a CONFIRMED list; confirmed before `afterPosition`, for a PLACED one), and drops an
  id it does not hold. Exactness there would take order_view columns (the status before the last
  status change, and its position), a migration and a rebuild of the view; an extra frame for an
  order that passed through is cheaper.
"""

from __future__ import annotations

from domain.values import OrderStatus

LATER: dict[OrderStatus, frozenset[OrderStatus]] = {
    OrderStatus.PLACED: frozenset(
        {OrderStatus.CONFIRMED, OrderStatus.SHIPPED, OrderStatus.CANCELLED}
    ),
    OrderStatus.CONFIRMED: frozenset({OrderStatus.SHIPPED, OrderStatus.CANCELLED}),
    OrderStatus.SHIPPED: frozenset(),
    OrderStatus.CANCELLED: frozenset(),
}
"""The statuses an order in each status may reach later (the aggregate's transitions, closed)."""


def sent_to(wanted: OrderStatus, now: OrderStatus, before: OrderStatus | None) -> bool:
    """Whether a list of `wanted` orders is sent an order's change to `now`, its status before
    that change being `before` (None: not known, the lifecycle decides)."""
    if now == wanted:
        return True
    if before is not None:
        return before == wanted
    return now in LATER[wanted]


def statuses_sent(wanted: OrderStatus) -> tuple[OrderStatus, ...]:
    """The statuses a catch-up of a list of `wanted` orders reads from the table."""
    return (wanted, *sorted(LATER[wanted]))


class StatusMemory:
    """Each order's status as of the last change the router delivered, for the newest `size`
    orders; forgotten whenever the router may have missed a change."""

    def __init__(self, size: int = 16_384) -> None:
        self._size = size
        self._statuses: dict[str, OrderStatus] = {}

    def before(self, order_id: str) -> OrderStatus | None:
        """The order's status before the change being delivered (None: not known)."""
        return self._statuses.get(order_id)

    def remember(self, order_id: str, status: OrderStatus) -> None:
        """The order is in `status` from now on."""
        statuses = self._statuses
        statuses.pop(order_id, None)
        statuses[order_id] = status
        if len(statuses) > self._size:
            del statuses[next(iter(statuses))]

    def forget(self) -> None:
        self._statuses.clear()

    def __len__(self) -> int:
        return len(self._statuses)


__all__ = ["LATER", "StatusMemory", "sent_to", "statuses_sent"]
