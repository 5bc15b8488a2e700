"""rakuten: initial tables

Revision ID: rakuten_0001
Revises:
Create Date: 2026-12-02 00:00:00
"""
import sqlalchemy as sa
from alembic import op

import core.models

revision = "rakuten_0001"
down_revision = None
branch_labels = ("rakuten",)
depends_on = "core_0001"


def upgrade():
    op.create_table(
        "rakuten_action_version",
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("version", sa.String(length=16), nullable=True),
        sa.Column("latest_seen", sa.String(length=16), nullable=True),
        sa.Column("updated_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("action", name=op.f("pk_rakuten_action_version")),
    )
    op.create_table(
        "rakuten_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("itemid", sa.String(length=32), nullable=False),
        sa.Column("purchaseid", sa.String(length=32), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("sku", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("purchased_at", core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decision", sa.String(length=16), nullable=True),
        sa.Column("decided_at", core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("pending_action", sa.String(length=32), nullable=True),
        sa.Column("tracking_number", sa.String(length=128), nullable=True),
        sa.Column("tracking_sent_at", core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("seen_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["shop_id"], ["shop.id"], name=op.f("fk_rakuten_item_shop_id_shop"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["order_id"], ["order.id"], name=op.f("fk_rakuten_item_order_id_order"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rakuten_item")),
        sa.UniqueConstraint("shop_id", "itemid", name=op.f("uq_rakuten_item_shop_id_itemid")),
    )
    op.create_index("ix_rakuten_item_shop_purchase", "rakuten_item", ["shop_id", "purchaseid"], unique=False)
    op.create_index(op.f("ix_rakuten_item_order_id"), "rakuten_item", ["order_id"], unique=False)
    op.create_table(
        "rakuten_offer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=128), nullable=False),
        sa.Column("variant_id", sa.Integer(), nullable=True),
        sa.Column("pushed_quantity", sa.Integer(), nullable=True),
        sa.Column("pushed_at", core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("push_error", sa.Text(), nullable=True),
        sa.Column("unknown", sa.Boolean(), nullable=False),
        sa.Column("aid", sa.String(length=32), nullable=True),
        sa.Column("title", sa.String(length=500), nullable=True),
        sa.Column("ean", sa.String(length=32), nullable=True),
        sa.Column("price", sa.Numeric(15, 2), nullable=True),
        sa.Column("remote_quantity", sa.Integer(), nullable=True),
        sa.Column("imported_at", core.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["shop_id"], ["shop.id"], name=op.f("fk_rakuten_offer_shop_id_shop"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["variant_id"], ["variant.id"], name=op.f("fk_rakuten_offer_variant_id_variant"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rakuten_offer")),
        sa.UniqueConstraint("shop_id", "sku", name=op.f("uq_rakuten_offer_shop_id_sku")),
    )
    op.create_index(op.f("ix_rakuten_offer_variant_id"), "rakuten_offer", ["variant_id"], unique=False)
    op.create_table(
        "rakuten_stock_pending",
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("variant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["shop_id"], ["shop.id"], name=op.f("fk_rakuten_stock_pending_shop_id_shop"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["variant_id"], ["variant.id"], name=op.f("fk_rakuten_stock_pending_variant_id_variant"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("shop_id", "variant_id", name=op.f("pk_rakuten_stock_pending")),
    )
    op.create_table(
        "rakuten_stock_import",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("importid", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("remote_status", sa.String(length=64), nullable=True),
        sa.Column("sent", sa.JSON(), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("ok_lines", sa.Integer(), nullable=False),
        sa.Column("error_lines", sa.Integer(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("checks", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", core.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["shop_id"], ["shop.id"], name=op.f("fk_rakuten_stock_import_shop_id_shop"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rakuten_stock_import")),
    )
    op.create_index(op.f("ix_rakuten_stock_import_shop_id"), "rakuten_stock_import", ["shop_id"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_rakuten_stock_import_shop_id"), table_name="rakuten_stock_import")
    op.drop_table("rakuten_stock_import")
    op.drop_table("rakuten_stock_pending")
    op.drop_index(op.f("ix_rakuten_offer_variant_id"), table_name="rakuten_offer")
    op.drop_table("rakuten_offer")
    op.drop_index(op.f("ix_rakuten_item_order_id"), table_name="rakuten_item")
    op.drop_index("ix_rakuten_item_shop_purchase", table_name="rakuten_item")
    op.drop_table("rakuten_item")
    op.drop_table("rakuten_action_version")
