"""amazon: a listing's barcode (EAN, UPC or ISBN) as the listings report gives it

Revision ID: amazon_0005
Revises: amazon_0004
Create Date: 2026-12-03 07:15:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'amazon_0005'
down_revision = 'amazon_0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('amazon_listing', schema=None) as batch_op:
        batch_op.add_column(sa.Column('barcode', sa.String(length=32), nullable=True))


def downgrade():
    with op.batch_alter_table('amazon_listing', schema=None) as batch_op:
        batch_op.drop_column('barcode')
