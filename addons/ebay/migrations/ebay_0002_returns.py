"""ebay: returns and refunds read from eBay, their cursor, the orders' refunds, listing prices

Revision ID: ebay_0002
Revises: ebay_0001
Create Date: 2026-12-03 07:00:00
"""
import sqlalchemy as sa
from alembic import op

import core.models

revision = "ebay_0002"
down_revision = "ebay_0001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "ebay_return",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("external_id", sa.String(length=64), nullable=False),
        sa.Column("ebay_order_id", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=48), nullable=False),
        sa.Column("reason", sa.String(length=48), nullable=False),
        sa.Column("item_id", sa.String(length=32), nullable=False),
        sa.Column("transaction_id", sa.String(length=32), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("refund_amount", sa.Numeric(precision=12, scale=2), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("opened_at", core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("return_id", sa.Integer(), nullable=True),
        sa.Column("settled", sa.String(length=80), nullable=True),
        sa.Column("noted", sa.Boolean(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("read_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["shop_id"], ["shop.id"], name=op.f("fk_ebay_return_shop_id_shop"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["order_id"], ["order.id"], name=op.f("fk_ebay_return_order_id_order"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["return_id"], ["return.id"], name=op.f("fk_ebay_return_return_id_return"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ebay_return")),
        sa.UniqueConstraint("shop_id", "kind", "external_id", name=op.f("uq_ebay_return_shop_id_kind_external_id")),
    )
    op.create_index(op.f("ix_ebay_return_shop_id"), "ebay_return", ["shop_id"], unique=False)
    op.create_index(op.f("ix_ebay_return_order_id"), "ebay_return", ["order_id"], unique=False)
    with op.batch_alter_table("ebay_account") as batch:
        batch.add_column(sa.Column("returns_cursor", core.models.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table("ebay_order") as batch:
        batch.add_column(sa.Column("refunds", sa.JSON(), nullable=False, server_default=sa.text("'[]'")))
    with op.batch_alter_table("ebay_listing") as batch:
        batch.add_column(sa.Column("price", sa.Numeric(precision=12, scale=2), nullable=True))
        batch.add_column(sa.Column("currency", sa.String(length=3), nullable=True))


def downgrade():
    with op.batch_alter_table("ebay_listing") as batch:
        batch.drop_column("currency")
        batch.drop_column("price")
    with op.batch_alter_table("ebay_order") as batch:
        batch.drop_column("refunds")
    with op.batch_alter_table("ebay_account") as batch:
        batch.drop_column("returns_cursor")
    op.drop_index(op.f("ix_ebay_return_order_id"), table_name="ebay_return")
    op.drop_index(op.f("ix_ebay_return_shop_id"), table_name="ebay_return")
    op.drop_table("ebay_return")
