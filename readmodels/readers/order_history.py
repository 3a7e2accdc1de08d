"""Orders' histories: every event of each order asked, oldest first, in one query per 512."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, select

from domain.storage.database import padded_chunks
from readmodels.projections.order_history import order_history_entry
from readmodels.queries import Query

if TYPE_CHECKING:
    from readmodels.readers.answers import Answers, ReadDatabase


@dataclass(frozen=True, kw_only=True, slots=True)
class OrderHistoryEntryView:
    """One event of an order: its type's name, the order's version and the global position it
    made, when it happened (UTC) and what it did, in words."""

    type: str
    version: int
    position: int
    occurred_at: datetime
    summary: str


History = tuple[OrderHistoryEntryView, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class GetOrderHistories(Query[list[History]]):
    """The histories of several orders, in the order asked (empty where there is none)."""

    order_ids: tuple[str, ...]


_table = order_history_entry
_HISTORIES = (
    select(_table)
    .where(_table.c.order_id.in_(bindparam("ids", expanding=True)))
    .order_by(_table.c.order_id, _table.c.version)
)


async def get_order_histories(db: ReadDatabase, query: GetOrderHistories) -> list[History]:
    found: dict[str, list[OrderHistoryEntryView]] = defaultdict(list)
    wanted = list(dict.fromkeys(query.order_ids))
    if wanted:
        async with db.read() as conn:
            for chunk in padded_chunks(wanted):
                for row in (await conn.execute(_HISTORIES, {"ids": chunk})).mappings():
                    found[row["order_id"]].append(
                        OrderHistoryEntryView(
                            type=row["event_type"],
                            version=row["version"],
                            position=row["position"],
                            occurred_at=row["occurred_at"],
                            summary=row["summary"],
                        )
                    )
    return [tuple(found.get(order_id, ())) for order_id in query.order_ids]


ANSWERS: Answers = {GetOrderHistories: get_order_histories}

__all__ = [
    "ANSWERS",
    "GetOrderHistories",
    "History",
    "OrderHistoryEntryView",
    "get_order_histories",
]
