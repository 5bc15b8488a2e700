"""Mirakl's part of the shop's diagnostic on the emulator: the API key's rule, the orders the
operator changed past the OMS's cursor (OR11, one order, within its minute), products with
no offer."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from addons.mirakl.jobs import sync_orders
from addons.mirakl import mapping
from core import diagnostics
from core.extensions import db
from core.models import Shop
from tests.pipeline_helpers import variant


def _diagnose(app, shop_id):
    db.session.expire_all()
    with app.test_request_context():
        return {c.title: c for c in diagnostics.run(db.session.get(Shop, shop_id))}


def test_orders_past_the_cursor_then_the_minute_already_used(app, org, make_shop, emu, clock, catalog):
    variant(org.id, "PLAID-1", {})  # in the catalogue, offered nowhere
    shop = make_shop("carrefour")
    clock.advance(120)
    sync_orders(shop.id)
    db.session.commit()
    clock.advance(61)
    lines = _diagnose(app, shop.id)
    assert lines["Nouvelles commandes chez Mirakl"].level == "ok"
    assert "n'a pas de date de fin" in lines["Validité des identifiants Mirakl"].detail
    assert "PLAID-1" in next(c for t, c in lines.items() if "sans annonce" in t).detail

    stuck = db.session.get(Shop, shop.id)
    now = datetime.fromtimestamp(clock.time(), tz=timezone.utc)
    stuck.sync_cursor = mapping.iso(now - timedelta(hours=3))
    db.session.commit()
    emu.place_order("carrefour", [("MUG-1", 1, "12.00")], created=now - timedelta(hours=2))
    clock.advance(61)
    reads = len([r for r in emu.kit.requests if r[1] == "/carrefour/api/orders"])
    line = next(c for t, c in _diagnose(app, shop.id).items() if "pas encore dans l'OMS" in t)
    assert line.level == "warn" and line.title.startswith("1 commande chez Mirakl")
    assert len([r for r in emu.kit.requests if r[1] == "/carrefour/api/orders"]) == reads + 1

    # the same minute again: said, not sent
    line = next(c for t, c in _diagnose(app, shop.id).items() if t.startswith("Impossible de vérifier"))
    assert line.level == "warn" and "une lecture des commandes par minute" in line.detail
    assert len([r for r in emu.kit.requests if r[1] == "/carrefour/api/orders"]) == reads + 1
