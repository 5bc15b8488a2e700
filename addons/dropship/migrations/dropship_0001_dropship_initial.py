"""dropship: suppliers

Revision ID: dropship_0001
Revises:
Create Date: 2026-11-27 12:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = "dropship_0001"
down_revision = None
branch_labels = ("dropship",)
depends_on = "core_0001"


def upgrade():
    op.create_table(
        "dropship_supplier",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("order_channel", sa.String(length=16), nullable=False),
        sa.Column("webhook_url", sa.String(length=500), nullable=True),
        sa.Column("lead_time_days", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.CheckConstraint("order_channel IN ('email', 'webhook')", name=op.f("ck_dropship_supplier_order_channel")),
        sa.ForeignKeyConstraint(["organization_id"], ["organization.id"], ondelete="CASCADE",
                                name=op.f("fk_dropship_supplier_organization_id_organization")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dropship_supplier")),
        sa.UniqueConstraint("organization_id", "name", name=op.f("uq_dropship_supplier_organization_id_name")),
    )


def downgrade():
    op.drop_table("dropship_supplier")
