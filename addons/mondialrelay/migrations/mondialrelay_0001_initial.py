"""mondialrelay: the Mondial Relay side of each shipment

Revision ID: mondialrelay_0001
Revises:
Create Date: 2026-12-02 14:20:00

"""
from alembic import op
import sqlalchemy as sa

import core.models


revision = "mondialrelay_0001"
down_revision = None
branch_labels = ("mondialrelay",)
depends_on = "core_0001"


def upgrade():
    op.create_table(
        "mondialrelay_shipment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("shipment_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=True),
        sa.Column("delivery_mode", sa.String(length=8), nullable=False),
        sa.Column("relay_id", sa.String(length=16), nullable=True),
        sa.Column("label_url", sa.String(length=500), nullable=True),
        sa.Column("stat", sa.String(length=8), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["shop_id"], ["shop.id"], ondelete="CASCADE",
                                name=op.f("fk_mondialrelay_shipment_shop_id_shop")),
        sa.ForeignKeyConstraint(["shipment_id"], ["shipment.id"], ondelete="CASCADE",
                                name=op.f("fk_mondialrelay_shipment_shipment_id_shipment")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mondialrelay_shipment")),
        sa.UniqueConstraint("shipment_id", name=op.f("uq_mondialrelay_shipment_shipment_id")),
    )
    op.create_index(op.f("ix_mondialrelay_shipment_shop_id"), "mondialrelay_shipment", ["shop_id"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_mondialrelay_shipment_shop_id"), table_name="mondialrelay_shipment")
    op.drop_table("mondialrelay_shipment")
