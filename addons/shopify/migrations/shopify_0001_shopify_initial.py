"""shopify: webhook inbox

Revision ID: shopify_0001
Revises:
Create Date: 2026-11-27 12:00:00

"""
from alembic import op
import sqlalchemy as sa


revision = "shopify_0001"
down_revision = None
branch_labels = ("shopify",)
depends_on = "core_0001"


def upgrade():
    op.create_table(
        "shopify_webhook_inbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("webhook_id", sa.String(length=64), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["shop_id"], ["shop.id"], ondelete="CASCADE",
                                name=op.f("fk_shopify_webhook_inbox_shop_id_shop")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shopify_webhook_inbox")),
        sa.UniqueConstraint("shop_id", "webhook_id", name=op.f("uq_shopify_webhook_inbox_shop_id_webhook_id")),
    )


def downgrade():
    op.drop_table("shopify_webhook_inbox")
