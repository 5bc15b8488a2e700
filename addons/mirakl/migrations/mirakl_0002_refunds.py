"""mirakl: refunds sent (OR28)

Revision ID: mirakl_0002
Revises: mirakl_0001
Create Date: 2026-12-02 20:20:00
"""
import sqlalchemy as sa
from alembic import op

import core.models

revision = "mirakl_0002"
down_revision = "mirakl_0001"
branch_labels = None
depends_on = None

DT = core.models.UTCDateTime


def upgrade():
    op.create_table(
        "mirakl_refund",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("return_id", sa.Integer(), nullable=False),
        sa.Column("mirakl_order_id", sa.String(length=64), nullable=False),
        sa.Column("amount", sa.String(length=32), nullable=False),
        sa.Column("known_refund_ids", sa.JSON(), nullable=False),
        sa.Column("refund_ids", sa.JSON(), nullable=False),
        sa.Column("attempted_at", DT(), nullable=True),
        sa.Column("sent_at", DT(), nullable=True),
        sa.ForeignKeyConstraint(["shop_id"], ["shop.id"], name=op.f("fk_mirakl_refund_shop_id_shop"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["return_id"], ["return.id"], name=op.f("fk_mirakl_refund_return_id_return"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mirakl_refund")),
        sa.UniqueConstraint("return_id", name=op.f("uq_mirakl_refund_return_id")),
    )
    op.create_index(op.f("ix_mirakl_refund_shop_id"), "mirakl_refund", ["shop_id"], unique=False)


def downgrade():
    op.drop_table("mirakl_refund")
