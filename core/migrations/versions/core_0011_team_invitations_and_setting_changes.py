"""team: invitations and removals of users, who changed which setting of a shop, and the
dimensions of an article

Revision ID: core_0011
Revises: core_0010
Create Date: 2026-12-02 14:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

import core.models


# revision identifiers, used by Alembic.
revision = 'core_0011'
down_revision = 'core_0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('invited_at', core.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('invited_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('removed_at', core.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_user_invited_by_id_user'), 'user', ['invited_by_id'], ['id'],
                                    ondelete='SET NULL')
    with op.batch_alter_table('variant', schema=None) as batch_op:
        batch_op.add_column(sa.Column('length_mm', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('width_mm', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('height_mm', sa.Integer(), nullable=True))
    op.create_table(
        'setting_change',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('shop_id', sa.Integer(), nullable=False),
        sa.Column('addon', sa.String(length=64), nullable=False),
        sa.Column('fields', sa.JSON(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('by', sa.String(length=254), nullable=False),
        sa.Column('at', core.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_setting_change_shop_id_shop'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_setting_change_user_id_user'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_setting_change')),
    )
    with op.batch_alter_table('setting_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_setting_change_shop_id'), ['shop_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_setting_change_at'), ['at'], unique=False)


def downgrade():
    with op.batch_alter_table('variant', schema=None) as batch_op:
        batch_op.drop_column('height_mm')
        batch_op.drop_column('width_mm')
        batch_op.drop_column('length_mm')
    with op.batch_alter_table('setting_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_setting_change_at'))
        batch_op.drop_index(batch_op.f('ix_setting_change_shop_id'))
    op.drop_table('setting_change')
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_user_invited_by_id_user'), type_='foreignkey')
        batch_op.drop_column('removed_at')
        batch_op.drop_column('invited_by_id')
        batch_op.drop_column('invited_at')
