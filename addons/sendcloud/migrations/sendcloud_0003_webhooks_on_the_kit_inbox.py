"""sendcloud: status webhooks go to the connector kit's inbox (webhook_delivery)

Revision ID: sendcloud_0003
Revises: sendcloud_0002
Create Date: 2026-12-02 13:40:00

"""
from alembic import op
import sqlalchemy as sa

import core.models


# revision identifiers, used by Alembic.
revision = 'sendcloud_0003'
down_revision = 'sendcloud_0002'
branch_labels = None
depends_on = None


def upgrade():
    # every delivery it held was already applied; replays are refused by their timestamp
    with op.batch_alter_table('sendcloud_webhook_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sendcloud_webhook_event_received_at'))
    op.drop_table('sendcloud_webhook_event')


def downgrade():
    op.create_table('sendcloud_webhook_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('parcel_id', sa.BigInteger(), nullable=True),
    sa.Column('event_at', core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('received_at', core.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_sendcloud_webhook_event_shop_id_shop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sendcloud_webhook_event')),
    sa.UniqueConstraint('shop_id', 'digest', name=op.f('uq_sendcloud_webhook_event_shop_id_digest'))
    )
    with op.batch_alter_table('sendcloud_webhook_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sendcloud_webhook_event_received_at'), ['received_at'], unique=False)
