"""woocommerce: store state, webhooks, listings, trackings

Revision ID: woocommerce_0001
Revises:
Create Date: 2026-12-02 13:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = "woocommerce_0001"
down_revision = None
branch_labels = ("woocommerce",)
depends_on = "core_0001"


def _shop_fk(table):
    return sa.ForeignKeyConstraint(["shop_id"], ["shop.id"], ondelete="CASCADE", name=op.f(f"fk_{table}_shop_id_shop"))


def upgrade():
    op.create_table(
        "woocommerce_state",
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("wc_version", sa.String(length=32), nullable=True),
        sa.Column("has_tracking", sa.Boolean(), nullable=True),
        sa.Column("batch_limit", sa.Integer(), nullable=False),
        sa.Column("webhooks_checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("webhooks_note", sa.Text(), nullable=True),
        sa.Column("catalog_synced_at", sa.DateTime(timezone=True), nullable=True),
        _shop_fk("woocommerce_state"),
        sa.PrimaryKeyConstraint("shop_id", name=op.f("pk_woocommerce_state")),
    )
    op.create_table(
        "woocommerce_webhook",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.Column("remote_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reenabled", sa.Integer(), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        _shop_fk("woocommerce_webhook"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_woocommerce_webhook")),
        sa.UniqueConstraint("shop_id", "topic", name=op.f("uq_woocommerce_webhook_shop_id_topic")),
    )
    op.create_index(op.f("ix_woocommerce_webhook_shop_id"), "woocommerce_webhook", ["shop_id"])
    op.create_table(
        "woocommerce_listing",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("variation_id", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=255), nullable=False),
        sa.Column("barcode", sa.String(length=64), nullable=True),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("variant_id", sa.Integer(), nullable=True),
        sa.Column("stock_quantity", sa.Integer(), nullable=True),
        sa.Column("pushed_quantity", sa.Integer(), nullable=True),
        sa.Column("pushed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("push_error", sa.Text(), nullable=True),
        _shop_fk("woocommerce_listing"),
        sa.ForeignKeyConstraint(["variant_id"], ["variant.id"], ondelete="SET NULL",
                                name=op.f("fk_woocommerce_listing_variant_id_variant")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_woocommerce_listing")),
        sa.UniqueConstraint("shop_id", "product_id", "variation_id",
                            name=op.f("uq_woocommerce_listing_shop_id_product_id_variation_id")),
    )
    op.create_index(op.f("ix_woocommerce_listing_shop_id"), "woocommerce_listing", ["shop_id"])
    op.create_index(op.f("ix_woocommerce_listing_sku"), "woocommerce_listing", ["sku"])
    op.create_index(op.f("ix_woocommerce_listing_variant_id"), "woocommerce_listing", ["variant_id"])
    op.create_table(
        "woocommerce_tracking",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("shipment_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("remote_id", sa.String(length=64), nullable=False),
        sa.Column("completed", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _shop_fk("woocommerce_tracking"),
        sa.ForeignKeyConstraint(["shipment_id"], ["shipment.id"], ondelete="CASCADE",
                                name=op.f("fk_woocommerce_tracking_shipment_id_shipment")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_woocommerce_tracking")),
        sa.UniqueConstraint("shop_id", "shipment_id", name=op.f("uq_woocommerce_tracking_shop_id_shipment_id")),
    )
    op.create_index(op.f("ix_woocommerce_tracking_shop_id"), "woocommerce_tracking", ["shop_id"])


def downgrade():
    for table in ("woocommerce_tracking", "woocommerce_listing", "woocommerce_webhook", "woocommerce_state"):
        op.drop_table(table)
