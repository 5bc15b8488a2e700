"""The webhook inbox: a processed delivery's body (personal data) is emptied after 7 days,
its delivery id kept 30 days so that a late redelivery is still recognised, then deleted."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from addons.shopify.jobs import purge_inbox
from addons.shopify.models import ShopifyWebhookInbox
from core.extensions import db
from core.models import utcnow


def delivery(shop, webhook_id: str, processed_days_ago: float | None) -> None:
    db.session.add(ShopifyWebhookInbox(
        shop_id=shop.id, webhook_id=webhook_id, topic="orders/create",
        payload={"id": 1, "email": "client@exemple.fr"},
        processed_at=None if processed_days_ago is None else utcnow() - timedelta(days=processed_days_ago)))


def test_bodies_emptied_after_a_week_ids_kept_a_month(app, shop_factory):
    shop = shop_factory("shopify")
    delivery(shop, "fresh", 1)
    delivery(shop, "week-old", 8)
    delivery(shop, "month-old", 31)
    delivery(shop, "waiting", None)  # not processed yet: untouched whatever its age
    db.session.commit()
    assert purge_inbox() == 2
    rows = {r.webhook_id: r for r in db.session.scalars(select(ShopifyWebhookInbox))}
    assert sorted(rows) == ["fresh", "waiting", "week-old"]
    assert rows["week-old"].payload == {}
    assert rows["fresh"].payload["email"] == "client@exemple.fr"
    assert rows["waiting"].payload["email"] == "client@exemple.fr"
    assert purge_inbox() == 0  # nothing left to do
