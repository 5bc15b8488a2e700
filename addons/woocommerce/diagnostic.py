"""WooCommerce's part of the shop's diagnostic: the REST API keys, the orders the store
changed past the OMS's cursor, the add-on's webhooks on the store and the last delivery, the
products with no WooCommerce article."""
from __future__ import annotations

from datetime import datetime

from flask import url_for
from flask_babel import gettext as _, lazy_gettext as _l

from core import diagnostics
from core.connectors import RetryPolicy
from core.diagnostics import Backlog, Check
from core.models import Shop

from . import mapping
from .client import Client, WooError
from .jobs import client_for, webhook_url
from .models import WoocommerceListing

#: the page waits: no retry beyond one quick one
QUICK = RetryPolicy(attempts=2, max_wait=1.0)
TOPIC_LABELS = {
    "order.created": _l("commandes créées"), "order.updated": _l("commandes modifiées"),
    "order.deleted": _l("commandes supprimées"), "order.restored": _l("commandes restaurées"),
    "product.created": _l("produits créés"), "product.updated": _l("produits modifiés"),
    "product.deleted": _l("produits supprimés"), "product.restored": _l("produits restaurés"),
}
NEEDED = {topic: TOPIC_LABELS.get(topic, topic) for topic in mapping.TOPICS}


def diagnose(shop: Shop) -> list[Check]:
    client = client_for(shop, timeout=diagnostics.REMOTE_TIMEOUT, retry=QUICK)
    reach = diagnostics.Reach()
    checks = [
        # WooCommerce's REST API keys have no expiry: they work until revoked in WooCommerce ›
        # Réglages › Avancé › API REST (woocommerce.github.io/woocommerce-rest-api-docs,
        # "Authentication"); a revoked key fails the next call, which the connection line says
        diagnostics.credentials_valid(
            shop, _("Les clés API REST de WooCommerce n'expirent pas : seule leur révocation (WooCommerce › "
                  "Réglages › Avancé › API REST) les invalide, ce que la prochaine synchronisation "
                  "signale.")),
        diagnostics.remote_backlog(shop, lambda since: reach(backlog, client, since)),
        webhooks(shop, client, reach),
        diagnostics.last_delivery(shop),
        diagnostics.unmatched_listings(shop, WoocommerceListing, "woocommerce.shop_page", anchor="unmatched"),
        diagnostics.unlisted_products(
            shop, diagnostics.listed_variants(shop, WoocommerceListing),
            what=_("Créez l'article avec le même SKU dans WooCommerce, puis relisez le catalogue.")),
    ]
    return [c for c in checks if c is not None]


def backlog(client: Client, since: datetime) -> Backlog:
    """One ``GET /orders`` of one order, least recently modified first, past the cursor:
    ``X-WP-Total`` counts them."""
    res = client.raw("GET", "/orders", params={"modified_after": mapping.gmt_param(since), "dates_are_gmt": "true",
                                              "orderby": "modified", "order": "asc", "per_page": 1})
    items = client.checked(res) or []
    oldest = mapping.gmt(items[0].get("date_modified_gmt")) if items else None
    return Backlog(int(res.headers.get("X-WP-Total") or len(items)), oldest=oldest)


def webhooks(shop: Shop, client: Client, reach: diagnostics.Reach) -> Check:
    """The add-on's webhooks on the store, pointed at this shop's address and active
    (WooCommerce disables one after 5 failed deliveries)."""
    try:
        fix_url = url_for("woocommerce.run_action", shop_id=shop.id, action="webhooks")
    except RuntimeError:
        fix_url = None
    url = webhook_url(shop)
    try:
        active = {w.get("topic") for w in reach(client.webhooks)
                  if w.get("delivery_url") == url and w.get("status") == "active"}
    except WooError as exc:
        return diagnostics.webhooks_registered(shop, NEEDED, None, error=diagnostics.remote_words(exc))
    return diagnostics.webhooks_registered(shop, NEEDED, active, fix_url=fix_url)
