"""The merchant's Shopify token goes only to the shop's own ``*.myshopify.com`` host: an API
address from the settings is honoured only on a demo installation (emulators on) or for a
host the operator allows."""
from __future__ import annotations

import pytest

from addons.shopify import sandbox
from addons.shopify.client import ShopifyClient, ShopifyError
from addons.shopify.oauth import exchange_code
from core import services
from core.extensions import db
from core.services import save_settings

SECRETS = {"access_token", "api_key", "api_secret"}


def configure(shop, settings):
    save_settings(shop, "shopify", settings, SECRETS)
    db.session.commit()


@pytest.mark.parametrize("target", ["http://169.254.169.254/latest/meta-data", "http://10.1.2.3:8080",
                                    "https://other-shop.myshopify.com", "https://maison-lumiere.myshopify.com.evil.example",
                                    "loopback"])
def test_an_api_address_override_cannot_send_the_token_elsewhere(app, shop_factory, base_url, emu, target):
    app.config["OUTBOUND_ALLOW"] = []  # an installation without emulators or allowed hosts
    shop = shop_factory("shopify")
    configure(shop, {**sandbox.demo_settings(base_url), "api_base_url": base_url if target == "loopback" else target})

    result = services.test_connection(shop, "shopify")

    assert not result.ok and "ne peut pas être remplacée" in result.message
    assert emu.calls == []
    with pytest.raises(ShopifyError, match="ne peut pas être remplacée"):
        exchange_code("maison-lumiere.myshopify.com", "id", "secret", "code",
                      base_url=base_url if target == "loopback" else target)
    assert emu.calls == []


def test_the_shops_own_host_is_always_accepted_and_the_demo_reaches_its_emulator(app, shop_factory, base_url):
    app.config["OUTBOUND_ALLOW"] = []
    client = ShopifyClient("maison-lumiere.myshopify.com", "shpat_x",
                           base_url="https://maison-lumiere.myshopify.com/")
    assert client.endpoint == "https://maison-lumiere.myshopify.com/admin/api/2026-10/graphql.json"
    app.config["SANDBOXES"] = True
    shop = shop_factory("shopify")
    configure(shop, sandbox.demo_settings(base_url))
    assert services.test_connection(shop, "shopify").ok
