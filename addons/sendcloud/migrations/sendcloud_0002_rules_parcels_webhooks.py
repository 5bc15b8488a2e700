"""sendcloud: shipping rules, parcels announced, webhook deliveries processed

Revision ID: sendcloud_0002
Revises: sendcloud_0001
Create Date: 2026-11-27 03:28:56.091093

"""
from alembic import op
import sqlalchemy as sa

import core.models


# revision identifiers, used by Alembic.
revision = 'sendcloud_0002'
down_revision = 'sendcloud_0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sendcloud_shipping_rule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('channels', sa.JSON(), nullable=False),
    sa.Column('service_levels', sa.JSON(), nullable=False),
    sa.Column('destination', sa.String(length=16), nullable=False),
    sa.Column('countries', sa.JSON(), nullable=False),
    sa.Column('min_weight_grams', sa.Integer(), nullable=True),
    sa.Column('max_weight_grams', sa.Integer(), nullable=True),
    sa.Column('min_value', sa.Numeric(precision=15, scale=2), nullable=True),
    sa.Column('max_value', sa.Numeric(precision=15, scale=2), nullable=True),
    sa.Column('sku_tag', sa.String(length=64), nullable=True),
    sa.Column('method_id', sa.String(length=128), nullable=False),
    sa.Column('method_name', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_sendcloud_shipping_rule_organization_id_organization'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sendcloud_shipping_rule'))
    )
    with op.batch_alter_table('sendcloud_shipping_rule', schema=None) as batch_op:
        batch_op.create_index('ix_sendcloud_shipping_rule_org_position', ['organization_id', 'position'], unique=False)

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

    op.create_table('sendcloud_parcel',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('shipment_id', sa.Integer(), nullable=False),
    sa.Column('api_version', sa.String(length=4), nullable=False),
    sa.Column('external_reference', sa.String(length=64), nullable=False),
    sa.Column('method_id', sa.String(length=128), nullable=True),
    sa.Column('rule_id', sa.Integer(), nullable=True),
    sa.Column('remote_shipment_id', sa.String(length=64), nullable=True),
    sa.Column('parcel_id', sa.BigInteger(), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('status_id', sa.Integer(), nullable=True),
    sa.Column('status_code', sa.String(length=64), nullable=True),
    sa.Column('status_message', sa.String(length=200), nullable=True),
    sa.Column('status_at', core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', core.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['rule_id'], ['sendcloud_shipping_rule.id'], name=op.f('fk_sendcloud_parcel_rule_id_sendcloud_shipping_rule'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['shipment_id'], ['shipment.id'], name=op.f('fk_sendcloud_parcel_shipment_id_shipment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_sendcloud_parcel_shop_id_shop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sendcloud_parcel')),
    sa.UniqueConstraint('shipment_id', name=op.f('uq_sendcloud_parcel_shipment_id'))
    )
    with op.batch_alter_table('sendcloud_parcel', schema=None) as batch_op:
        batch_op.create_index('ix_sendcloud_parcel_shop_parcel', ['shop_id', 'parcel_id'], unique=False)


def downgrade():
    with op.batch_alter_table('sendcloud_parcel', schema=None) as batch_op:
        batch_op.drop_index('ix_sendcloud_parcel_shop_parcel')

    op.drop_table('sendcloud_parcel')
    with op.batch_alter_table('sendcloud_webhook_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sendcloud_webhook_event_received_at'))

    op.drop_table('sendcloud_webhook_event')
    with op.batch_alter_table('sendcloud_shipping_rule', schema=None) as batch_op:
        batch_op.drop_index('ix_sendcloud_shipping_rule_org_position')

    op.drop_table('sendcloud_shipping_rule')
