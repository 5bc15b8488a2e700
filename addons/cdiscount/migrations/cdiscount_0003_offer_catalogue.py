"""cdiscount: the seller's offer catalogue read from Octopia (GET /offers), offers without an OMS
product kept until the merchant links or creates it

Revision ID: cdiscount_0003
Revises: cdiscount_0002
Create Date: 2026-12-03 06:30:00
"""
import sqlalchemy as sa
from alembic import op

import core.models

revision = "cdiscount_0003"
down_revision = "cdiscount_0002"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("cdiscount_offer", schema=None) as batch_op:
        batch_op.drop_constraint("uq_cdiscount_offer_shop_id_variant_id", type_="unique")
        batch_op.alter_column("variant_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("seller_sku", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("offer_id", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("gtin", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("title", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("remote_price", sa.Numeric(precision=15, scale=2), nullable=True))
        batch_op.add_column(sa.Column("remote_stock", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("offer_state", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("seen_at", core.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_unique_constraint("uq_cdiscount_offer_shop_id_seller_sku", ["shop_id", "seller_sku"])
        batch_op.create_index("ix_cdiscount_offer_variant_id", ["variant_id"], unique=False)


def downgrade():
    op.execute("DELETE FROM cdiscount_offer WHERE variant_id IS NULL")  # one offer a variant, as before
    op.execute("DELETE FROM cdiscount_offer WHERE id NOT IN (SELECT keep FROM (SELECT MIN(id) AS keep "
               "FROM cdiscount_offer GROUP BY shop_id, variant_id) AS kept)")
    with op.batch_alter_table("cdiscount_offer", schema=None) as batch_op:
        batch_op.drop_index("ix_cdiscount_offer_variant_id")
        batch_op.drop_constraint("uq_cdiscount_offer_shop_id_seller_sku", type_="unique")
        for column in ("seen_at", "offer_state", "remote_stock", "remote_price", "title", "gtin", "offer_id",
                       "seller_sku"):
            batch_op.drop_column(column)
        batch_op.alter_column("variant_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_unique_constraint("uq_cdiscount_offer_shop_id_variant_id", ["shop_id", "variant_id"])
