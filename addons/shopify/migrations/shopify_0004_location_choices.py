"""shopify: what Shopify says of each location, and the merchant's choices (mapped by hand, or not used)

Revision ID: shopify_0004
Revises: shopify_0003
Create Date: 2026-12-03 07:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "shopify_0004"
down_revision = "shopify_0003"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("shopify_location", schema=None) as batch_op:
        batch_op.add_column(sa.Column("online", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("city", sa.String(length=120), nullable=True))
        batch_op.add_column(sa.Column("country", sa.String(length=2), nullable=True))
        batch_op.add_column(sa.Column("ignored", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("configured", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade():
    with op.batch_alter_table("shopify_location", schema=None) as batch_op:
        batch_op.drop_column("configured")
        batch_op.drop_column("ignored")
        batch_op.drop_column("country")
        batch_op.drop_column("city")
        batch_op.drop_column("online")
