"""mirakl: return requests (RT11/RT21) and units cancelled per line

Revision ID: mirakl_0004
Revises: mirakl_0003
Create Date: 2026-12-03 07:00:00
"""
import sqlalchemy as sa
from alembic import op

import core.models

revision = "mirakl_0004"
down_revision = "mirakl_0003"
branch_labels = None
depends_on = None

DT = core.models.UTCDateTime


def upgrade():
    with op.batch_alter_table("mirakl_order") as batch:
        batch.add_column(sa.Column("cancelled_units", sa.JSON(), nullable=True))
    op.create_table(
        "mirakl_return",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("return_id", sa.String(length=64), nullable=False),
        sa.Column("mirakl_order_id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=64), nullable=False),
        sa.Column("reason_code", sa.String(length=64), nullable=True),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("requested_at", DT(), nullable=True),
        sa.Column("decision", sa.String(length=16), nullable=True),
        sa.Column("rejection_reason", sa.String(length=64), nullable=True),
        sa.Column("decided_at", DT(), nullable=True),
        sa.Column("sent_at", DT(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("imported_return_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["shop_id"], ["shop.id"], name=op.f("fk_mirakl_return_shop_id_shop"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["order_id"], ["order.id"], name=op.f("fk_mirakl_return_order_id_order"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["imported_return_id"], ["return.id"],
                                name=op.f("fk_mirakl_return_imported_return_id_return"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mirakl_return")),
        sa.UniqueConstraint("shop_id", "return_id", name=op.f("uq_mirakl_return_shop_id_return_id")),
    )
    op.create_index(op.f("ix_mirakl_return_shop_id"), "mirakl_return", ["shop_id"], unique=False)
    op.create_index(op.f("ix_mirakl_return_order_id"), "mirakl_return", ["order_id"], unique=False)


def downgrade():
    op.drop_table("mirakl_return")
    with op.batch_alter_table("mirakl_order") as batch:
        batch.drop_column("cancelled_units")
