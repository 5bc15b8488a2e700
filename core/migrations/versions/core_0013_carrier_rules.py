"""carrier rules: which carrier a parcel gets, or the cheapest

Revision ID: core_0013
Revises: core_0012
Create Date: 2026-12-02 20:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'core_0013'
down_revision = 'core_0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('carrier_rule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('carrier', sa.String(length=64), nullable=False),
    sa.Column('channels', sa.JSON(), nullable=False),
    sa.Column('service_levels', sa.JSON(), nullable=False),
    sa.Column('destination', sa.String(length=16), nullable=False),
    sa.Column('countries', sa.JSON(), nullable=False),
    sa.Column('min_weight_grams', sa.Integer(), nullable=True),
    sa.Column('max_weight_grams', sa.Integer(), nullable=True),
    sa.Column('min_value', sa.Numeric(precision=15, scale=2), nullable=True),
    sa.Column('max_value', sa.Numeric(precision=15, scale=2), nullable=True),
    sa.Column('sku_tag', sa.String(length=64), nullable=True),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_carrier_rule_organization_id_organization'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_carrier_rule'))
    )
    with op.batch_alter_table('carrier_rule', schema=None) as batch_op:
        batch_op.create_index('ix_carrier_rule_org_position', ['organization_id', 'position'], unique=False)


def downgrade():
    with op.batch_alter_table('carrier_rule', schema=None) as batch_op:
        batch_op.drop_index('ix_carrier_rule_org_position')
    op.drop_table('carrier_rule')
