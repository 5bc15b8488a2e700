"""pick waves and preparation times

Revision ID: core_0003
Revises: core_0002
Create Date: 2026-11-27 03:24:35.307995

"""
from alembic import op
import sqlalchemy as sa

import core.models


# revision identifiers, used by Alembic.
revision = 'core_0003'
down_revision = 'core_0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('pick_wave',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('warehouse_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('open', 'picking', 'sorting', 'packing', 'done', 'cancelled', name='pickwavestatus', native_enum=False, length=32), nullable=False),
    sa.Column('filters', sa.JSON(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', core.models.UTCDateTime(timezone=True), nullable=False),
    sa.Column('started_at', core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('picked_at', core.models.UTCDateTime(timezone=True), nullable=True),
    sa.Column('completed_at', core.models.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by'], ['user.id'], name=op.f('fk_pick_wave_created_by_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_pick_wave_organization_id_organization')),
    sa.ForeignKeyConstraint(['warehouse_id'], ['warehouse.id'], name=op.f('fk_pick_wave_warehouse_id_warehouse')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pick_wave'))
    )
    with op.batch_alter_table('pick_wave', schema=None) as batch_op:
        batch_op.create_index('ix_pick_wave_org_status', ['organization_id', 'status'], unique=False)

    op.create_table('pick_wave_order',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('wave_id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('slot', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('picking', 'packed', 'shipped', 'removed', name='pickwaveorderstatus', native_enum=False, length=32), nullable=False),
    sa.Column('shipment_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['order_id'], ['order.id'], name=op.f('fk_pick_wave_order_order_id_order'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shipment_id'], ['shipment.id'], name=op.f('fk_pick_wave_order_shipment_id_shipment'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['wave_id'], ['pick_wave.id'], name=op.f('fk_pick_wave_order_wave_id_pick_wave'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pick_wave_order')),
    sa.UniqueConstraint('wave_id', 'slot', name=op.f('uq_pick_wave_order_wave_id_slot'))
    )
    with op.batch_alter_table('pick_wave_order', schema=None) as batch_op:
        batch_op.create_index('ix_pick_wave_order_order', ['order_id'], unique=False)

    op.create_table('pick_wave_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('wave_id', sa.Integer(), nullable=False),
    sa.Column('wave_order_id', sa.Integer(), nullable=False),
    sa.Column('order_line_id', sa.Integer(), nullable=False),
    sa.Column('variant_id', sa.Integer(), nullable=True),
    sa.Column('bin_code', sa.String(length=32), nullable=True),
    sa.Column('sort_key', sa.String(length=64), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('picked', sa.Integer(), nullable=False),
    sa.Column('slotted', sa.Integer(), nullable=False),
    sa.Column('packed', sa.Integer(), nullable=False),
    sa.Column('override_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['order_line_id'], ['order_line.id'], name=op.f('fk_pick_wave_line_order_line_id_order_line'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['variant_id'], ['variant.id'], name=op.f('fk_pick_wave_line_variant_id_variant'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['wave_id'], ['pick_wave.id'], name=op.f('fk_pick_wave_line_wave_id_pick_wave'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['wave_order_id'], ['pick_wave_order.id'], name=op.f('fk_pick_wave_line_wave_order_id_pick_wave_order'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pick_wave_line'))
    )
    with op.batch_alter_table('pick_wave_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pick_wave_line_wave_id'), ['wave_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pick_wave_line_wave_order_id'), ['wave_order_id'], unique=False)

    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.add_column(sa.Column('picking_started_at', core.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('packed_at', core.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('shipped_at', core.models.UTCDateTime(timezone=True), nullable=True))

    with op.batch_alter_table('shipment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('label_error', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('shipment', schema=None) as batch_op:
        batch_op.drop_column('label_error')

    with op.batch_alter_table('order', schema=None) as batch_op:
        batch_op.drop_column('shipped_at')
        batch_op.drop_column('packed_at')
        batch_op.drop_column('picking_started_at')

    with op.batch_alter_table('pick_wave_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pick_wave_line_wave_order_id'))
        batch_op.drop_index(batch_op.f('ix_pick_wave_line_wave_id'))

    op.drop_table('pick_wave_line')
    with op.batch_alter_table('pick_wave_order', schema=None) as batch_op:
        batch_op.drop_index('ix_pick_wave_order_order')

    op.drop_table('pick_wave_order')
    with op.batch_alter_table('pick_wave', schema=None) as batch_op:
        batch_op.drop_index('ix_pick_wave_org_status')

    op.drop_table('pick_wave')
