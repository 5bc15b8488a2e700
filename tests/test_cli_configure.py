"""``oms addons configure`` validates exactly like the settings page: the same form, multi-value
fields from comma-separated values, every validator, a non-zero exit with the form's errors."""
from __future__ import annotations

import pytest

from core.extensions import db


@pytest.fixture
def addons():
    return ["amazon", "shopify"]


BASE = ("selling_partner_id=A1SELLER", "lwa_client_id=amzn1.application-oa2-client.demo")


def _configure(runner, shop, *pairs):
    return runner.invoke(args=["addons", "configure", "amazon", "--shop", str(shop.id), *pairs])


def _settings(shop):
    db.session.expire_all()
    return shop.addon_settings("amazon")


def test_multi_value_fields_take_comma_separated_values(runner, shop_factory):
    shop = shop_factory("amazon", "Amazon")
    res = _configure(runner, shop, *BASE, "marketplaces=A1F83G8C2ARO7P")
    assert res.exit_code == 0, res.output
    assert _settings(shop)["marketplaces"] == ["A1F83G8C2ARO7P"]  # not ["A", "1", "F", …]
    res = _configure(runner, shop, "marketplaces=A13V1IB3VIYZZH, A1PA6795UKMFR9")
    assert res.exit_code == 0, res.output
    settings = _settings(shop)
    assert settings["marketplaces"] == ["A13V1IB3VIYZZH", "A1PA6795UKMFR9"]
    assert settings["selling_partner_id"] == "A1SELLER"  # kept from the first call


@pytest.mark.parametrize("pair,field", [
    ("import_days=99999", "import_days"),
    ("token_url=not-a-url", "token_url"),
    ("marketplaces=XX-NOT-ONE", "marketplaces"),
])
def test_what_the_form_refuses_the_command_refuses(runner, shop_factory, pair, field):
    shop = shop_factory("amazon", "Amazon")
    assert _configure(runner, shop, *BASE).exit_code == 0
    before = _settings(shop)
    res = _configure(runner, shop, pair)
    assert res.exit_code != 0 and field in res.output
    assert _settings(shop) == before  # nothing stored


def test_the_same_account_twice_is_refused_by_name(runner, shop_factory):
    first = shop_factory("amazon", "Amazon FR")
    assert _configure(runner, first, *BASE, "marketplaces=A13V1IB3VIYZZH").exit_code == 0
    second = shop_factory("amazon", "Amazon bis")
    res = _configure(runner, second, *BASE, "marketplaces=A13V1IB3VIYZZH")
    assert res.exit_code != 0 and "Amazon FR" in res.output
