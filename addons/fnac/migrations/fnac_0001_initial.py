"""fnac: account, orders, offers and offer batches

Revision ID: fnac_0001
Revises:
Create Date: 2026-12-02 00:00:00
"""
import sqlalchemy as sa
from alembic import op

import core.models


revision = "fnac_0001"
down_revision = None
branch_labels = ("fnac",)
depends_on = "core_0001"


def upgrade():
    op.create_table(
        "fnac_account",
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("carriers", sa.JSON(), nullable=False),
        sa.Column("carriers_at", core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("offers_at", core.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["shop_id"], ["shop.id"], name=op.f("fk_fnac_account_shop_id_shop"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("shop_id", name=op.f("pk_fnac_account")),
    )
    op.create_table(
        "fnac_order",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("fnac_order_id", sa.String(length=32), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("fees", sa.Numeric(precision=15, scale=2), nullable=True),
        sa.Column("decision", sa.String(length=16), nullable=True),
        sa.Column("updated_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["order.id"], name=op.f("fk_fnac_order_order_id_order"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["shop_id"], ["shop.id"], name=op.f("fk_fnac_order_shop_id_shop"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fnac_order")),
        sa.UniqueConstraint("shop_id", "fnac_order_id", name=op.f("uq_fnac_order_shop_id_fnac_order_id")),
    )
    op.create_index(op.f("ix_fnac_order_order_id"), "fnac_order", ["order_id"], unique=False)
    op.create_table(
        "fnac_offer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=128), nullable=False),
        sa.Column("variant_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("offer_fnac_id", sa.String(length=64), nullable=True),
        sa.Column("product_fnac_id", sa.String(length=64), nullable=True),
        sa.Column("price", sa.Numeric(precision=15, scale=2), nullable=True),
        sa.Column("fnac_quantity", sa.Integer(), nullable=True),
        sa.Column("pending", sa.Boolean(), nullable=False),
        sa.Column("pushed_quantity", sa.Integer(), nullable=True),
        sa.Column("pushed_price", sa.Numeric(precision=15, scale=2), nullable=True),
        sa.Column("pushed_at", core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("push_error", sa.Text(), nullable=True),
        sa.Column("batch_id", sa.String(length=64), nullable=True),
        sa.Column("imported_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["shop_id"], ["shop.id"], name=op.f("fk_fnac_offer_shop_id_shop"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["variant_id"], ["variant.id"], name=op.f("fk_fnac_offer_variant_id_variant"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fnac_offer")),
        sa.UniqueConstraint("shop_id", "sku", name=op.f("uq_fnac_offer_shop_id_sku")),
    )
    op.create_index(op.f("ix_fnac_offer_shop_id"), "fnac_offer", ["shop_id"], unique=False)
    op.create_table(
        "fnac_batch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("sent", sa.JSON(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("checks", sa.Integer(), nullable=False),
        sa.Column("created_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", core.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["shop_id"], ["shop.id"], name=op.f("fk_fnac_batch_shop_id_shop"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fnac_batch")),
        sa.UniqueConstraint("shop_id", "batch_id", name=op.f("uq_fnac_batch_shop_id_batch_id")),
    )
    op.create_index(op.f("ix_fnac_batch_shop_id"), "fnac_batch", ["shop_id"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_fnac_batch_shop_id"), table_name="fnac_batch")
    op.drop_table("fnac_batch")
    op.drop_index(op.f("ix_fnac_offer_shop_id"), table_name="fnac_offer")
    op.drop_table("fnac_offer")
    op.drop_index(op.f("ix_fnac_order_order_id"), table_name="fnac_order")
    op.drop_table("fnac_order")
    op.drop_table("fnac_account")
