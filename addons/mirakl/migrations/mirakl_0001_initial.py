"""mirakl: orders, shop state, stock imports, shipments

Revision ID: mirakl_0001
Revises:
Create Date: 2026-12-02 14:00:00
"""
import sqlalchemy as sa
from alembic import op

import core.models

revision = "mirakl_0001"
down_revision = None
branch_labels = ("mirakl",)
depends_on = "core_0001"

DT = core.models.UTCDateTime


def upgrade():
    op.create_table(
        "mirakl_order",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("mirakl_order_id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=64), nullable=False),
        sa.Column("line_ids", sa.JSON(), nullable=False),
        sa.Column("created_at", DT(), nullable=True),
        sa.Column("shipping_deadline", DT(), nullable=True),
        sa.Column("address_known", sa.Boolean(), nullable=False),
        sa.Column("pickup_point_id", sa.String(length=64), nullable=True),
        sa.Column("decision", sa.String(length=16), nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("decision_sent_at", DT(), nullable=True),
        sa.Column("cancel_sent_at", DT(), nullable=True),
        sa.Column("updated_at", DT(), nullable=False),
        sa.ForeignKeyConstraint(["shop_id"], ["shop.id"], name=op.f("fk_mirakl_order_shop_id_shop"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["order_id"], ["order.id"], name=op.f("fk_mirakl_order_order_id_order"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mirakl_order")),
        sa.UniqueConstraint("shop_id", "mirakl_order_id", name=op.f("uq_mirakl_order_shop_id_mirakl_order_id")),
    )
    op.create_index(op.f("ix_mirakl_order_shop_id"), "mirakl_order", ["shop_id"], unique=False)
    op.create_index(op.f("ix_mirakl_order_order_id"), "mirakl_order", ["order_id"], unique=False)
    op.create_table(
        "mirakl_shop_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("pending_variants", sa.JSON(), nullable=False),
        sa.Column("carriers", sa.JSON(), nullable=False),
        sa.Column("carriers_at", DT(), nullable=True),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("reasons_at", DT(), nullable=True),
        sa.Column("last_stock_import_at", DT(), nullable=True),
        sa.ForeignKeyConstraint(["shop_id"], ["shop.id"], name=op.f("fk_mirakl_shop_state_shop_id_shop"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mirakl_shop_state")),
        sa.UniqueConstraint("shop_id", name=op.f("uq_mirakl_shop_state_shop_id")),
    )
    op.create_table(
        "mirakl_stock_import",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("import_id", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("quantities", sa.JSON(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("lines_in_success", sa.Integer(), nullable=False),
        sa.Column("lines_in_error", sa.Integer(), nullable=False),
        sa.Column("created_at", DT(), nullable=False),
        sa.Column("checked_at", DT(), nullable=True),
        sa.ForeignKeyConstraint(["shop_id"], ["shop.id"], name=op.f("fk_mirakl_stock_import_shop_id_shop"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mirakl_stock_import")),
    )
    op.create_index(op.f("ix_mirakl_stock_import_shop_id"), "mirakl_stock_import", ["shop_id"], unique=False)
    op.create_table(
        "mirakl_shipment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("shipment_id", sa.Integer(), nullable=False),
        sa.Column("mirakl_order_id", sa.String(length=64), nullable=False),
        sa.Column("carrier_code", sa.String(length=64), nullable=True),
        sa.Column("tracking_sent_at", DT(), nullable=True),
        sa.Column("shipped_sent_at", DT(), nullable=True),
        sa.Column("mirakl_shipment_id", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["shop_id"], ["shop.id"], name=op.f("fk_mirakl_shipment_shop_id_shop"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["shipment_id"], ["shipment.id"], name=op.f("fk_mirakl_shipment_shipment_id_shipment"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mirakl_shipment")),
        sa.UniqueConstraint("shipment_id", name=op.f("uq_mirakl_shipment_shipment_id")),
    )
    op.create_index(op.f("ix_mirakl_shipment_shop_id"), "mirakl_shipment", ["shop_id"], unique=False)


def downgrade():
    op.drop_table("mirakl_shipment")
    op.drop_table("mirakl_stock_import")
    op.drop_table("mirakl_shop_state")
    op.drop_table("mirakl_order")
