"""warehouses may hold units of each SKU back from the channels

Revision ID: core_0006
Revises: core_0005
Create Date: 2026-11-27 06:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'core_0006'
down_revision = 'core_0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('warehouse', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sell_buffer', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('warehouse', schema=None) as batch_op:
        batch_op.drop_column('sell_buffer')
