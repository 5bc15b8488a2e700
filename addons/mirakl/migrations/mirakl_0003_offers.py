"""mirakl: the shop's offers (OF21)

Revision ID: mirakl_0003
Revises: mirakl_0002
Create Date: 2026-12-02 20:30:00
"""
import sqlalchemy as sa
from alembic import op

import core.models

revision = "mirakl_0003"
down_revision = "mirakl_0002"
branch_labels = None
depends_on = None

DT = core.models.UTCDateTime


def upgrade():
    op.create_table(
        "mirakl_offer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("variant_id", sa.Integer(), nullable=True),
        sa.Column("shop_sku", sa.String(length=128), nullable=False),
        sa.Column("offer_id", sa.String(length=32), nullable=True),
        sa.Column("product_sku", sa.String(length=128), nullable=True),
        sa.Column("ean", sa.String(length=32), nullable=True),
        sa.Column("title", sa.String(length=255), nullable=True),
        sa.Column("price", sa.String(length=32), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("seen_at", DT(), nullable=False),
        sa.ForeignKeyConstraint(["shop_id"], ["shop.id"], name=op.f("fk_mirakl_offer_shop_id_shop"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["variant_id"], ["variant.id"], name=op.f("fk_mirakl_offer_variant_id_variant"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mirakl_offer")),
        sa.UniqueConstraint("shop_id", "shop_sku", name=op.f("uq_mirakl_offer_shop_id_shop_sku")),
    )
    op.create_index(op.f("ix_mirakl_offer_shop_id"), "mirakl_offer", ["shop_id"], unique=False)
    op.create_index(op.f("ix_mirakl_offer_variant_id"), "mirakl_offer", ["variant_id"], unique=False)


def downgrade():
    op.drop_table("mirakl_offer")
