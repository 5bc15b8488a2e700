"""amazon: marketplaces of a seller account

Revision ID: amazon_0001
Revises:
Create Date: 2026-11-27 12:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = "amazon_0001"
down_revision = None
branch_labels = ("amazon",)
depends_on = "core_0001"


def upgrade():
    op.create_table(
        "amazon_marketplace",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("marketplace_id", sa.String(length=32), nullable=False),
        sa.Column("country_code", sa.String(length=2), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("participating", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["shop_id"], ["shop.id"], ondelete="CASCADE",
                                name=op.f("fk_amazon_marketplace_shop_id_shop")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_amazon_marketplace")),
        sa.UniqueConstraint("shop_id", "marketplace_id", name=op.f("uq_amazon_marketplace_shop_id_marketplace_id")),
    )


def downgrade():
    op.drop_table("amazon_marketplace")
