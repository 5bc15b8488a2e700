"""amazon: schedule of the reads of each order's financial events (fees, refunds)

Revision ID: amazon_0003
Revises: amazon_0002
Create Date: 2026-12-01 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import core.models


# revision identifiers, used by Alembic.
revision = 'amazon_0003'
down_revision = 'amazon_0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('amazon_order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('shipped_at', core.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('finance_due_at', core.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('fees_read_at', core.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index('ix_amazon_order_finance_due', ['shop_id', 'finance_due_at'], unique=False)


def downgrade():
    with op.batch_alter_table('amazon_order', schema=None) as batch_op:
        batch_op.drop_index('ix_amazon_order_finance_due')
        batch_op.drop_column('fees_read_at')
        batch_op.drop_column('finance_due_at')
        batch_op.drop_column('shipped_at')
