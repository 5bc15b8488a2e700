"""labels requested after the shipment is committed; stock dirty marks numbered; plan changes

Revision ID: core_0008
Revises: core_0007
Create Date: 2026-12-02 06:10:00.000000

"""
from alembic import op
import sqlalchemy as sa

import core.models


# revision identifiers, used by Alembic.
revision = 'core_0008'
down_revision = 'core_0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('shipment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('label_attempts', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('label_requested_at', core.models.UTCDateTime(), nullable=True))
    with op.batch_alter_table('stock_dirty', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seq', sa.BigInteger(), server_default='0', nullable=False))
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(sa.schema.CreateSequence(sa.Sequence('stock_dirty_seq')))
    op.create_table(
        'plan_change',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('from_plan', sa.String(length=32), nullable=True),
        sa.Column('to_plan', sa.String(length=32), nullable=False),
        sa.Column('by', sa.String(length=120), nullable=False),
        sa.Column('note', sa.String(length=500), nullable=False),
        sa.Column('at', core.models.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('plan_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_plan_change_organization_id'), ['organization_id'], unique=False)


def downgrade():
    with op.batch_alter_table('plan_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_plan_change_organization_id'))
    op.drop_table('plan_change')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(sa.schema.DropSequence(sa.Sequence('stock_dirty_seq')))
    with op.batch_alter_table('stock_dirty', schema=None) as batch_op:
        batch_op.drop_column('seq')
    with op.batch_alter_table('shipment', schema=None) as batch_op:
        batch_op.drop_column('label_requested_at')
        batch_op.drop_column('label_attempts')
