"""sendcloud: shipping methods of an account

Revision ID: sendcloud_0001
Revises:
Create Date: 2026-11-27 12:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = "sendcloud_0001"
down_revision = None
branch_labels = ("sendcloud",)
depends_on = "core_0001"


def upgrade():
    op.create_table(
        "sendcloud_shipping_method",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("method_id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("carrier", sa.String(length=64), nullable=False),
        sa.Column("min_weight_grams", sa.Integer(), nullable=True),
        sa.Column("max_weight_grams", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["shop_id"], ["shop.id"], ondelete="CASCADE",
                                name=op.f("fk_sendcloud_shipping_method_shop_id_shop")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sendcloud_shipping_method")),
        sa.UniqueConstraint("shop_id", "method_id", name=op.f("uq_sendcloud_shipping_method_shop_id_method_id")),
    )


def downgrade():
    op.drop_table("sendcloud_shipping_method")
