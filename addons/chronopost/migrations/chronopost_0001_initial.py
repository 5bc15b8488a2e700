"""chronopost: the Chronopost waybill of each shipment

Revision ID: chronopost_0001
Revises:
Create Date: 2026-12-02 14:20:00

"""
from alembic import op
import sqlalchemy as sa

import core.models


revision = "chronopost_0001"
down_revision = None
branch_labels = ("chronopost",)
depends_on = "core_0001"


def upgrade():
    op.create_table(
        "chronopost_skybill",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("shipment_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("skybill", sa.String(length=32), nullable=True),
        sa.Column("product_code", sa.String(length=4), nullable=False),
        sa.Column("event_code", sa.String(length=8), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["shop_id"], ["shop.id"], ondelete="CASCADE",
                                name=op.f("fk_chronopost_skybill_shop_id_shop")),
        sa.ForeignKeyConstraint(["shipment_id"], ["shipment.id"], ondelete="CASCADE",
                                name=op.f("fk_chronopost_skybill_shipment_id_shipment")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chronopost_skybill")),
        sa.UniqueConstraint("shipment_id", name=op.f("uq_chronopost_skybill_shipment_id")),
    )
    op.create_index(op.f("ix_chronopost_skybill_shop_id"), "chronopost_skybill", ["shop_id"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_chronopost_skybill_shop_id"), table_name="chronopost_skybill")
    op.drop_table("chronopost_skybill")
