"""cdiscount: Octopia orders and their decision, parcels sent, offers pushed

Revision ID: cdiscount_0001
Revises:
Create Date: 2026-12-02 00:00:00
"""
import sqlalchemy as sa
from alembic import op

import core.models

revision = "cdiscount_0001"
down_revision = None
branch_labels = ("cdiscount",)
depends_on = "core_0001"


def upgrade():
    op.create_table(
        "cdiscount_order",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("octopia_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("supply_mode", sa.String(length=20), nullable=False),
        sa.Column("sales_channel", sa.String(length=20), nullable=False),
        sa.Column("decision", sa.String(length=10), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("decision_state", sa.String(length=10), nullable=True),
        sa.Column("decision_calls", sa.Integer(), nullable=False),
        sa.Column("decided_at", core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancel_state", sa.String(length=10), nullable=True),
        sa.Column("updated_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["shop_id"], ["shop.id"], name=op.f("fk_cdiscount_order_shop_id_shop"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["order_id"], ["order.id"], name=op.f("fk_cdiscount_order_order_id_order"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cdiscount_order")),
        sa.UniqueConstraint("order_id", name=op.f("uq_cdiscount_order_order_id")),
        sa.UniqueConstraint("shop_id", "octopia_id", name=op.f("uq_cdiscount_order_shop_id_octopia_id")),
    )
    op.create_index(op.f("ix_cdiscount_order_shop_id"), "cdiscount_order", ["shop_id"], unique=False)
    op.create_table(
        "cdiscount_parcel",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("shipment_id", sa.Integer(), nullable=False),
        sa.Column("parcel_number", sa.String(length=128), nullable=False),
        sa.Column("carrier_name", sa.String(length=80), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("sent_at", core.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["shop_id"], ["shop.id"], name=op.f("fk_cdiscount_parcel_shop_id_shop"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["shipment_id"], ["shipment.id"],
                                name=op.f("fk_cdiscount_parcel_shipment_id_shipment"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cdiscount_parcel")),
        sa.UniqueConstraint("shipment_id", name=op.f("uq_cdiscount_parcel_shipment_id")),
    )
    op.create_index(op.f("ix_cdiscount_parcel_shop_id"), "cdiscount_parcel", ["shop_id"], unique=False)
    op.create_table(
        "cdiscount_offer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("variant_id", sa.Integer(), nullable=False),
        sa.Column("pending", sa.Boolean(), nullable=False),
        sa.Column("stock", sa.Integer(), nullable=True),
        sa.Column("price", sa.Numeric(precision=15, scale=2), nullable=True),
        sa.Column("pushed_at", core.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["shop_id"], ["shop.id"], name=op.f("fk_cdiscount_offer_shop_id_shop"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["variant_id"], ["variant.id"], name=op.f("fk_cdiscount_offer_variant_id_variant"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cdiscount_offer")),
        sa.UniqueConstraint("shop_id", "variant_id", name=op.f("uq_cdiscount_offer_shop_id_variant_id")),
    )
    op.create_index(op.f("ix_cdiscount_offer_shop_id"), "cdiscount_offer", ["shop_id"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_cdiscount_offer_shop_id"), table_name="cdiscount_offer")
    op.drop_table("cdiscount_offer")
    op.drop_index(op.f("ix_cdiscount_parcel_shop_id"), table_name="cdiscount_parcel")
    op.drop_table("cdiscount_parcel")
    op.drop_index(op.f("ix_cdiscount_order_shop_id"), table_name="cdiscount_order")
    op.drop_table("cdiscount_order")
