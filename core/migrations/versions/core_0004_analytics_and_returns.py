"""analytics and returns

Revision ID: core_0004
Revises: core_0003
Create Date: 2026-11-27 04:22:29.609352

"""
from alembic import op
import sqlalchemy as sa

import core.models


# revision identifiers, used by Alembic.
revision = 'core_0004'
down_revision = 'core_0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('analytics_daily',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=64), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=True),
    sa.Column('orders', sa.Integer(), nullable=False),
    sa.Column('lines', sa.Integer(), nullable=False),
    sa.Column('units', sa.Integer(), nullable=False),
    sa.Column('revenue', sa.BigInteger(), nullable=False),
    sa.Column('product_cost', sa.BigInteger(), nullable=False),
    sa.Column('fees', sa.BigInteger(), nullable=False),
    sa.Column('shipping', sa.BigInteger(), nullable=False),
    sa.Column('returns', sa.BigInteger(), nullable=False),
    sa.Column('returned_units', sa.Integer(), nullable=False),
    sa.Column('prep_orders', sa.Integer(), nullable=False),
    sa.Column('prep_seconds', sa.BigInteger(), nullable=False),
    sa.Column('cost_missing_lines', sa.Integer(), nullable=False),
    sa.Column('fx_issue_orders', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_analytics_daily_organization_id_organization')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_analytics_daily'))
    )
    with op.batch_alter_table('analytics_daily', schema=None) as batch_op:
        batch_op.create_index('ix_analytics_daily_org_day', ['organization_id', 'day'], unique=False)

    op.create_table('analytics_fee_rule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=64), nullable=False),
    sa.Column('category', sa.String(length=64), nullable=False),
    sa.Column('commission_pct', sa.Numeric(precision=7, scale=4), nullable=False),
    sa.Column('fixed_per_order', sa.Numeric(precision=15, scale=2), nullable=False),
    sa.Column('payment_pct', sa.Numeric(precision=7, scale=4), nullable=False),
    sa.Column('payment_fixed', sa.Numeric(precision=15, scale=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('is_default', sa.Boolean(), nullable=False),
    sa.Column('source', sa.Text(), nullable=False),
    sa.Column('updated_at', core.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_analytics_fee_rule_organization_id_organization')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_analytics_fee_rule')),
    sa.UniqueConstraint('organization_id', 'channel', 'category', name=op.f('uq_analytics_fee_rule_organization_id_channel_category'))
    )
    op.create_table('fx_rate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('rate', sa.Numeric(precision=18, scale=6), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('updated_at', core.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_fx_rate_organization_id_organization')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fx_rate')),
    sa.UniqueConstraint('organization_id', 'currency', 'day', name=op.f('uq_fx_rate_organization_id_currency_day'))
    )
    op.create_table('analytics_actual_fee',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('amount', sa.Numeric(precision=15, scale=2), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('external_id', sa.String(length=128), nullable=True),
    sa.Column('created_at', core.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['order.id'], name=op.f('fk_analytics_actual_fee_order_id_order'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_analytics_actual_fee_organization_id_organization')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_analytics_actual_fee'))
    )
    with op.batch_alter_table('analytics_actual_fee', schema=None) as batch_op:
        batch_op.create_index('ix_analytics_actual_fee_order', ['order_id'], unique=False)

    op.create_table('analytics_order_fact',
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=64), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=True),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('lines', sa.Integer(), nullable=False),
    sa.Column('units', sa.Integer(), nullable=False),
    sa.Column('revenue', sa.BigInteger(), nullable=False),
    sa.Column('product_cost', sa.BigInteger(), nullable=False),
    sa.Column('fees', sa.BigInteger(), nullable=False),
    sa.Column('shipping', sa.BigInteger(), nullable=False),
    sa.Column('returns', sa.BigInteger(), nullable=False),
    sa.Column('returned_units', sa.Integer(), nullable=False),
    sa.Column('prep_seconds', sa.Integer(), nullable=True),
    sa.Column('cost_missing_lines', sa.Integer(), nullable=False),
    sa.Column('fx_status', sa.String(length=8), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['order.id'], name=op.f('fk_analytics_order_fact_order_id_order'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_analytics_order_fact_organization_id_organization')),
    sa.PrimaryKeyConstraint('order_id', name=op.f('pk_analytics_order_fact'))
    )
    with op.batch_alter_table('analytics_order_fact', schema=None) as batch_op:
        batch_op.create_index('ix_analytics_order_fact_org_customer', ['organization_id', 'customer_id', 'day'], unique=False, postgresql_include=['shop_id', 'warehouse_id', 'units', 'revenue', 'product_cost', 'fees', 'shipping', 'returns', 'returned_units'])
        batch_op.create_index('ix_analytics_order_fact_org_day', ['organization_id', 'day'], unique=False, postgresql_include=['customer_id', 'shop_id', 'warehouse_id', 'units', 'revenue', 'product_cost', 'fees', 'shipping', 'returns', 'returned_units'])

    op.create_table('analytics_line_fact',
    sa.Column('line_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=64), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=True),
    sa.Column('variant_id', sa.Integer(), nullable=True),
    sa.Column('customer_id', sa.Integer(), nullable=True),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('units', sa.Integer(), nullable=False),
    sa.Column('revenue', sa.BigInteger(), nullable=False),
    sa.Column('product_cost', sa.BigInteger(), nullable=False),
    sa.Column('fees', sa.BigInteger(), nullable=False),
    sa.Column('shipping', sa.BigInteger(), nullable=False),
    sa.Column('returns', sa.BigInteger(), nullable=False),
    sa.Column('returned_units', sa.Integer(), nullable=False),
    sa.Column('cost_known', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['line_id'], ['order_line.id'], name=op.f('fk_analytics_line_fact_line_id_order_line'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['order_id'], ['order.id'], name=op.f('fk_analytics_line_fact_order_id_order'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_analytics_line_fact_organization_id_organization')),
    sa.PrimaryKeyConstraint('line_id', name=op.f('pk_analytics_line_fact'))
    )
    with op.batch_alter_table('analytics_line_fact', schema=None) as batch_op:
        batch_op.create_index('ix_analytics_line_fact_order', ['order_id'], unique=False)
        batch_op.create_index('ix_analytics_line_fact_org_day', ['organization_id', 'day'], unique=False, postgresql_include=['variant_id', 'shop_id', 'warehouse_id', 'units', 'revenue', 'product_cost', 'fees', 'shipping', 'returns', 'returned_units'])
        batch_op.create_index('ix_analytics_line_fact_org_variant', ['organization_id', 'variant_id', 'shop_id', 'day'], unique=False, postgresql_include=['warehouse_id', 'units', 'revenue', 'product_cost', 'fees', 'shipping', 'returns', 'returned_units'])

    op.create_table('analytics_return_fact',
    sa.Column('return_line_id', sa.Integer(), nullable=False),
    sa.Column('return_id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('line_id', sa.Integer(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=64), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=True),
    sa.Column('variant_id', sa.Integer(), nullable=True),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('reason', sa.String(length=32), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('units', sa.Integer(), nullable=False),
    sa.Column('value', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['order.id'], name=op.f('fk_analytics_return_fact_order_id_order'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_analytics_return_fact_organization_id_organization')),
    sa.ForeignKeyConstraint(['return_line_id'], ['return_line.id'], name=op.f('fk_analytics_return_fact_return_line_id_return_line'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('return_line_id', name=op.f('pk_analytics_return_fact'))
    )
    with op.batch_alter_table('analytics_return_fact', schema=None) as batch_op:
        batch_op.create_index('ix_analytics_return_fact_order', ['order_id'], unique=False)
        batch_op.create_index('ix_analytics_return_fact_org_day', ['organization_id', 'day'], unique=False)

    with op.batch_alter_table('return', schema=None) as batch_op:
        batch_op.add_column(sa.Column('shop_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('external_id', sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column('refund_amount', sa.Numeric(precision=15, scale=2), nullable=True))
        batch_op.add_column(sa.Column('currency', sa.String(length=3), nullable=True))
        batch_op.add_column(sa.Column('restock_warehouse_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('created_by', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('received_at', core.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('inspected_at', core.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('resolved_at', core.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('refunded_at', core.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_return_shop_id_external_id'), ['shop_id', 'external_id'])
        batch_op.create_foreign_key(batch_op.f('fk_return_shop_id_shop'), 'shop', ['shop_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_return_restock_warehouse_id_warehouse'), 'warehouse', ['restock_warehouse_id'], ['id'], ondelete='SET NULL')
        batch_op.create_foreign_key(batch_op.f('fk_return_created_by_user'), 'user', ['created_by'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('return', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_return_created_by_user'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_return_restock_warehouse_id_warehouse'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_return_shop_id_shop'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_return_shop_id_external_id'), type_='unique')
        batch_op.drop_column('refunded_at')
        batch_op.drop_column('resolved_at')
        batch_op.drop_column('inspected_at')
        batch_op.drop_column('received_at')
        batch_op.drop_column('created_by')
        batch_op.drop_column('restock_warehouse_id')
        batch_op.drop_column('currency')
        batch_op.drop_column('refund_amount')
        batch_op.drop_column('external_id')
        batch_op.drop_column('shop_id')

    with op.batch_alter_table('analytics_return_fact', schema=None) as batch_op:
        batch_op.drop_index('ix_analytics_return_fact_org_day')
        batch_op.drop_index('ix_analytics_return_fact_order')

    op.drop_table('analytics_return_fact')
    with op.batch_alter_table('analytics_line_fact', schema=None) as batch_op:
        batch_op.drop_index('ix_analytics_line_fact_org_variant', postgresql_include=['warehouse_id', 'units', 'revenue', 'product_cost', 'fees', 'shipping', 'returns', 'returned_units'])
        batch_op.drop_index('ix_analytics_line_fact_org_day', postgresql_include=['variant_id', 'shop_id', 'warehouse_id', 'units', 'revenue', 'product_cost', 'fees', 'shipping', 'returns', 'returned_units'])
        batch_op.drop_index('ix_analytics_line_fact_order')

    op.drop_table('analytics_line_fact')
    with op.batch_alter_table('analytics_order_fact', schema=None) as batch_op:
        batch_op.drop_index('ix_analytics_order_fact_org_day', postgresql_include=['customer_id', 'shop_id', 'warehouse_id', 'units', 'revenue', 'product_cost', 'fees', 'shipping', 'returns', 'returned_units'])
        batch_op.drop_index('ix_analytics_order_fact_org_customer', postgresql_include=['shop_id', 'warehouse_id', 'units', 'revenue', 'product_cost', 'fees', 'shipping', 'returns', 'returned_units'])

    op.drop_table('analytics_order_fact')
    with op.batch_alter_table('analytics_actual_fee', schema=None) as batch_op:
        batch_op.drop_index('ix_analytics_actual_fee_order')

    op.drop_table('analytics_actual_fee')
    op.drop_table('fx_rate')
    op.drop_table('analytics_fee_rule')
    with op.batch_alter_table('analytics_daily', schema=None) as batch_op:
        batch_op.drop_index('ix_analytics_daily_org_day')

    op.drop_table('analytics_daily')
