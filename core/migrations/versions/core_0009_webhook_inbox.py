"""connector kit: webhook deliveries and remote account claims (webhook routing by proof)

Revision ID: core_0009
Revises: core_0008
Create Date: 2026-12-02 06:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import core.models


# revision identifiers, used by Alembic.
revision = 'core_0009'
down_revision = 'core_0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'webhook_delivery',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('addon', sa.String(length=64), nullable=False),
        sa.Column('shop_id', sa.Integer(), nullable=False),
        sa.Column('delivery_id', sa.String(length=64), nullable=False),
        sa.Column('topic', sa.String(length=64), nullable=False),
        sa.Column('received_at', core.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('processed_at', core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column('resource_id', sa.String(length=64), nullable=True),
        sa.Column('triggered_at', core.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_webhook_delivery_shop_id_shop'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_delivery')),
        sa.UniqueConstraint('addon', 'shop_id', 'delivery_id',
                            name=op.f('uq_webhook_delivery_addon_shop_id_delivery_id')),
    )
    with op.batch_alter_table('webhook_delivery', schema=None) as batch_op:
        batch_op.create_index('ix_webhook_delivery_pending', ['shop_id', 'addon', 'processed_at'], unique=False)
    op.create_table(
        'remote_account_claim',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('addon', sa.String(length=64), nullable=False),
        sa.Column('account', sa.String(length=255), nullable=False),
        sa.Column('shop_id', sa.Integer(), nullable=False),
        sa.Column('proof', sa.String(length=16), nullable=False),
        sa.Column('proved_at', core.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_remote_account_claim_shop_id_shop'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_remote_account_claim')),
        sa.UniqueConstraint('addon', 'account', name=op.f('uq_remote_account_claim_addon_account')),
    )
    with op.batch_alter_table('remote_account_claim', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_remote_account_claim_shop_id'), ['shop_id'], unique=False)


def downgrade():
    with op.batch_alter_table('remote_account_claim', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_remote_account_claim_shop_id'))
    op.drop_table('remote_account_claim')
    with op.batch_alter_table('webhook_delivery', schema=None) as batch_op:
        batch_op.drop_index('ix_webhook_delivery_pending')
    op.drop_table('webhook_delivery')
