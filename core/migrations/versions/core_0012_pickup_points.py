"""the relay point or locker an order is delivered to

Revision ID: core_0012
Revises: core_0011
Create Date: 2026-12-02 14:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'core_0012'
down_revision = 'core_0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('order') as batch_op:
        batch_op.add_column(sa.Column('pickup_point', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('order') as batch_op:
        batch_op.drop_column('pickup_point')
