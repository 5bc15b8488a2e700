"""Fnac Darty's part of the shop's diagnostic on the emulator: the partner key's rule, the
orders Fnac Darty changed past the OMS's cursor (orders_query, one result, nb_total_result)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from addons.fnac import jobs
from core import diagnostics
from core.extensions import db
from core.models import Shop

from .conftest import FNAC_SHOP


def _lines(app, shop_id):
    db.session.expire_all()
    with app.test_request_context():
        return {c.title: c for c in diagnostics.run(db.session.get(Shop, shop_id))}


def test_orders_fnac_darty_has_past_the_cursor_are_counted(app, emu, fnac_shop, catalog, clock):
    catalog({"LIV-001": 5})
    shop = fnac_shop()
    jobs.sync_orders(shop.id)
    db.session.commit()
    lines = _lines(app, shop.id)
    backlog = next(c for t, c in lines.items() if t.startswith("Nouvelles commandes chez"))
    assert backlog.level == "ok"
    assert "n'a pas de date de fin connue" in next(c for t, c in lines.items() if t.startswith("Validité")).detail

    stuck = db.session.get(Shop, shop.id)
    stuck.sync_cursor = (datetime.fromtimestamp(clock.time(), tz=timezone.utc) - timedelta(hours=3)).isoformat()
    db.session.commit()
    for _ in range(3):
        emu.add_order(FNAC_SHOP, [("LIV-001", 1, "9.90")], created=clock.time() - 2 * 3600)
    line = next(c for t, c in _lines(app, shop.id).items() if "pas encore dans l'OMS" in t)
    assert line.level == "warn" and line.title.startswith("3 commandes chez")
    assert line.fix_post and line.fix_url == f"/integrations/shops/{shop.id}/sync"
