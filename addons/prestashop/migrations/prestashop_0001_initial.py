"""prestashop: shop state, listings, trackings

Revision ID: prestashop_0001
Revises:
Create Date: 2026-12-02 14:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = "prestashop_0001"
down_revision = None
branch_labels = ("prestashop",)
depends_on = "core_0001"


def _shop_fk(table):
    return sa.ForeignKeyConstraint(["shop_id"], ["shop.id"], ondelete="CASCADE", name=op.f(f"fk_{table}_shop_id_shop"))


def upgrade():
    op.create_table(
        "prestashop_state",
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("shop_name", sa.String(length=255), nullable=True),
        sa.Column("version", sa.String(length=32), nullable=True),
        sa.Column("order_states", sa.JSON(), nullable=False),
        sa.Column("catalog_synced_at", sa.DateTime(timezone=True), nullable=True),
        _shop_fk("prestashop_state"),
        sa.PrimaryKeyConstraint("shop_id", name=op.f("pk_prestashop_state")),
    )
    op.create_table(
        "prestashop_listing",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("id_product", sa.Integer(), nullable=False),
        sa.Column("id_product_attribute", sa.Integer(), nullable=False),
        sa.Column("stock_available_id", sa.Integer(), nullable=True),
        sa.Column("sku", sa.String(length=255), nullable=False),
        sa.Column("barcode", sa.String(length=64), nullable=True),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("variant_id", sa.Integer(), nullable=True),
        sa.Column("pushed_quantity", sa.Integer(), nullable=True),
        sa.Column("push_error", sa.Text(), nullable=True),
        _shop_fk("prestashop_listing"),
        sa.ForeignKeyConstraint(["variant_id"], ["variant.id"], ondelete="SET NULL",
                                name=op.f("fk_prestashop_listing_variant_id_variant")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prestashop_listing")),
        sa.UniqueConstraint("shop_id", "id_product", "id_product_attribute",
                            name=op.f("uq_prestashop_listing_shop_id_id_product_id_product_attribute")),
    )
    op.create_index(op.f("ix_prestashop_listing_shop_id"), "prestashop_listing", ["shop_id"])
    op.create_index(op.f("ix_prestashop_listing_sku"), "prestashop_listing", ["sku"])
    op.create_index(op.f("ix_prestashop_listing_variant_id"), "prestashop_listing", ["variant_id"])
    op.create_table(
        "prestashop_tracking",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("shipment_id", sa.Integer(), nullable=False),
        sa.Column("order_carrier_id", sa.Integer(), nullable=True),
        sa.Column("state_sent", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _shop_fk("prestashop_tracking"),
        sa.ForeignKeyConstraint(["shipment_id"], ["shipment.id"], ondelete="CASCADE",
                                name=op.f("fk_prestashop_tracking_shipment_id_shipment")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prestashop_tracking")),
        sa.UniqueConstraint("shop_id", "shipment_id", name=op.f("uq_prestashop_tracking_shop_id_shipment_id")),
    )
    op.create_index(op.f("ix_prestashop_tracking_shop_id"), "prestashop_tracking", ["shop_id"])


def downgrade():
    for table in ("prestashop_tracking", "prestashop_listing", "prestashop_state"):
        op.drop_table(table)
