"""sync log: the progress of long imports (done, total, unit, refused items)

Revision ID: core_0015
Revises: core_0014
Create Date: 2026-12-03 12:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'core_0015'
down_revision = 'core_0014'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('sync_log', schema=None) as batch_op:
        batch_op.add_column(sa.Column('progress_done', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('progress_total', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('progress_unit', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('progress_errors', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('sync_log', schema=None) as batch_op:
        batch_op.drop_column('progress_errors')
        batch_op.drop_column('progress_unit')
        batch_op.drop_column('progress_total')
        batch_op.drop_column('progress_done')
