"""one job runner per installation, shared cron clock and rate buckets, coalesced analytics refresh

Revision ID: core_0010
Revises: core_0009
Create Date: 2026-12-02 06:10:00.000000

"""
from alembic import op
import sqlalchemy as sa

import core.models


# revision identifiers, used by Alembic.
revision = 'core_0010'
down_revision = 'core_0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'job_lease',
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('holder', sa.String(length=200), nullable=False),
        sa.Column('expires_at', core.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('name'),
    )
    op.create_table(
        'clock_mark',
        sa.Column('key', sa.String(length=255), nullable=False),
        sa.Column('at', sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint('key'),
    )
    op.create_table(
        'rate_bucket',
        sa.Column('key', sa.String(length=255), nullable=False),
        sa.Column('tokens', sa.Float(), nullable=False),
        sa.Column('at', sa.Float(), nullable=False),
        sa.Column('rate', sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint('key'),
    )
    op.create_table(
        'analytics_dirty',
        sa.Column('organization_id', sa.Integer(), nullable=False),
        sa.Column('order_id', sa.Integer(), nullable=False),
        sa.Column('seq', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['order_id'], ['order.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('organization_id', 'order_id'),
    )


def downgrade():
    op.drop_table('analytics_dirty')
    op.drop_table('rate_bucket')
    op.drop_table('clock_mark')
    op.drop_table('job_lease')
