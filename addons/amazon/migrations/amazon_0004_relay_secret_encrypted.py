"""amazon: the relay secret is encrypted at rest like every other secret

Revision ID: amazon_0004
Revises: amazon_0003
Create Date: 2026-12-02 06:30:00.000000

"""
from alembic import op
import sqlalchemy as sa

import core.crypto


# revision identifiers, used by Alembic.
revision = 'amazon_0004'
down_revision = 'amazon_0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('amazon_subscription', schema=None) as batch_op:
        batch_op.alter_column('relay_secret', existing_type=sa.String(length=64), type_=core.crypto.EncryptedText(),
                              existing_nullable=False)
    conn = op.get_bind()
    table = sa.table('amazon_subscription', sa.column('shop_id', sa.Integer), sa.column('relay_secret', sa.Text))
    for shop_id, plain in conn.execute(sa.select(table.c.shop_id, table.c.relay_secret)).all():
        conn.execute(table.update().where(table.c.shop_id == shop_id)
                     .values(relay_secret=core.crypto.encrypt(plain)))


def downgrade():
    conn = op.get_bind()
    table = sa.table('amazon_subscription', sa.column('shop_id', sa.Integer), sa.column('relay_secret', sa.Text))
    for shop_id, token in conn.execute(sa.select(table.c.shop_id, table.c.relay_secret)).all():
        conn.execute(table.update().where(table.c.shop_id == shop_id)
                     .values(relay_secret=core.crypto.decrypt(token)))
    with op.batch_alter_table('amazon_subscription', schema=None) as batch_op:
        batch_op.alter_column('relay_secret', existing_type=core.crypto.EncryptedText(), type_=sa.String(length=64),
                              existing_nullable=False)
