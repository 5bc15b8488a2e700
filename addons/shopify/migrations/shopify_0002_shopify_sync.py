"""shopify: shop state, locations, fulfillments, privacy requests; inbox ordering columns

Revision ID: shopify_0002
Revises: shopify_0001
Create Date: 2026-11-27 18:00:00

"""
from alembic import op
import sqlalchemy as sa

import core.models


revision = "shopify_0002"
down_revision = "shopify_0001"
branch_labels = None
depends_on = "core_0002"


def upgrade():
    with op.batch_alter_table("shopify_webhook_inbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("resource_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("triggered_at", core.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("api_version", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("last_error", sa.Text(), nullable=True))
        batch_op.create_index("ix_shopify_webhook_inbox_pending", ["shop_id", "processed_at"], unique=False)
    with op.batch_alter_table("shopify_webhook_inbox", schema=None) as batch_op:
        batch_op.alter_column("attempts", server_default=None)

    op.create_table(
        "shopify_shop_state",
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("domain", sa.String(length=255), nullable=False),
        sa.Column("webhook_url", sa.String(length=500), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("products_synced_at", core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("installed_at", core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("uninstalled_at", core.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["shop_id"], ["shop.id"], ondelete="CASCADE",
                                name=op.f("fk_shopify_shop_state_shop_id_shop")),
        sa.PrimaryKeyConstraint("shop_id", name=op.f("pk_shopify_shop_state")),
    )
    with op.batch_alter_table("shopify_shop_state", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shopify_shop_state_domain"), ["domain"], unique=False)

    op.create_table(
        "shopify_location",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("location_gid", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("retail", sa.Boolean(), nullable=False),
        sa.Column("stock_target", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("warehouse_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["shop_id"], ["shop.id"], ondelete="CASCADE",
                                name=op.f("fk_shopify_location_shop_id_shop")),
        sa.ForeignKeyConstraint(["warehouse_id"], ["warehouse.id"], ondelete="SET NULL",
                                name=op.f("fk_shopify_location_warehouse_id_warehouse")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shopify_location")),
        sa.UniqueConstraint("shop_id", "location_gid", name=op.f("uq_shopify_location_shop_id_location_gid")),
    )

    op.create_table(
        "shopify_fulfillment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("shipment_id", sa.Integer(), nullable=False),
        sa.Column("fulfillment_gid", sa.String(length=64), nullable=False),
        sa.Column("created_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["shop_id"], ["shop.id"], ondelete="CASCADE",
                                name=op.f("fk_shopify_fulfillment_shop_id_shop")),
        sa.ForeignKeyConstraint(["shipment_id"], ["shipment.id"], ondelete="CASCADE",
                                name=op.f("fk_shopify_fulfillment_shipment_id_shipment")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shopify_fulfillment")),
        sa.UniqueConstraint("shipment_id", "fulfillment_gid",
                            name=op.f("uq_shopify_fulfillment_shipment_id_fulfillment_gid")),
    )
    with op.batch_alter_table("shopify_fulfillment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shopify_fulfillment_shipment_id"), ["shipment_id"], unique=False)

    op.create_table(
        "shopify_privacy_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("customer_email", sa.String(length=254), nullable=True),
        sa.Column("received_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["shop_id"], ["shop.id"], ondelete="CASCADE",
                                name=op.f("fk_shopify_privacy_request_shop_id_shop")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shopify_privacy_request")),
    )
    with op.batch_alter_table("shopify_privacy_request", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shopify_privacy_request_shop_id"), ["shop_id"], unique=False)


def downgrade():
    with op.batch_alter_table("shopify_privacy_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shopify_privacy_request_shop_id"))
    op.drop_table("shopify_privacy_request")
    with op.batch_alter_table("shopify_fulfillment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shopify_fulfillment_shipment_id"))
    op.drop_table("shopify_fulfillment")
    op.drop_table("shopify_location")
    with op.batch_alter_table("shopify_shop_state", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shopify_shop_state_domain"))
    op.drop_table("shopify_shop_state")
    with op.batch_alter_table("shopify_webhook_inbox", schema=None) as batch_op:
        batch_op.drop_index("ix_shopify_webhook_inbox_pending")
        batch_op.drop_column("last_error")
        batch_op.drop_column("attempts")
        batch_op.drop_column("api_version")
        batch_op.drop_column("triggered_at")
        batch_op.drop_column("resource_id")
