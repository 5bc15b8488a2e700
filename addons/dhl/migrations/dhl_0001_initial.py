"""dhl: DHL Express shipments, courier pickups, tracking quota

Revision ID: dhl_0001
Revises:
Create Date: 2026-12-02 13:45:00

"""
from alembic import op
import sqlalchemy as sa

import core.models

revision = "dhl_0001"
down_revision = None
branch_labels = ("dhl",)
depends_on = "core_0001"


def upgrade():
    op.create_table(
        "dhl_pickup",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("dispatch_confirmation_number", sa.String(length=64), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("ready_by", sa.String(length=32), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("created_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["shop_id"], ["shop.id"], name=op.f("fk_dhl_pickup_shop_id_shop"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dhl_pickup")),
    )
    op.create_index(op.f("ix_dhl_pickup_shop_id"), "dhl_pickup", ["shop_id"], unique=False)
    op.create_table(
        "dhl_shipment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("shipment_id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=35), nullable=False),
        sa.Column("message_reference", sa.String(length=36), nullable=False),
        sa.Column("product_code", sa.String(length=4), nullable=True),
        sa.Column("planned_on", sa.Date(), nullable=True),
        sa.Column("tracking_number", sa.String(length=32), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("customs", sa.Boolean(), nullable=False),
        sa.Column("paperless", sa.Boolean(), nullable=False),
        sa.Column("invoice", sa.LargeBinary(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("status_code", sa.String(length=32), nullable=True),
        sa.Column("status_message", sa.String(length=200), nullable=True),
        sa.Column("status_at", core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("next_check_at", core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("pickup_id", sa.Integer(), nullable=True),
        sa.Column("created_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["pickup_id"], ["dhl_pickup.id"], name=op.f("fk_dhl_shipment_pickup_id_dhl_pickup"),
                                ondelete="SET NULL"),
        sa.ForeignKeyConstraint(["shipment_id"], ["shipment.id"], name=op.f("fk_dhl_shipment_shipment_id_shipment"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["shop_id"], ["shop.id"], name=op.f("fk_dhl_shipment_shop_id_shop"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dhl_shipment")),
        sa.UniqueConstraint("shipment_id", name=op.f("uq_dhl_shipment_shipment_id")),
    )
    op.create_index("ix_dhl_shipment_shop_state", "dhl_shipment", ["shop_id", "state"], unique=False)
    op.create_index(op.f("ix_dhl_shipment_tracking_number"), "dhl_shipment", ["tracking_number"], unique=False)
    op.create_index(op.f("ix_dhl_shipment_next_check_at"), "dhl_shipment", ["next_check_at"], unique=False)
    op.create_table(
        "dhl_api_quota",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_digest", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dhl_api_quota")),
        sa.UniqueConstraint("key_digest", "day", name=op.f("uq_dhl_api_quota_key_digest_day")),
    )


def downgrade():
    op.drop_table("dhl_api_quota")
    op.drop_index(op.f("ix_dhl_shipment_next_check_at"), table_name="dhl_shipment")
    op.drop_index(op.f("ix_dhl_shipment_tracking_number"), table_name="dhl_shipment")
    op.drop_index("ix_dhl_shipment_shop_state", table_name="dhl_shipment")
    op.drop_table("dhl_shipment")
    op.drop_index(op.f("ix_dhl_pickup_shop_id"), table_name="dhl_pickup")
    op.drop_table("dhl_pickup")
