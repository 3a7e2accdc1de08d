"""Every table the read side owns, in one MetaData: the runner's control tables and the live
generation of each view's tables (helper tables included), as the projections define them.

The migrations combine this with the write side's `domain.storage.tables.metadata`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from readmodels.registry import default_projections
from readmodels.tables import control_metadata, new_metadata

if TYPE_CHECKING:
    from collections.abc import Iterable

    from sqlalchemy import MetaData

    from readmodels.projections.base import Projection


def read_side_metadata(projections: Iterable[Projection] | None = None) -> MetaData:
    """A fresh MetaData holding the control tables and the live tables of `projections`
    (the service's views when omitted)."""
    metadata = new_metadata()
    for table in control_metadata.tables.values():
        table.to_metadata(metadata)
    for projection in default_projections() if projections is None else projections:
        projection.define(metadata, "")
    return metadata


__all__ = ["read_side_metadata"]
