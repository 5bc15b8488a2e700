"""amazon: orders sync state, listings, stock feeds, notifications

Revision ID: amazon_0002
Revises: amazon_0001
Create Date: 2026-11-27 03:21:00.589238

"""
from alembic import op
import sqlalchemy as sa

import core.models


# revision identifiers, used by Alembic.
revision = 'amazon_0002'
down_revision = 'amazon_0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('amazon_catalog_import',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('reports', sa.JSON(), nullable=False),
    sa.Column('listings', sa.Integer(), nullable=False),
    sa.Column('matched', sa.Integer(), nullable=False),
    sa.Column('unmatched', sa.Integer(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('started_at', core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', core.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_amazon_catalog_import_shop_id_shop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_amazon_catalog_import'))
    )
    with op.batch_alter_table('amazon_catalog_import', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_amazon_catalog_import_shop_id'), ['shop_id'], unique=False)

    op.create_table('amazon_feed',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('marketplace_id', sa.String(length=32), nullable=False),
    sa.Column('feed_id', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('messages', sa.Integer(), nullable=False),
    sa.Column('sent', sa.JSON(), nullable=False),
    sa.Column('summary', sa.JSON(), nullable=False),
    sa.Column('issues', sa.JSON(), nullable=False),
    sa.Column('created_at', core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', core.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_amazon_feed_shop_id_shop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_amazon_feed'))
    )
    with op.batch_alter_table('amazon_feed', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_amazon_feed_shop_id'), ['shop_id'], unique=False)

    op.create_table('amazon_listing',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('sku', sa.String(length=128), nullable=False),
    sa.Column('marketplace_id', sa.String(length=32), nullable=False),
    sa.Column('variant_id', sa.Integer(), nullable=True),
    sa.Column('asin', sa.String(length=16), nullable=True),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('price', sa.Numeric(precision=15, scale=2), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('images', sa.JSON(), nullable=False),
    sa.Column('product_type', sa.String(length=64), nullable=True),
    sa.Column('channels', sa.JSON(), nullable=False),
    sa.Column('parent_sku', sa.String(length=128), nullable=True),
    sa.Column('is_parent', sa.Boolean(), nullable=False),
    sa.Column('variation_theme', sa.String(length=120), nullable=True),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('amazon_quantity', sa.Integer(), nullable=True),
    sa.Column('pushed_quantity', sa.Integer(), nullable=True),
    sa.Column('pushed_at', core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('push_error', sa.Text(), nullable=True),
    sa.Column('imported_at', core.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_amazon_listing_shop_id_shop'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['variant_id'], ['variant.id'], name=op.f('fk_amazon_listing_variant_id_variant'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_amazon_listing')),
    sa.UniqueConstraint('shop_id', 'sku', 'marketplace_id', name=op.f('uq_amazon_listing_shop_id_sku_marketplace_id'))
    )
    with op.batch_alter_table('amazon_listing', schema=None) as batch_op:
        batch_op.create_index('ix_amazon_listing_shop_variant', ['shop_id', 'variant_id'], unique=False)

    op.create_table('amazon_stock_pending',
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('variant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_amazon_stock_pending_shop_id_shop'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['variant_id'], ['variant.id'], name=op.f('fk_amazon_stock_pending_variant_id_variant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('shop_id', 'variant_id', name=op.f('pk_amazon_stock_pending'))
    )
    op.create_table('amazon_subscription',
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('queue_arn', sa.String(length=1000), nullable=False),
    sa.Column('destination_id', sa.String(length=128), nullable=True),
    sa.Column('subscription_id', sa.String(length=128), nullable=True),
    sa.Column('relay_secret', sa.String(length=64), nullable=False),
    sa.Column('received', sa.Integer(), nullable=False),
    sa.Column('last_received_at', core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', core.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_amazon_subscription_shop_id_shop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('shop_id', name=op.f('pk_amazon_subscription'))
    )
    op.create_table('amazon_sync_state',
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('path', sa.String(length=16), nullable=True),
    sa.Column('window_after', sa.String(length=32), nullable=True),
    sa.Column('window_before', sa.String(length=32), nullable=True),
    sa.Column('next_token', sa.Text(), nullable=True),
    sa.Column('reports', sa.JSON(), nullable=False),
    sa.Column('details_pending', sa.JSON(), nullable=False),
    sa.Column('decision', sa.JSON(), nullable=False),
    sa.Column('started_at', core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', core.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_amazon_sync_state_shop_id_shop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('shop_id', name=op.f('pk_amazon_sync_state'))
    )
    op.create_table('amazon_order',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('amazon_order_id', sa.String(length=32), nullable=False),
    sa.Column('marketplace_id', sa.String(length=32), nullable=True),
    sa.Column('fulfilled_by', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('last_updated', core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('complete', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['order.id'], name=op.f('fk_amazon_order_order_id_order'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_amazon_order_shop_id_shop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_amazon_order')),
    sa.UniqueConstraint('shop_id', 'amazon_order_id', name=op.f('uq_amazon_order_shop_id_amazon_order_id'))
    )
    with op.batch_alter_table('amazon_order', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_amazon_order_order_id'), ['order_id'], unique=False)



def downgrade():
    with op.batch_alter_table('amazon_order', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_amazon_order_order_id'))

    op.drop_table('amazon_order')
    op.drop_table('amazon_sync_state')
    op.drop_table('amazon_subscription')
    op.drop_table('amazon_stock_pending')
    with op.batch_alter_table('amazon_listing', schema=None) as batch_op:
        batch_op.drop_index('ix_amazon_listing_shop_variant')

    op.drop_table('amazon_listing')
    with op.batch_alter_table('amazon_feed', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_amazon_feed_shop_id'))

    op.drop_table('amazon_feed')
    with op.batch_alter_table('amazon_catalog_import', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_amazon_catalog_import_shop_id'))

    op.drop_table('amazon_catalog_import')
