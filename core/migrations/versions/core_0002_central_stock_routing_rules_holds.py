"""central stock, routing rules, holds

Revision ID: core_0002
Revises: core_0001
Create Date: 2026-11-27 02:56:40.690215

"""
from alembic import op
import sqlalchemy as sa

import core.crypto
import core.models


# revision identifiers, used by Alembic.
revision = 'core_0002'
down_revision = 'core_0001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('stock_pool',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_stock_pool_organization_id_organization')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_pool')),
    sa.UniqueConstraint('organization_id', 'name', name=op.f('uq_stock_pool_organization_id_name'))
    )
    with op.batch_alter_table('stock_pool', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stock_pool_organization_id'), ['organization_id'], unique=False)

    op.create_table('channel_stock_rule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=True),
    sa.Column('addon', sa.String(length=64), nullable=True),
    sa.Column('buffer', sa.Integer(), nullable=False),
    sa.Column('percentage', sa.Integer(), nullable=False),
    sa.Column('maximum', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_channel_stock_rule_organization_id_organization')),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_channel_stock_rule_shop_id_shop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_channel_stock_rule'))
    )
    with op.batch_alter_table('channel_stock_rule', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_channel_stock_rule_organization_id'), ['organization_id'], unique=False)

    op.create_table('sku_alias',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('variant_id', sa.Integer(), nullable=False),
    sa.Column('created_at', core.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_sku_alias_organization_id_organization')),
    sa.ForeignKeyConstraint(['variant_id'], ['variant.id'], name=op.f('fk_sku_alias_variant_id_variant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sku_alias')),
    sa.UniqueConstraint('organization_id', 'sku', name=op.f('uq_sku_alias_organization_id_sku'))
    )
    op.create_table('stock_dirty',
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('variant_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_stock_dirty_organization_id_organization'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['variant_id'], ['variant.id'], name=op.f('fk_stock_dirty_variant_id_variant'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('organization_id', 'variant_id', name=op.f('pk_stock_dirty'))
    )
    op.create_table('routing_rule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('countries', sa.JSON(), nullable=False),
    sa.Column('channels', sa.JSON(), nullable=False),
    sa.Column('shop_ids', sa.JSON(), nullable=False),
    sa.Column('sku_pattern', sa.String(length=64), nullable=True),
    sa.Column('tag', sa.String(length=64), nullable=True),
    sa.Column('service_levels', sa.JSON(), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('allow_split', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_routing_rule_organization_id_organization')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouse.id'], name=op.f('fk_routing_rule_warehouse_id_warehouse'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_routing_rule'))
    )
    with op.batch_alter_table('routing_rule', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_routing_rule_organization_id'), ['organization_id'], unique=False)

    op.create_table('stock_movement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('variant_id', sa.Integer(), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('delta_on_hand', sa.Integer(), nullable=False),
    sa.Column('delta_reserved', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('at', core.models.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['order_id'], ['order.id'], name=op.f('fk_stock_movement_order_id_order'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_stock_movement_organization_id_organization')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_stock_movement_user_id_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['variant_id'], ['variant.id'], name=op.f('fk_stock_movement_variant_id_variant'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouse.id'], name=op.f('fk_stock_movement_warehouse_id_warehouse'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_movement'))
    )
    with op.batch_alter_table('stock_movement', schema=None) as batch_op:
        batch_op.create_index('ix_stock_movement_variant_at', ['variant_id', 'at'], unique=False)

    op.create_table('stock_pool_warehouse',
    sa.Column('stock_pool_id', sa.Integer(), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['stock_pool_id'], ['stock_pool.id'], name=op.f('fk_stock_pool_warehouse_stock_pool_id_stock_pool'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouse.id'], name=op.f('fk_stock_pool_warehouse_warehouse_id_warehouse'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('stock_pool_id', 'warehouse_id', name=op.f('pk_stock_pool_warehouse'))
    )
    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hold_code', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('origin', sa.String(length=16), nullable=False, server_default='online'))
        batch_op.add_column(sa.Column('pos_location', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('over_quota', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_index('ix_order_org_created', ['organization_id', 'created_at'], unique=False)

    with op.batch_alter_table('outbox_job', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_job_id', ['job_id'], unique=False)

    with op.batch_alter_table('shop', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stock_pool_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_shop_stock_pool_id_stock_pool'), 'stock_pool', ['stock_pool_id'], ['id'], ondelete='SET NULL')



def downgrade():
    with op.batch_alter_table('shop', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_shop_stock_pool_id_stock_pool'), type_='foreignkey')
        batch_op.drop_column('stock_pool_id')

    with op.batch_alter_table('outbox_job', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_job_id')

    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.drop_index('ix_order_org_created')
        batch_op.drop_column('over_quota')
        batch_op.drop_column('pos_location')
        batch_op.drop_column('origin')
        batch_op.drop_column('hold_code')

    op.drop_table('stock_pool_warehouse')
    with op.batch_alter_table('stock_movement', schema=None) as batch_op:
        batch_op.drop_index('ix_stock_movement_variant_at')

    op.drop_table('stock_movement')
    with op.batch_alter_table('routing_rule', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_routing_rule_organization_id'))

    op.drop_table('routing_rule')
    op.drop_table('stock_dirty')
    op.drop_table('sku_alias')
    with op.batch_alter_table('channel_stock_rule', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_channel_stock_rule_organization_id'))

    op.drop_table('channel_stock_rule')
    with op.batch_alter_table('stock_pool', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stock_pool_organization_id'))

    op.drop_table('stock_pool')
