"""Every outbound URL setting refuses an internal address on the settings page itself, in
the merchant's language: the API-address overrides of Amazon, Shopify and Sendcloud, and a
supplier's webhook and stock-feed addresses."""
from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from addons.amazon.forms import SettingsForm as AmazonForm
from addons.dropship.forms import SupplierForm
from addons.sendcloud.forms import SettingsForm as SendcloudForm
from addons.shopify.forms import SettingsForm as ShopifyForm

INTERNAL = ["http://169.254.169.254/latest/meta-data/", "http://10.0.0.2/", "http://127.0.0.1:6379/",
            "http://[::1]:5432/", "http://[::ffff:172.16.0.1]/", "http://localhost/"]
FIELDS = [(AmazonForm, "api_base_url"), (AmazonForm, "token_url"), (ShopifyForm, "api_base_url"),
          (SendcloudForm, "api_base_url"), (SupplierForm, "webhook_url"), (SupplierForm, "feed_url")]


@pytest.fixture
def addons():
    return ["amazon", "shopify", "sendcloud", "dropship"]


@pytest.fixture
def closed(app):
    app.config["OUTBOUND_ALLOW"] = []  # no emulators, no allowed host: a production installation
    return app


def field_errors(app, form_class, field: str, value: str, lang: str = "fr") -> list[str]:
    data = MultiDict({field: value, "shop_domain": "maison-lumiere.myshopify.com"})
    with app.test_request_context("/", method="POST", headers={"Accept-Language": lang}):
        form = form_class(formdata=data, meta={"csrf": False})
        form.validate()
        return [str(e) for e in form.errors.get(field, [])]


@pytest.mark.parametrize("form_class, field", FIELDS)
def test_an_internal_address_is_refused_on_every_outbound_url_setting(closed, form_class, field):
    for url in INTERNAL:
        [error] = field_errors(closed, form_class, field, url)
        assert "réseau interne" in error or "ne peut pas être remplacée" in error, url


def test_the_remotes_own_hosts_and_public_addresses_are_accepted(closed):
    for form_class, field, good in [
        (AmazonForm, "api_base_url", "https://sellingpartnerapi-na.amazon.com"),
        (AmazonForm, "token_url", "https://api.amazon.com/auth/o2/token"),
        (ShopifyForm, "api_base_url", "https://maison-lumiere.myshopify.com"),
        (SendcloudForm, "api_base_url", "https://panel.sendcloud.sc/api/v3"),
        (SupplierForm, "feed_url", "https://93.184.215.14/stock.csv"),
    ]:
        assert field_errors(closed, form_class, field, good) == [], field


def test_the_refusal_reads_in_english_for_an_english_merchant(closed):
    [error] = field_errors(closed, SupplierForm, "feed_url", "http://10.0.0.2/", lang="en")
    assert "internal network" in error
    [error] = field_errors(closed, ShopifyForm, "api_base_url", "https://other.myshopify.com", lang="en")
    assert "cannot be replaced" in error


def test_a_demo_installation_accepts_its_emulators(app):
    app.config.update(OUTBOUND_ALLOW=[], SANDBOXES=True)
    assert field_errors(app, ShopifyForm, "api_base_url", "http://127.0.0.1:5000/sandbox/shopify") == []
    assert field_errors(app, SupplierForm, "feed_url", "http://127.0.0.1:5000/sandbox/dropship/stock.csv") == []
    assert field_errors(app, SupplierForm, "feed_url", "http://169.254.169.254/") != []
