"""Building blocks of the Shopify end-to-end tests."""
from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy import select

from addons.shopify import sandbox
from addons.shopify.graphql import TOPICS
from core.extensions import db
from core.models import Order, Shop, StockLevel, Variant, Warehouse
from core.services import save_settings

SECRETS = {"access_token", "api_key", "api_secret"}
WEBHOOK_URL = "http://localhost/apps/shopify/webhooks"


def configure(shop: Shop, settings: dict[str, Any]) -> None:
    save_settings(shop, "shopify", settings, SECRETS)
    db.session.commit()


def connect(shop: Shop, emu: sandbox.ShopifyEmulator, base_url: str, **overrides: Any) -> Shop:
    """A shop using the emulator's pre-issued token (a custom app), its webhooks subscribed
    to the OMS as an install would have done."""
    configure(shop, {**sandbox.demo_settings(base_url), "shop_domain": emu.domain, **overrides})
    client_id = overrides.get("api_key", sandbox.DEMO_API_KEY)
    for topic in TOPICS:
        emu.subscribe(client_id, topic, WEBHOOK_URL)
    emu.set_compliance_uri(client_id, WEBHOOK_URL)
    return shop


def install(client, post_form, shop: Shop, base_url: str, domain: str = sandbox.DEMO_DOMAIN,
            api_key: str = sandbox.DEMO_API_KEY, api_secret: str = sandbox.DEMO_API_SECRET):
    """The merchant's install: settings posted with "Installer sur Shopify", Shopify's install
    screen approved, the callback. Returns the callback's response."""
    configure_url = f"/integrations/shopify/shops/{shop.id}/configure"
    res = post_form(f"/apps/shopify/shops/{shop.id}/install", page=configure_url, data={
        "shop_domain": domain, "api_version": "2026-10", "api_key": api_key, "api_secret": api_secret,
        "api_base_url": base_url, "access_token": ""})
    assert res.status_code == 303, res.get_data(as_text=True)[:500]
    grant = approve(res.headers["Location"])
    assert grant.status_code == 302, grant.text
    return client.get(grant.headers["Location"])


def approve(authorize_url: str, action: str = "install") -> httpx.Response:
    """Shopify's install screen: read it, then press "Installer l'application" (or
    "Annuler" with ``action="cancel"``). Returns the screen's redirect back to the app."""
    screen = httpx.get(authorize_url, follow_redirects=False)
    assert screen.status_code == 200, screen.text[:500]
    fields = {k: v[0] for k, v in parse_qs(urlsplit(authorize_url).query).items()}
    for name in fields:
        assert f'name="{name}"' in screen.text, name
    return httpx.post(authorize_url, data={**fields, "action": action}, follow_redirects=False)


def callback_params(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def stock(variant: Variant, warehouse: Warehouse, qty: int) -> None:
    level = db.session.scalar(select(StockLevel).where(StockLevel.variant_id == variant.id,
                                                       StockLevel.warehouse_id == warehouse.id))
    if level is None:
        db.session.add(StockLevel(variant_id=variant.id, warehouse_id=warehouse.id, on_hand=qty, reserved=0))
    else:
        level.on_hand = qty
    db.session.commit()


def variant_by_sku(org_id: int, sku: str) -> Variant:
    found = db.session.scalar(select(Variant).where(Variant.organization_id == org_id, Variant.sku == sku))
    assert found is not None, sku
    return found


def oms_order(shop: Shop, shopify_order: dict[str, Any]) -> Order:
    """The OMS order of a Shopify order (fresh from the database)."""
    db.session.expire_all()
    found = db.session.scalar(select(Order).where(Order.shop_id == shop.id,
                                                  Order.external_id == str(shopify_order["id"])))
    assert found is not None, shopify_order["name"]
    return found
