"""PrestaShop's part of the shop's diagnostic on the emulator: the webservice key's rule, the
orders the shop changed past the OMS's cursor (date_upd, oldest first)."""
from __future__ import annotations

from datetime import timedelta

from addons.prestashop.jobs import sync_orders
from core import diagnostics
from core.extensions import db
from core.models import Shop, utcnow
from tests.pipeline_helpers import variant, warehouse


def _lines(app, shop_id):
    db.session.expire_all()
    with app.test_request_context():
        return {c.title: c for c in diagnostics.run(db.session.get(Shop, shop_id))}


def test_orders_changed_in_prestashop_past_the_cursor_are_counted(app, org, emu, ps_shop, clock):
    variant(org.id, "MUG-1", {warehouse(org.id, "PAR"): 10})
    db.session.commit()
    shop = ps_shop()
    sync_orders(shop.id)
    lines = _lines(app, shop.id)
    assert lines["Nouvelles commandes chez PrestaShop"].level == "ok"
    assert "Webservice" in lines["Validité des identifiants PrestaShop"].detail

    stuck = db.session.get(Shop, shop.id)
    stuck.sync_cursor = (utcnow() - timedelta(hours=3)).isoformat()
    db.session.commit()
    clock.now -= 2 * 3600
    emu.place_order([("MUG-1", 1)])
    clock.now += 2 * 3600
    line = next(c for t, c in _lines(app, shop.id).items() if "pas encore dans l'OMS" in t)
    assert line.level == "warn" and line.title.startswith("1 commande chez PrestaShop")
    assert "il y a 2 heures" in line.detail
