"""An index on order_view.position: the live list's catch-up reads the views changed after a
position, which scanned the whole table without it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("order_view", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_order_view_position"), ["position"], unique=False)


def downgrade() -> None:
    """Downgrade schema.

    A rebuild swaps in shadow tables that keep their own index names
    (ix_order_view__<suffix>_position), so the index is found by its column, not its name.
    """
    indexes = sa.inspect(op.get_bind()).get_indexes("order_view")
    names = [index["name"] for index in indexes if index["column_names"] == ["position"]]
    with op.batch_alter_table("order_view", schema=None) as batch_op:
        for name in names:
            if name is not None:
                batch_op.drop_index(name)
