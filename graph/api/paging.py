"""The connection arguments of `orders` and `Customer.orders`: which page the client asked
for, and whether it selected `totalCount` (a count is the costly part of a large listing)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated

import strawberry
from strawberry.types.nodes import SelectedField, Selection

from graph.api.context import Info


def asks_for_total(info: Info) -> bool:
    """Whether the connection being resolved has `totalCount` among its selections."""

    def selects(selections: Iterable[Selection]) -> bool:
        for selection in selections:
            if isinstance(selection, SelectedField):
                if selection.name == "totalCount":
                    return True
            elif selects(selection.selections):
                return True
        return False

    return any(selects(field.selections) for field in info.selected_fields)


FIRST_DESCRIPTION = (
    "The first orders after `after` (or of the whole list), newest first; 1 to 100. The default "
    "(20) holds only when `last` is not given."
)
AFTER_DESCRIPTION = (
    "A cursor (an edge's `cursor`, or `pageInfo.endCursor` for the next page): only orders "
    "listed after it."
)
LAST_DESCRIPTION = (
    "The last orders before `before` (or of the whole list), newest first like any page; "
    "1 to 100, not with `first`."
)
BEFORE_DESCRIPTION = "A cursor: only orders listed before it (with `after`: between the two)."
STATUS_FILTER_DESCRIPTION = "Only orders in this status."

First = Annotated[int | None, strawberry.argument(description=FIRST_DESCRIPTION)]
After = Annotated[str | None, strawberry.argument(description=AFTER_DESCRIPTION)]
Last = Annotated[int | None, strawberry.argument(description=LAST_DESCRIPTION)]
Before = Annotated[str | None, strawberry.argument(description=BEFORE_DESCRIPTION)]


def page_sizes(info: Info, first: int | None, last: int | None) -> tuple[int | None, int | None]:
    """`first` and `last` as the client gave them: `first`'s default (20) holds only when the
    client gave no `last`, so `last` alone pages backwards, and `first` given with it is refused
    by the reader (BAD_USER_INPUT)."""
    if last is None:
        return first, None
    explicit = any(
        isinstance(field, SelectedField) and field.arguments.get("first") is not None
        for field in info.selected_fields
    )
    return (first if explicit else None), last


__all__ = [
    "STATUS_FILTER_DESCRIPTION",
    "After",
    "Before",
    "First",
    "Last",
    "asks_for_total",
    "page_sizes",
]
