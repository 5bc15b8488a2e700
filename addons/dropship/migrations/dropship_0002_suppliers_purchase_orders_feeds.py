"""dropship: supplier details, supplier products, routed lines, purchase orders with their
sends and tracking, stock feed runs

Revision ID: dropship_0002
Revises: dropship_0001
Create Date: 2026-11-27 12:00:00

"""
from alembic import op
import sqlalchemy as sa

import core.models


revision = "dropship_0002"
down_revision = "dropship_0001"
branch_labels = None
depends_on = "core_0001"


def upgrade():
    with op.batch_alter_table("dropship_supplier", schema=None) as batch_op:
        batch_op.add_column(sa.Column("contact_name", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("phone", sa.String(length=40), nullable=True))
        # core.crypto.EncryptedJSON: Fernet-encrypted JSON stored as text
        batch_op.add_column(sa.Column("secrets", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("api_key_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False))
        batch_op.add_column(sa.Column("warehouse_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("batch_times", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("last_batch_at", core.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("feed_url", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("feed_interval_minutes", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("last_feed_at", core.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_dropship_supplier_api_key_hash"), ["api_key_hash"])
        batch_op.create_foreign_key(batch_op.f("fk_dropship_supplier_warehouse_id_warehouse"), "warehouse",
                                    ["warehouse_id"], ["id"], ondelete="SET NULL")

    op.create_table(
        "dropship_supplier_product",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=False),
        sa.Column("variant_id", sa.Integer(), nullable=False),
        sa.Column("supplier_sku", sa.String(length=64), nullable=False),
        sa.Column("unit_cost", sa.Numeric(precision=15, scale=4), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("dropship_only", sa.Boolean(), nullable=False),
        sa.CheckConstraint("mode IN ('dropship', 'restock')", name=op.f("ck_dropship_supplier_product_mode")),
        sa.ForeignKeyConstraint(["supplier_id"], ["dropship_supplier.id"], ondelete="CASCADE",
                                name=op.f("fk_dropship_supplier_product_supplier_id_dropship_supplier")),
        sa.ForeignKeyConstraint(["variant_id"], ["variant.id"], ondelete="CASCADE",
                                name=op.f("fk_dropship_supplier_product_variant_id_variant")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dropship_supplier_product")),
        sa.UniqueConstraint("supplier_id", "supplier_sku",
                            name=op.f("uq_dropship_supplier_product_supplier_id_supplier_sku")),
        sa.UniqueConstraint("supplier_id", "variant_id",
                            name=op.f("uq_dropship_supplier_product_supplier_id_variant_id")),
    )
    with op.batch_alter_table("dropship_supplier_product", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dropship_supplier_product_variant_id"), ["variant_id"], unique=False)

    op.create_table(
        "dropship_purchase_order",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("ship_to", sa.JSON(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("confirmed_at", core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("shipped_at", core.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["order_id"], ["order.id"], ondelete="CASCADE",
                                name=op.f("fk_dropship_purchase_order_order_id_order")),
        sa.ForeignKeyConstraint(["organization_id"], ["organization.id"], ondelete="CASCADE",
                                name=op.f("fk_dropship_purchase_order_organization_id_organization")),
        sa.ForeignKeyConstraint(["shop_id"], ["shop.id"], ondelete="CASCADE",
                                name=op.f("fk_dropship_purchase_order_shop_id_shop")),
        sa.ForeignKeyConstraint(["supplier_id"], ["dropship_supplier.id"], ondelete="CASCADE",
                                name=op.f("fk_dropship_purchase_order_supplier_id_dropship_supplier")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dropship_purchase_order")),
        sa.UniqueConstraint("reference", name=op.f("uq_dropship_purchase_order_reference")),
    )
    with op.batch_alter_table("dropship_purchase_order", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dropship_purchase_order_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_dropship_purchase_order_organization_id"), ["organization_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_dropship_purchase_order_supplier_id"), ["supplier_id"], unique=False)

    op.create_table(
        "dropship_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_line_id", sa.Integer(), nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=False),
        sa.Column("supplier_product_id", sa.Integer(), nullable=True),
        sa.Column("purchase_order_id", sa.Integer(), nullable=True),
        sa.Column("sku", sa.String(length=64), nullable=False),
        sa.Column("supplier_sku", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=255), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_cost", sa.Numeric(precision=15, scale=4), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("routed_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["order_line_id"], ["order_line.id"], ondelete="CASCADE",
                                name=op.f("fk_dropship_line_order_line_id_order_line")),
        sa.ForeignKeyConstraint(["purchase_order_id"], ["dropship_purchase_order.id"], ondelete="SET NULL",
                                name=op.f("fk_dropship_line_purchase_order_id_dropship_purchase_order")),
        sa.ForeignKeyConstraint(["supplier_id"], ["dropship_supplier.id"], ondelete="CASCADE",
                                name=op.f("fk_dropship_line_supplier_id_dropship_supplier")),
        sa.ForeignKeyConstraint(["supplier_product_id"], ["dropship_supplier_product.id"], ondelete="SET NULL",
                                name=op.f("fk_dropship_line_supplier_product_id_dropship_supplier_product")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dropship_line")),
        sa.UniqueConstraint("order_line_id", name=op.f("uq_dropship_line_order_line_id")),
    )
    with op.batch_alter_table("dropship_line", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dropship_line_purchase_order_id"), ["purchase_order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_dropship_line_supplier_id"), ["supplier_id"], unique=False)

    op.create_table(
        "dropship_send",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("purchase_order_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("batch", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["purchase_order_id"], ["dropship_purchase_order.id"], ondelete="CASCADE",
                                name=op.f("fk_dropship_send_purchase_order_id_dropship_purchase_order")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dropship_send")),
    )
    with op.batch_alter_table("dropship_send", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dropship_send_purchase_order_id"), ["purchase_order_id"], unique=False)

    op.create_table(
        "dropship_tracking",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("purchase_order_id", sa.Integer(), nullable=False),
        sa.Column("shipment_id", sa.Integer(), nullable=True),
        sa.Column("carrier", sa.String(length=120), nullable=False),
        sa.Column("tracking_number", sa.String(length=128), nullable=False),
        sa.Column("tracking_url", sa.String(length=500), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("created_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["purchase_order_id"], ["dropship_purchase_order.id"], ondelete="CASCADE",
                                name=op.f("fk_dropship_tracking_purchase_order_id_dropship_purchase_order")),
        sa.ForeignKeyConstraint(["shipment_id"], ["shipment.id"], ondelete="SET NULL",
                                name=op.f("fk_dropship_tracking_shipment_id_shipment")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dropship_tracking")),
        sa.UniqueConstraint("purchase_order_id", "tracking_number",
                            name=op.f("uq_dropship_tracking_purchase_order_id_tracking_number")),
    )

    op.create_table(
        "dropship_feed_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=False),
        sa.Column("at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("ok_rows", sa.Integer(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["supplier_id"], ["dropship_supplier.id"], ondelete="CASCADE",
                                name=op.f("fk_dropship_feed_run_supplier_id_dropship_supplier")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dropship_feed_run")),
    )
    with op.batch_alter_table("dropship_feed_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dropship_feed_run_supplier_id"), ["supplier_id"], unique=False)


def downgrade():
    with op.batch_alter_table("dropship_feed_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dropship_feed_run_supplier_id"))
    op.drop_table("dropship_feed_run")
    op.drop_table("dropship_tracking")
    with op.batch_alter_table("dropship_send", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dropship_send_purchase_order_id"))
    op.drop_table("dropship_send")
    with op.batch_alter_table("dropship_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dropship_line_supplier_id"))
        batch_op.drop_index(batch_op.f("ix_dropship_line_purchase_order_id"))
    op.drop_table("dropship_line")
    with op.batch_alter_table("dropship_purchase_order", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dropship_purchase_order_supplier_id"))
        batch_op.drop_index(batch_op.f("ix_dropship_purchase_order_organization_id"))
        batch_op.drop_index(batch_op.f("ix_dropship_purchase_order_order_id"))
    op.drop_table("dropship_purchase_order")
    with op.batch_alter_table("dropship_supplier_product", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dropship_supplier_product_variant_id"))
    op.drop_table("dropship_supplier_product")
    with op.batch_alter_table("dropship_supplier", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_dropship_supplier_warehouse_id_warehouse"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("uq_dropship_supplier_api_key_hash"), type_="unique")
        batch_op.drop_column("last_feed_at")
        batch_op.drop_column("feed_interval_minutes")
        batch_op.drop_column("feed_url")
        batch_op.drop_column("last_batch_at")
        batch_op.drop_column("batch_times")
        batch_op.drop_column("warehouse_id")
        batch_op.drop_column("active")
        batch_op.drop_column("api_key_hash")
        batch_op.drop_column("secrets")
        batch_op.drop_column("phone")
        batch_op.drop_column("contact_name")
