"""Rakuten's part of the shop's diagnostic: the webservice token's rule and the products with
no offer (Rakuten's sales API cannot count the orders past a date: no such line)."""
from __future__ import annotations

from core import diagnostics
from core.extensions import db
from core.models import Shop
from tests.pipeline_helpers import variant


def test_the_rakuten_lines(app, org, rakuten_shop):
    shop = rakuten_shop()
    variant(org.id, "PLAID-1", {})
    db.session.commit()
    with app.test_request_context():
        lines = {c.title: c for c in diagnostics.run(db.session.get(Shop, shop.id))}
    keys = next(c for t, c in lines.items() if t.startswith("Validité"))
    assert keys.level == "ok" and "jeton de webservice Rakuten" in keys.detail
    assert not any(t.startswith("Nouvelles commandes chez") for t in lines)
    unlisted = next(c for t, c in lines.items() if "sans annonce" in t)
    assert unlisted.level == "warn" and "PLAID-1" in unlisted.detail
