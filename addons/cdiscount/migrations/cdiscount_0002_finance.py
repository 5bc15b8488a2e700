"""cdiscount: financial operations read from Octopia (fees and refunds) and their cursor

Revision ID: cdiscount_0002
Revises: cdiscount_0001
Create Date: 2026-12-02 20:00:00
"""
import sqlalchemy as sa
from alembic import op

import core.models

revision = "cdiscount_0002"
down_revision = "cdiscount_0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "cdiscount_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("finance_cursor", core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finance_read_at", core.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["shop_id"], ["shop.id"], name=op.f("fk_cdiscount_state_shop_id_shop"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cdiscount_state")),
        sa.UniqueConstraint("shop_id", name=op.f("uq_cdiscount_state_shop_id")),
    )
    op.create_table(
        "cdiscount_operation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("operation_id", sa.String(length=64), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("event_type", sa.String(length=40), nullable=False),
        sa.Column("amount", sa.Numeric(precision=15, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("payment_state", sa.String(length=20), nullable=True),
        sa.Column("data", sa.Text(), nullable=True),
        sa.Column("imported", sa.Boolean(), nullable=False),
        sa.Column("read_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["shop_id"], ["shop.id"], name=op.f("fk_cdiscount_operation_shop_id_shop"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["order_id"], ["order.id"], name=op.f("fk_cdiscount_operation_order_id_order"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cdiscount_operation")),
        sa.UniqueConstraint("shop_id", "operation_id", name=op.f("uq_cdiscount_operation_shop_id_operation_id")),
    )
    op.create_index(op.f("ix_cdiscount_operation_shop_id"), "cdiscount_operation", ["shop_id"], unique=False)
    op.create_index(op.f("ix_cdiscount_operation_reference"), "cdiscount_operation", ["reference"], unique=False)
    op.create_index(op.f("ix_cdiscount_operation_order_id"), "cdiscount_operation", ["order_id"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_cdiscount_operation_order_id"), table_name="cdiscount_operation")
    op.drop_index(op.f("ix_cdiscount_operation_reference"), table_name="cdiscount_operation")
    op.drop_index(op.f("ix_cdiscount_operation_shop_id"), table_name="cdiscount_operation")
    op.drop_table("cdiscount_operation")
    op.drop_table("cdiscount_state")
