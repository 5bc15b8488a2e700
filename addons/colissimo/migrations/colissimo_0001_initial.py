"""colissimo: parcels labelled and return labels

Revision ID: colissimo_0001
Revises:
Create Date: 2026-12-02 14:00:00

"""
from alembic import op
import sqlalchemy as sa

import core.models

revision = "colissimo_0001"
down_revision = None
branch_labels = ("colissimo",)
depends_on = "core_0001"


def upgrade():
    op.create_table(
        "colissimo_parcel",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("shipment_id", sa.Integer(), nullable=False),
        sa.Column("product_code", sa.String(length=8), nullable=True),
        sa.Column("pickup_point_id", sa.String(length=16), nullable=True),
        sa.Column("parcel_number", sa.String(length=32), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("cn23", sa.LargeBinary(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("event_code", sa.String(length=8), nullable=True),
        sa.Column("status_message", sa.String(length=200), nullable=True),
        sa.Column("status_at", core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["shipment_id"], ["shipment.id"], name=op.f("fk_colissimo_parcel_shipment_id_shipment"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["shop_id"], ["shop.id"], name=op.f("fk_colissimo_parcel_shop_id_shop"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_colissimo_parcel")),
        sa.UniqueConstraint("shipment_id", name=op.f("uq_colissimo_parcel_shipment_id")),
    )
    op.create_index("ix_colissimo_parcel_shop_state", "colissimo_parcel", ["shop_id", "state"], unique=False)
    op.create_index(op.f("ix_colissimo_parcel_parcel_number"), "colissimo_parcel", ["parcel_number"], unique=False)
    op.create_table(
        "colissimo_return",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("product_code", sa.String(length=8), nullable=False),
        sa.Column("parcel_number", sa.String(length=32), nullable=False),
        sa.Column("label", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["order.id"], name=op.f("fk_colissimo_return_order_id_order"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["shop_id"], ["shop.id"], name=op.f("fk_colissimo_return_shop_id_shop"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_colissimo_return")),
    )
    op.create_index(op.f("ix_colissimo_return_shop_id"), "colissimo_return", ["shop_id"], unique=False)
    op.create_index(op.f("ix_colissimo_return_order_id"), "colissimo_return", ["order_id"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_colissimo_return_order_id"), table_name="colissimo_return")
    op.drop_index(op.f("ix_colissimo_return_shop_id"), table_name="colissimo_return")
    op.drop_table("colissimo_return")
    op.drop_index(op.f("ix_colissimo_parcel_parcel_number"), table_name="colissimo_parcel")
    op.drop_index("ix_colissimo_parcel_shop_state", table_name="colissimo_parcel")
    op.drop_table("colissimo_parcel")
