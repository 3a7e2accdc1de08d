"""Initial schema: the event log, handled commands, the three views, checkpoints.

Revision ID: 0001
Revises: -
Create Date: 2026-11-26

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "command",
        sa.Column("command_id", sa.String(length=128), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.String(length=128), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("position", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("command_id", name=op.f("pk_command")),
    )
    op.create_table(
        "customer_summary",
        sa.Column("customer_id", sa.String(length=128), nullable=False),
        sa.Column("order_count", sa.Integer(), nullable=False),
        sa.Column("total_spent", sa.String(length=48), nullable=False),
        sa.Column("last_order_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_customer_summary")),
    )
    op.create_table(
        "customer_summary_order",
        sa.Column("order_id", sa.String(length=128), nullable=False),
        sa.Column("customer_id", sa.String(length=128), nullable=False),
        sa.Column("lines", sa.Text(), nullable=False),
        sa.Column("cancelled", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_customer_summary_order")),
    )
    op.create_table(
        "daily_sale",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("orders_placed", sa.Integer(), nullable=False),
        sa.Column("orders_cancelled", sa.Integer(), nullable=False),
        sa.Column("revenue", sa.String(length=48), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_daily_sale")),
    )
    op.create_table(
        "daily_sale_order",
        sa.Column("order_id", sa.String(length=128), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("lines", sa.Text(), nullable=False),
        sa.Column("cancelled", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_daily_sale_order")),
    )
    op.create_table(
        "event",
        sa.Column(
            "position",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("stream_id", sa.String(length=128), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=64), nullable=False),
        sa.Column("schema_version", sa.Integer(), nullable=False),
        sa.Column(
            "payload", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("command_id", sa.String(length=128), nullable=False),
        sa.Column("correlation_id", sa.String(length=128), nullable=True),
        sa.Column("causation_id", sa.String(length=128), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("position", name=op.f("pk_event")),
        sa.UniqueConstraint("stream_id", "version", name=op.f("uq_event_stream_id_version")),
    )
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_event_command_id"), ["command_id"], unique=False)

    op.create_table(
        "order_view",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("customer_id", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("items", sa.Text(), nullable=False),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.Column("total_amount", sa.String(length=48), nullable=False),
        sa.Column("ship_name", sa.String(length=200), nullable=False),
        sa.Column("ship_line1", sa.String(length=200), nullable=False),
        sa.Column("ship_line2", sa.String(length=200), nullable=True),
        sa.Column("ship_city", sa.String(length=200), nullable=False),
        sa.Column("ship_postal_code", sa.String(length=200), nullable=False),
        sa.Column("ship_country", sa.String(length=2), nullable=False),
        sa.Column("tracking_number", sa.String(length=200), nullable=True),
        sa.Column("cancellation_reason", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_view")),
    )
    with op.batch_alter_table("order_view", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_order_view_created_at_seq"), ["created_at", "seq"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_order_view_customer_id_created_at_seq"),
            ["customer_id", "created_at", "seq"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_order_view_status_created_at_seq"),
            ["status", "created_at", "seq"],
            unique=False,
        )

    op.create_table(
        "projection_checkpoint",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("shadow_suffix", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_projection_checkpoint")),
    )
    op.create_table(
        "projection_skip",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("skipped_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", "position", name=op.f("pk_projection_skip")),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("projection_skip")
    op.drop_table("projection_checkpoint")
    with op.batch_alter_table("order_view", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_order_view_status_created_at_seq"))
        batch_op.drop_index(batch_op.f("ix_order_view_customer_id_created_at_seq"))
        batch_op.drop_index(batch_op.f("ix_order_view_created_at_seq"))

    op.drop_table("order_view")
    with op.batch_alter_table("event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_event_command_id"))

    op.drop_table("event")
    op.drop_table("daily_sale_order")
    op.drop_table("daily_sale")
    op.drop_table("customer_summary_order")
    op.drop_table("customer_summary")
    op.drop_table("command")
