"""shipments remember when their carrier last reported; an index for the tracking job

Revision ID: core_0005
Revises: core_0004
Create Date: 2026-11-27 06:45:00.000000

"""
from alembic import op
import sqlalchemy as sa

import core.models


# revision identifiers, used by Alembic.
revision = 'core_0005'
down_revision = 'core_0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('shipment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('carrier_checked_at', core.models.UTCDateTime(), nullable=True))
        batch_op.create_index('ix_shipment_status_shipped', ['status', 'shipped_at'], unique=False)


def downgrade():
    with op.batch_alter_table('shipment', schema=None) as batch_op:
        batch_op.drop_index('ix_shipment_status_shipped')
        batch_op.drop_column('carrier_checked_at')
