"""Cdiscount's part of the shop's diagnostic on the emulator: the Octopia credentials' rule,
the orders past the OMS's cursor (one GET /orders page), the products with no offer."""
from __future__ import annotations

from addons.cdiscount import jobs
from core import diagnostics
from core.extensions import db
from core.models import Shop
from tests.pipeline_helpers import variant


def test_the_cdiscount_lines(app, org, cdiscount_shop, emu):
    shop = cdiscount_shop()
    jobs.sync_orders(shop.id)
    db.session.commit()
    variant(org.id, "PLAID-1", {})
    db.session.commit()
    reads = sum(1 for _m, path in emu.kit.calls if path.endswith("/orders"))
    with app.test_request_context():
        lines = {c.title: c for c in diagnostics.run(db.session.get(Shop, shop.id))}
    backlog = next(c for t, c in lines.items() if t.startswith("Nouvelles commandes chez"))
    assert backlog.level == "ok" and "Aucune commande plus récente" in backlog.detail
    assert "Octopia" in next(c for t, c in lines.items() if t.startswith("Validité")).detail
    unlisted = next(c for t, c in lines.items() if "sans annonce" in t)
    assert unlisted.level == "warn" and "PLAID-1" in unlisted.detail
    assert sum(1 for _m, path in emu.kit.calls if path.endswith("/orders")) == reads + 1  # one page asked
