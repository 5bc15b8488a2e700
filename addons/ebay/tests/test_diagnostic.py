"""eBay's part of the shop's diagnostic, against the emulator over real HTTP: the grant's 18
months, the orders eBay changed past the OMS's cursor, the notification subscriptions."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from addons.ebay import jobs
from core.extensions import db
from core.models import Shop
from core.testing import diagnosed, line_titled

from .conftest import T0


@pytest.mark.parametrize("days, level", [(200, "ok"), (20, "warn"), (-3, "error")])
def test_the_grant_turns_orange_a_month_before_its_18_months_and_red_after(app, ebay_shop, days, level):
    shop = ebay_shop()
    shop.credentials = {**shop.credentials, "refresh_token_expires_at": T0 + days * 86400}
    db.session.commit()
    with app.test_request_context():
        from addons.ebay.checks import grant

        line = grant(db.session.get(Shop, shop.id))
    assert line.level == level, line
    if level != "ok":
        assert "Installer sur eBay" in line.detail and line.fix_url == f"/integrations/ebay/shops/{shop.id}/configure"


def test_orders_ebay_changed_past_the_cursor_are_orange(app, ebay_shop, emu, catalog, clock):
    catalog({"MUG-1": 10})
    shop = ebay_shop()
    jobs.sync_orders(shop.id)
    db.session.commit()
    assert line_titled(diagnosed(app, shop.id), "Nouvelles commandes chez eBay").level == "ok"

    stuck = db.session.get(Shop, shop.id)
    cursor = datetime.fromtimestamp(clock.time(), tz=timezone.utc) - timedelta(hours=3)
    stuck.sync_cursor = cursor.isoformat()
    db.session.commit()
    emu.place_order([("MUG-1", 1)], created=clock.time() - 2 * 3600, notify=False)
    line = line_titled(diagnosed(app, shop.id), "pas encore dans l'OMS")
    assert line.level == "warn" and line.title.startswith("1 commande chez eBay")
    assert line.fix_post and line.fix_label == "Importer maintenant"


def test_notifications_not_subscribed_then_subscribed_then_one_missing(app, ebay_shop, emu):
    shop = ebay_shop()
    line = line_titled(diagnosed(app, shop.id), "Notifications eBay non activées")
    assert line.level == "error" and line.fix_post
    assert line.fix_url == f"/apps/ebay/shops/{shop.id}/notifications"

    jobs.subscribe(shop.id, f"http://localhost/apps/ebay/notifications/{shop.id}")
    assert line_titled(diagnosed(app, shop.id), "Notifications envoyées par eBay").level == "ok"

    gone = next(sid for sid, s in emu.state.subscriptions.items() if s["topicId"] == "ORDER_CONFIRMATION")
    del emu.state.subscriptions[gone]
    line = line_titled(diagnosed(app, shop.id), "notification manquante")
    assert line.level == "error" and "commandes confirmées" in line.detail
