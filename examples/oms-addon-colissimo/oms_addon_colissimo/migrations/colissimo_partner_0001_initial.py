"""colissimo_partner: initial tables

Revision ID: colissimo_partner_0001
Revises:
Create Date: 2026-01-01 00:00:00
"""
import sqlalchemy as sa
from alembic import op

import core.models

revision = "colissimo_partner_0001"
down_revision = None
branch_labels = ("colissimo_partner",)
depends_on = "core_0001"


def upgrade():
    op.create_table(
        "colissimo_partner_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("external_id", sa.String(length=128), nullable=False),
        sa.Column("local_id", sa.Integer(), nullable=True),
        sa.Column("created_at", core.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["shop_id"], ["shop.id"], name=op.f("fk_colissimo_partner_link_shop_id_shop"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_colissimo_partner_link")),
        sa.UniqueConstraint("shop_id", "kind", "external_id", name=op.f("uq_colissimo_partner_link_shop_id_kind_external_id")),
    )
    op.create_index(op.f("ix_colissimo_partner_link_shop_id"), "colissimo_partner_link", ["shop_id"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_colissimo_partner_link_shop_id"), table_name="colissimo_partner_link")
    op.drop_table("colissimo_partner_link")
