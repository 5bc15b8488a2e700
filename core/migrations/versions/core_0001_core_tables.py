"""core tables

Revision ID: core_0001
Revises: 
Create Date: 2026-11-27 02:49:09.504356

"""
from alembic import op
import sqlalchemy as sa

import core.crypto
import core.models


# revision identifiers, used by Alembic.
revision = 'core_0001'
down_revision = None
branch_labels = ('core',)
depends_on = None


def upgrade():
    op.create_table('plan',
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('monthly_order_limit', sa.Integer(), nullable=True),
    sa.Column('monthly_price', sa.Numeric(precision=15, scale=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_plan'))
    )
    op.create_table('organization',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('plan_code', sa.String(length=32), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('timezone', sa.String(length=40), nullable=False),
    sa.Column('created_at', core.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['plan_code'], ['plan.code'], name=op.f('fk_organization_plan_code_plan')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organization'))
    )
    op.create_table('customer',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('created_at', core.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_customer_organization_id_organization')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_customer'))
    )
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.create_index('ix_customer_org_email', ['organization_id', 'email'], unique=False)

    op.create_table('product',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('images', sa.JSON(), nullable=False),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('created_at', core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', core.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_product_organization_id_organization')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_product'))
    )
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_product_organization_id'), ['organization_id'], unique=False)

    op.create_table('shop',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('addon', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('marketplace', sa.String(length=64), nullable=True),
    sa.Column('region', sa.String(length=32), nullable=True),
    sa.Column('credentials', core.crypto.EncryptedJSON(), nullable=False),
    sa.Column('sync_mode', sa.Enum('webhook', 'every_15_min', 'hourly', 'manual', name='syncmode', native_enum=False, length=32), nullable=False),
    sa.Column('status', sa.Enum('not_configured', 'connected', 'error', 'disconnected', name='connectionstatus', native_enum=False, length=32), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('last_sync_at', core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('next_sync_at', core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('sync_cursor', sa.String(length=255), nullable=True),
    sa.Column('created_at', core.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_shop_organization_id_organization')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shop')),
    sa.UniqueConstraint('organization_id', 'name', name=op.f('uq_shop_organization_id_name'))
    )
    with op.batch_alter_table('shop', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shop_next_sync_at'), ['next_sync_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_shop_organization_id'), ['organization_id'], unique=False)

    op.create_table('user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.Enum('owner', 'staff', 'picker', name='role', native_enum=False, length=32), nullable=False),
    sa.Column('locale', sa.String(length=8), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', core.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_user_organization_id_organization')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user')),
    sa.UniqueConstraint('email', name=op.f('uq_user_email'))
    )
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_organization_id'), ['organization_id'], unique=False)

    op.create_table('order',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=128), nullable=False),
    sa.Column('number', sa.String(length=64), nullable=False),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('phone', sa.String(length=40), nullable=True),
    sa.Column('shipping_address', sa.JSON(), nullable=False),
    sa.Column('billing_address', sa.JSON(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('presentment_currency', sa.String(length=3), nullable=True),
    sa.Column('subtotal', sa.Numeric(precision=15, scale=2), nullable=False),
    sa.Column('shipping_total', sa.Numeric(precision=15, scale=2), nullable=False),
    sa.Column('tax_total', sa.Numeric(precision=15, scale=2), nullable=False),
    sa.Column('discount_total', sa.Numeric(precision=15, scale=2), nullable=False),
    sa.Column('total', sa.Numeric(precision=15, scale=2), nullable=False),
    sa.Column('presentment_total', sa.Numeric(precision=15, scale=2), nullable=True),
    sa.Column('payment_status', sa.Enum('pending', 'authorized', 'paid', 'partially_refunded', 'refunded', 'voided', name='paymentstatus', native_enum=False, length=32), nullable=False),
    sa.Column('service_level', sa.Enum('standard', 'express', 'prime', name='servicelevel', native_enum=False, length=32), nullable=False),
    sa.Column('fulfillment_channel', sa.Enum('merchant', 'marketplace', name='fulfillmentchannel', native_enum=False, length=32), nullable=False),
    sa.Column('status', sa.Enum('new', 'on_hold', 'allocated', 'picking', 'packed', 'shipped', 'delivered', 'cancelled', 'returned', name='orderstatus', native_enum=False, length=32), nullable=False),
    sa.Column('hold_reason', sa.Text(), nullable=True),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('placed_at', core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('external_updated_at', core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', core.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], name=op.f('fk_order_customer_id_customer')),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_order_organization_id_organization')),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_order_shop_id_shop')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order')),
    sa.UniqueConstraint('shop_id', 'external_id', name=op.f('uq_order_shop_id_external_id'))
    )
    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.create_index('ix_order_org_placed', ['organization_id', 'placed_at'], unique=False)
        batch_op.create_index('ix_order_org_status', ['organization_id', 'status'], unique=False)

    op.create_table('outbox_job',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('func', sa.String(length=200), nullable=False),
    sa.Column('args', sa.JSON(), nullable=False),
    sa.Column('kwargs', sa.JSON(), nullable=False),
    sa.Column('job_id', sa.String(length=200), nullable=True),
    sa.Column('unique', sa.Boolean(), nullable=False),
    sa.Column('queue', sa.String(length=64), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=True),
    sa.Column('max_retries', sa.Integer(), nullable=False),
    sa.Column('intervals', sa.JSON(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('run_after', core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', core.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_outbox_job_shop_id_shop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_job'))
    )
    with op.batch_alter_table('outbox_job', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_due', ['state', 'run_after'], unique=False)

    op.create_table('shop_addon',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('addon', sa.String(length=64), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('settings', sa.JSON(), nullable=False),
    sa.Column('secrets', core.crypto.EncryptedJSON(), nullable=False),
    sa.Column('status', sa.Enum('not_configured', 'connected', 'error', 'disconnected', name='connectionstatus', native_enum=False, length=32), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('last_checked_at', core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', core.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_shop_addon_shop_id_shop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shop_addon')),
    sa.UniqueConstraint('shop_id', 'addon', name=op.f('uq_shop_addon_shop_id_addon'))
    )
    with op.batch_alter_table('shop_addon', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shop_addon_shop_id'), ['shop_id'], unique=False)

    op.create_table('sync_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=True),
    sa.Column('shop_id', sa.Integer(), nullable=True),
    sa.Column('addon', sa.String(length=64), nullable=True),
    sa.Column('job_id', sa.String(length=200), nullable=True),
    sa.Column('func', sa.String(length=200), nullable=False),
    sa.Column('args', sa.JSON(), nullable=False),
    sa.Column('kwargs', sa.JSON(), nullable=False),
    sa.Column('status', sa.Enum('queued', 'running', 'ok', 'retrying', 'failed', name='syncstatus', native_enum=False, length=32), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('result', sa.Text(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('started_at', core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', core.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_sync_log_organization_id_organization')),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_sync_log_shop_id_shop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sync_log'))
    )
    with op.batch_alter_table('sync_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sync_log_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index('ix_sync_log_shop_started', ['shop_id', 'started_at'], unique=False)

    op.create_table('variant',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('product_id', sa.Integer(), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('barcode', sa.String(length=32), nullable=True),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('price', sa.Numeric(precision=15, scale=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('weight_grams', sa.Integer(), nullable=True),
    sa.Column('cost_price', sa.Numeric(precision=15, scale=4), nullable=True),
    sa.Column('hs_code', sa.String(length=16), nullable=True),
    sa.Column('country_of_origin', sa.String(length=2), nullable=True),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_variant_organization_id_organization')),
    sa.ForeignKeyConstraint(['product_id'], ['product.id'], name=op.f('fk_variant_product_id_product'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_variant')),
    sa.UniqueConstraint('organization_id', 'sku', name=op.f('uq_variant_organization_id_sku'))
    )
    with op.batch_alter_table('variant', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_variant_barcode'), ['barcode'], unique=False)
        batch_op.create_index(batch_op.f('ix_variant_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_variant_product_id'), ['product_id'], unique=False)

    op.create_table('warehouse',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('kind', sa.Enum('own', 'marketplace', 'supplier', 'store', name='warehousekind', native_enum=False, length=32), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=True),
    sa.Column('country', sa.String(length=2), nullable=True),
    sa.Column('address', sa.JSON(), nullable=False),
    sa.Column('priority', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_warehouse_organization_id_organization')),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_warehouse_shop_id_shop'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_warehouse')),
    sa.UniqueConstraint('organization_id', 'code', name=op.f('uq_warehouse_organization_id_code'))
    )
    with op.batch_alter_table('warehouse', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_warehouse_organization_id'), ['organization_id'], unique=False)

    op.create_table('bin_location',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('sort_key', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouse.id'], name=op.f('fk_bin_location_warehouse_id_warehouse'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bin_location')),
    sa.UniqueConstraint('warehouse_id', 'code', name=op.f('uq_bin_location_warehouse_id_code'))
    )
    op.create_table('order_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('at', core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['order_id'], ['order.id'], name=op.f('fk_order_event_order_id_order'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_order_event_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_event'))
    )
    with op.batch_alter_table('order_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_event_order_id'), ['order_id'], unique=False)

    op.create_table('order_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=128), nullable=True),
    sa.Column('variant_id', sa.Integer(), nullable=True),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('unit_price', sa.Numeric(precision=15, scale=2), nullable=False),
    sa.Column('tax', sa.Numeric(precision=15, scale=2), nullable=False),
    sa.Column('discount', sa.Numeric(precision=15, scale=2), nullable=False),
    sa.Column('source', sa.Enum('warehouse', 'marketplace', 'dropship', 'pos', name='linesource', native_enum=False, length=32), nullable=True),
    sa.Column('warehouse_id', sa.Integer(), nullable=True),
    sa.Column('reserved_quantity', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['order.id'], name=op.f('fk_order_line_order_id_order'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['variant_id'], ['variant.id'], name=op.f('fk_order_line_variant_id_variant')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouse.id'], name=op.f('fk_order_line_warehouse_id_warehouse')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_order_line'))
    )
    with op.batch_alter_table('order_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_order_line_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_order_line_variant_id'), ['variant_id'], unique=False)

    op.create_table('return',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('open', 'received', 'inspected', 'restocked', 'written_off', 'closed', name='returnstatus', native_enum=False, length=32), nullable=False),
    sa.Column('reason', sa.Enum('size', 'defect', 'not_as_described', 'changed_mind', 'wrong_item', name='returnreason', native_enum=False, length=32), nullable=False),
    sa.Column('refund_status', sa.Enum('pending', 'authorized', 'paid', 'partially_refunded', 'refunded', 'voided', name='paymentstatus', native_enum=False, length=32), nullable=True),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('created_at', core.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['order.id'], name=op.f('fk_return_order_id_order')),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_return_organization_id_organization')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_return'))
    )
    with op.batch_alter_table('return', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_return_order_id'), ['order_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_return_organization_id'), ['organization_id'], unique=False)

    op.create_table('shipment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=True),
    sa.Column('carrier', sa.String(length=64), nullable=False),
    sa.Column('service', sa.String(length=120), nullable=True),
    sa.Column('tracking_number', sa.String(length=128), nullable=True),
    sa.Column('tracking_url', sa.String(length=500), nullable=True),
    sa.Column('label', sa.LargeBinary(), nullable=True),
    sa.Column('label_format', sa.String(length=16), nullable=True),
    sa.Column('external_id', sa.String(length=128), nullable=True),
    sa.Column('status', sa.Enum('draft', 'label_created', 'shipped', 'in_transit', 'delivered', 'cancelled', 'exception', name='shipmentstatus', native_enum=False, length=32), nullable=False),
    sa.Column('weight_grams', sa.Integer(), nullable=True),
    sa.Column('cost', sa.Numeric(precision=15, scale=2), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('shipped_at', core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', core.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['order.id'], name=op.f('fk_shipment_order_id_order')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouse.id'], name=op.f('fk_shipment_warehouse_id_warehouse')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shipment'))
    )
    with op.batch_alter_table('shipment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shipment_order_id'), ['order_id'], unique=False)

    op.create_table('variant_binding',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('variant_id', sa.Integer(), nullable=False),
    sa.Column('external_id', sa.String(length=128), nullable=False),
    sa.Column('external_sku', sa.String(length=128), nullable=True),
    sa.Column('data', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_variant_binding_shop_id_shop'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['variant_id'], ['variant.id'], name=op.f('fk_variant_binding_variant_id_variant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_variant_binding')),
    sa.UniqueConstraint('shop_id', 'external_id', name=op.f('uq_variant_binding_shop_id_external_id')),
    sa.UniqueConstraint('shop_id', 'variant_id', name=op.f('uq_variant_binding_shop_id_variant_id'))
    )
    with op.batch_alter_table('variant_binding', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_variant_binding_variant_id'), ['variant_id'], unique=False)

    op.create_table('return_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('return_id', sa.Integer(), nullable=False),
    sa.Column('order_line_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['order_line_id'], ['order_line.id'], name=op.f('fk_return_line_order_line_id_order_line')),
    sa.ForeignKeyConstraint(['return_id'], ['return.id'], name=op.f('fk_return_line_return_id_return'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_return_line'))
    )
    with op.batch_alter_table('return_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_return_line_return_id'), ['return_id'], unique=False)

    op.create_table('shipment_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shipment_id', sa.Integer(), nullable=False),
    sa.Column('order_line_id', sa.Integer(), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['order_line_id'], ['order_line.id'], name=op.f('fk_shipment_line_order_line_id_order_line')),
    sa.ForeignKeyConstraint(['shipment_id'], ['shipment.id'], name=op.f('fk_shipment_line_shipment_id_shipment'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shipment_line'))
    )
    with op.batch_alter_table('shipment_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_shipment_line_shipment_id'), ['shipment_id'], unique=False)

    op.create_table('stock_level',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('variant_id', sa.Integer(), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('on_hand', sa.Integer(), nullable=False),
    sa.Column('reserved', sa.Integer(), nullable=False),
    sa.Column('bin_location_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', core.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['bin_location_id'], ['bin_location.id'], name=op.f('fk_stock_level_bin_location_id_bin_location'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['variant_id'], ['variant.id'], name=op.f('fk_stock_level_variant_id_variant'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouse.id'], name=op.f('fk_stock_level_warehouse_id_warehouse'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_level')),
    sa.UniqueConstraint('variant_id', 'warehouse_id', name=op.f('uq_stock_level_variant_id_warehouse_id'))
    )
    with op.batch_alter_table('stock_level', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stock_level_warehouse_id'), ['warehouse_id'], unique=False)



def downgrade():
    with op.batch_alter_table('stock_level', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stock_level_warehouse_id'))

    op.drop_table('stock_level')
    with op.batch_alter_table('shipment_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shipment_line_shipment_id'))

    op.drop_table('shipment_line')
    with op.batch_alter_table('return_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_return_line_return_id'))

    op.drop_table('return_line')
    with op.batch_alter_table('variant_binding', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_variant_binding_variant_id'))

    op.drop_table('variant_binding')
    with op.batch_alter_table('shipment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shipment_order_id'))

    op.drop_table('shipment')
    with op.batch_alter_table('return', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_return_organization_id'))
        batch_op.drop_index(batch_op.f('ix_return_order_id'))

    op.drop_table('return')
    with op.batch_alter_table('order_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_line_variant_id'))
        batch_op.drop_index(batch_op.f('ix_order_line_order_id'))

    op.drop_table('order_line')
    with op.batch_alter_table('order_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_order_event_order_id'))

    op.drop_table('order_event')
    op.drop_table('bin_location')
    with op.batch_alter_table('warehouse', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_warehouse_organization_id'))

    op.drop_table('warehouse')
    with op.batch_alter_table('variant', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_variant_product_id'))
        batch_op.drop_index(batch_op.f('ix_variant_organization_id'))
        batch_op.drop_index(batch_op.f('ix_variant_barcode'))

    op.drop_table('variant')
    with op.batch_alter_table('sync_log', schema=None) as batch_op:
        batch_op.drop_index('ix_sync_log_shop_started')
        batch_op.drop_index(batch_op.f('ix_sync_log_organization_id'))

    op.drop_table('sync_log')
    with op.batch_alter_table('shop_addon', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shop_addon_shop_id'))

    op.drop_table('shop_addon')
    with op.batch_alter_table('outbox_job', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_due')

    op.drop_table('outbox_job')
    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.drop_index('ix_order_org_status')
        batch_op.drop_index('ix_order_org_placed')

    op.drop_table('order')
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_organization_id'))

    op.drop_table('user')
    with op.batch_alter_table('shop', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_shop_organization_id'))
        batch_op.drop_index(batch_op.f('ix_shop_next_sync_at'))

    op.drop_table('shop')
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_product_organization_id'))

    op.drop_table('product')
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.drop_index('ix_customer_org_email')

    op.drop_table('customer')
    op.drop_table('organization')
    op.drop_table('plan')
