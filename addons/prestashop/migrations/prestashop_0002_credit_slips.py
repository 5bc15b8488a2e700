"""prestashop: credit slips read from the shop, their cursor

Revision ID: prestashop_0002
Revises: prestashop_0001
Create Date: 2026-12-03 06:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = "prestashop_0002"
down_revision = "prestashop_0001"
branch_labels = None
depends_on = "core_0004"


def upgrade():
    with op.batch_alter_table("prestashop_state") as batch_op:
        batch_op.add_column(sa.Column("slip_cursor", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("slip_error", sa.Text(), nullable=True))
    op.create_table(
        "prestashop_slip",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shop_id", sa.Integer(), nullable=False),
        sa.Column("slip_id", sa.Integer(), nullable=False),
        sa.Column("id_order", sa.Integer(), nullable=False),
        sa.Column("order_reference", sa.String(length=32), nullable=True),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("return_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.String(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["shop_id"], ["shop.id"], ondelete="CASCADE",
                                name=op.f("fk_prestashop_slip_shop_id_shop")),
        sa.ForeignKeyConstraint(["order_id"], ["order.id"], ondelete="SET NULL",
                                name=op.f("fk_prestashop_slip_order_id_order")),
        sa.ForeignKeyConstraint(["return_id"], ["return.id"], ondelete="SET NULL",
                                name=op.f("fk_prestashop_slip_return_id_return")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prestashop_slip")),
        sa.UniqueConstraint("shop_id", "slip_id", name=op.f("uq_prestashop_slip_shop_id_slip_id")),
    )
    op.create_index(op.f("ix_prestashop_slip_shop_id"), "prestashop_slip", ["shop_id"])
    op.create_index(op.f("ix_prestashop_slip_status"), "prestashop_slip", ["status"])


def downgrade():
    op.drop_table("prestashop_slip")
    with op.batch_alter_table("prestashop_state") as batch_op:
        batch_op.drop_column("slip_error")
        batch_op.drop_column("slip_cursor")
