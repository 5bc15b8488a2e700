"""``addon_required``: each add-on's pages answer 404 unless the add-on is enabled for the
shop in the URL, or for some shop of the organization on pages without one."""
from __future__ import annotations

import pytest

from core.extensions import db
from core.models import Role
from core.services import set_enabled

ALL = ["shopify", "amazon", "sendcloud", "dropship"]
#: a page of each add-on that names no shop
ORG_PAGES = {"shopify": "/apps/shopify/", "amazon": "/apps/amazon/", "sendcloud": "/apps/sendcloud/rules",
             "dropship": "/apps/dropship/suppliers"}


@pytest.fixture
def addons():
    return ALL


@pytest.mark.parametrize("name", ALL)
def test_an_addon_page_is_404_until_the_addon_is_enabled_in_the_organization(client, login, shop_factory, name):
    login(client)
    other_channel = "amazon" if name == "shopify" else "shopify"
    shop = shop_factory(other_channel)
    assert client.get(ORG_PAGES[name]).status_code == 404

    if name in ("shopify", "amazon"):
        shop_factory(name)  # a shop of that channel enables the add-on for it
    else:
        set_enabled(shop, name, True)
        db.session.commit()
    assert client.get(ORG_PAGES[name]).status_code in (200, 302)

    if name not in ("shopify", "amazon"):  # disabled again: gone again, settings kept
        set_enabled(shop, name, False)
        db.session.commit()
        assert client.get(ORG_PAGES[name]).status_code == 404


@pytest.mark.parametrize("name", ALL)
def test_another_organizations_addon_does_not_open_the_pages(client, login, make_org, shop_factory, name):
    login(client)
    shop_factory("shopify" if name == "amazon" else "amazon")
    elsewhere = shop_factory(name if name in ("shopify", "amazon") else "shopify", organization=make_org("Autre"))
    if name not in ("shopify", "amazon"):
        set_enabled(elsewhere, name, True)
        db.session.commit()
    assert client.get(ORG_PAGES[name]).status_code == 404


def test_a_page_naming_a_shop_needs_the_addon_on_that_shop(client, login, make_org, post_form, shop_factory):
    login(client)
    amazon = shop_factory("amazon")
    shopify = shop_factory("shopify")
    foreign = shop_factory("amazon", organization=make_org("Autre"))
    assert client.get(f"/apps/amazon/shops/{amazon.id}").status_code == 200
    assert client.get(f"/apps/amazon/shops/{shopify.id}").status_code == 404  # Amazon not enabled on it
    assert client.get(f"/apps/amazon/shops/{foreign.id}").status_code == 404  # another organization's
    assert client.get("/apps/amazon/shops/99999999").status_code == 404
    # the Shopify install of a shop where Shopify is not enabled
    assert post_form(f"/apps/shopify/shops/{amazon.id}/install", page="/apps/shopify/").status_code == 404


def test_the_role_is_checked_too(client, login, shop_factory):
    shop_factory("shopify")
    login(client, Role.PICKER)
    assert client.get("/apps/shopify/").status_code == 403
