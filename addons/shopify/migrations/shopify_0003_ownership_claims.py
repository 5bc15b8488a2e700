"""shopify: the shops that completed the OAuth install own their domain (webhook routing)

Webhook deliveries signed with the deployment's public-app secret now reach only the shop
holding the domain's ``oauth`` claim. A shop installed before this revision completed the
install too (``installed_at`` is only set by a successful OAuth callback): it gets its claim
here, the latest install of each domain still installed, so its deliveries keep arriving.

Revision ID: shopify_0003
Revises: shopify_0002
Create Date: 2026-12-02 06:30:00

"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa

import core.models


revision = "shopify_0003"
down_revision = "shopify_0002"
branch_labels = None
depends_on = "core_0009"


def upgrade():
    conn = op.get_bind()
    rows = conn.execute(sa.text(
        "SELECT shop_id, domain, installed_at FROM shopify_shop_state "
        "WHERE installed_at IS NOT NULL AND uninstalled_at IS NULL AND domain <> '' "
        "ORDER BY installed_at DESC, shop_id DESC")).all()
    claims, claimed = [], set()
    for shop_id, domain, _installed in rows:
        if domain not in claimed:
            claimed.add(domain)
            claims.append({"addon": "shopify", "account": domain, "shop_id": shop_id, "proof": "oauth",
                           "proved_at": datetime.now(timezone.utc)})
    if claims:
        table = sa.table("remote_account_claim", sa.column("addon", sa.String), sa.column("account", sa.String),
                         sa.column("shop_id", sa.Integer), sa.column("proof", sa.String),
                         sa.column("proved_at", core.models.UTCDateTime(timezone=True)))
        op.bulk_insert(table, claims)


def downgrade():
    op.execute("DELETE FROM remote_account_claim WHERE addon = 'shopify'")
