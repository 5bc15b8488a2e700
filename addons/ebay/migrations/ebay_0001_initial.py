"""ebay: seller accounts, orders, listings, stock marks, fulfillments, account deletions

Revision ID: ebay_0001
Revises:
Create Date: 2026-12-02 14:00:00

"""
import sqlalchemy as sa
from alembic import op

import core.models

revision = "ebay_0001"
down_revision = None
branch_labels = ("ebay",)
depends_on = "core_0001"


def upgrade():
    op.create_table('ebay_account',
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=True),
    sa.Column('user_id', sa.String(length=64), nullable=True),
    sa.Column('destination_id', sa.String(length=64), nullable=True),
    sa.Column('subscriptions', sa.JSON(), nullable=False),
    sa.Column('signing_key_id', sa.String(length=64), nullable=True),
    sa.Column('listings_synced_at', core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('finances_cursor', core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('connected_at', core.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_ebay_account_shop_id_shop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('shop_id', name=op.f('pk_ebay_account'))
    )
    op.create_table('ebay_account_deletion',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=64), nullable=False),
    sa.Column('orders_anonymised', sa.Integer(), nullable=False),
    sa.Column('received_at', core.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_ebay_account_deletion_shop_id_shop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ebay_account_deletion'))
    )
    op.create_index(op.f('ix_ebay_account_deletion_shop_id'), 'ebay_account_deletion', ['shop_id'], unique=False)
    op.create_table('ebay_listing',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('variant_id', sa.Integer(), nullable=True),
    sa.Column('offer_ids', sa.JSON(), nullable=False),
    sa.Column('legacy_item_id', sa.String(length=32), nullable=True),
    sa.Column('inventory_api', sa.Boolean(), nullable=False),
    sa.Column('pushed_quantity', sa.Integer(), nullable=True),
    sa.Column('pushed_at', core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('push_error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_ebay_listing_shop_id_shop'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['variant_id'], ['variant.id'], name=op.f('fk_ebay_listing_variant_id_variant'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ebay_listing')),
    sa.UniqueConstraint('shop_id', 'sku', name=op.f('uq_ebay_listing_shop_id_sku'))
    )
    op.create_index(op.f('ix_ebay_listing_shop_id'), 'ebay_listing', ['shop_id'], unique=False)
    op.create_index(op.f('ix_ebay_listing_variant_id'), 'ebay_listing', ['variant_id'], unique=False)
    op.create_table('ebay_stock_pending',
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('variant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_ebay_stock_pending_shop_id_shop'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['variant_id'], ['variant.id'], name=op.f('fk_ebay_stock_pending_variant_id_variant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('shop_id', 'variant_id', name=op.f('pk_ebay_stock_pending'))
    )
    op.create_table('ebay_order',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('ebay_order_id', sa.String(length=64), nullable=False),
    sa.Column('legacy_order_id', sa.String(length=64), nullable=True),
    sa.Column('buyer_username', sa.String(length=64), nullable=True),
    sa.Column('fulfillment_status', sa.String(length=32), nullable=True),
    sa.Column('payment_status', sa.String(length=32), nullable=True),
    sa.Column('cancel_state', sa.String(length=32), nullable=True),
    sa.Column('collected_tax', sa.Numeric(precision=12, scale=2), nullable=False),
    sa.Column('last_modified', core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('fetched_at', core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('cancellation_sent', sa.String(length=64), nullable=True),
    sa.Column('refund_id', sa.String(length=64), nullable=True),
    sa.Column('fees_read_at', core.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['order_id'], ['order.id'], name=op.f('fk_ebay_order_order_id_order'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_ebay_order_shop_id_shop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ebay_order')),
    sa.UniqueConstraint('shop_id', 'ebay_order_id', name=op.f('uq_ebay_order_shop_id_ebay_order_id'))
    )
    op.create_index(op.f('ix_ebay_order_buyer_username'), 'ebay_order', ['buyer_username'], unique=False)
    op.create_index(op.f('ix_ebay_order_order_id'), 'ebay_order', ['order_id'], unique=False)
    op.create_index(op.f('ix_ebay_order_shop_id'), 'ebay_order', ['shop_id'], unique=False)
    op.create_table('ebay_fulfillment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('shipment_id', sa.Integer(), nullable=False),
    sa.Column('ebay_order_id', sa.String(length=64), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('carrier_code', sa.String(length=64), nullable=False),
    sa.Column('tracking_number', sa.String(length=64), nullable=False),
    sa.Column('fulfillment_id', sa.String(length=64), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('sent_at', core.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shipment_id'], ['shipment.id'], name=op.f('fk_ebay_fulfillment_shipment_id_shipment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_ebay_fulfillment_shop_id_shop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ebay_fulfillment')),
    sa.UniqueConstraint('shipment_id', name=op.f('uq_ebay_fulfillment_shipment_id'))
    )
    op.create_index(op.f('ix_ebay_fulfillment_shop_id'), 'ebay_fulfillment', ['shop_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_ebay_fulfillment_shop_id'), table_name='ebay_fulfillment')
    op.drop_table('ebay_fulfillment')
    op.drop_index(op.f('ix_ebay_order_shop_id'), table_name='ebay_order')
    op.drop_index(op.f('ix_ebay_order_order_id'), table_name='ebay_order')
    op.drop_index(op.f('ix_ebay_order_buyer_username'), table_name='ebay_order')
    op.drop_table('ebay_order')
    op.drop_table('ebay_stock_pending')
    op.drop_index(op.f('ix_ebay_listing_variant_id'), table_name='ebay_listing')
    op.drop_index(op.f('ix_ebay_listing_shop_id'), table_name='ebay_listing')
    op.drop_table('ebay_listing')
    op.drop_index(op.f('ix_ebay_account_deletion_shop_id'), table_name='ebay_account_deletion')
    op.drop_table('ebay_account_deletion')
    op.drop_table('ebay_account')
