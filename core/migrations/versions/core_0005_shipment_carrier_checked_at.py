"""shipments remember when their carrier last reported

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


def downgrade():
    with op.batch_alter_table('shipment', schema=None) as batch_op:
        batch_op.drop_column('carrier_checked_at')
