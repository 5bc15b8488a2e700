"""One remote account, one shop per organization: a second connection is refused by name."""
import pytest

from core.extensions import db
from core.services import AccountAlreadyConnected, save_settings

AMAZON_SECRETS = {"lwa_client_secret", "refresh_token"}


@pytest.fixture
def addons():
    return ["amazon", "shopify"]


def test_same_amazon_marketplace_twice_is_refused(shop_factory):
    first = shop_factory("amazon", "Amazon FR")
    save_settings(first, "amazon", {"selling_partner_id": "A1SELLER", "marketplaces": ["A13V1IB3VIYZZH"]},
                  AMAZON_SECRETS)
    db.session.commit()
    second = shop_factory("amazon", "Amazon FR bis")
    with pytest.raises(AccountAlreadyConnected) as err:
        save_settings(second, "amazon", {"selling_partner_id": "a1seller ",
                                         "marketplaces": ["A1PA6795UKMFR9", "A13V1IB3VIYZZH"]},
                      AMAZON_SECRETS)
    assert err.value.holder.id == first.id and "« Amazon FR »" in str(err.value)
    assert not (second.addon_row("amazon").settings or {}).get("selling_partner_id")
    # the same seller on another marketplace is another account
    save_settings(second, "amazon", {"selling_partner_id": "A1SELLER", "marketplaces": ["A1PA6795UKMFR9"]},
                  AMAZON_SECRETS)


def test_same_shopify_domain_is_refused_in_one_organization_only(shop_factory, make_org):
    a = shop_factory("shopify", "Boutique A")
    save_settings(a, "shopify", {"shop_domain": "boutique.myshopify.com"}, set())
    db.session.commit()
    b = shop_factory("shopify", "Boutique B")
    with pytest.raises(AccountAlreadyConnected):
        save_settings(b, "shopify", {"shop_domain": "Boutique.myshopify.com"}, set())
    save_settings(b, "shopify", {"shop_domain": "autre.myshopify.com"}, set())
    # another organization is not refused here: who owns a store is proved by its OAuth
    c = shop_factory("shopify", "Ailleurs", organization=make_org("Autre"))
    save_settings(c, "shopify", {"shop_domain": "boutique.myshopify.com"}, set())


def test_settings_page_names_the_shop_that_holds_the_account(client, login, shop_factory, post_form):
    login(client)
    a = shop_factory("shopify", "Boutique principale")
    save_settings(a, "shopify", {"shop_domain": "boutique.myshopify.com"}, set())
    db.session.commit()
    b = shop_factory("shopify", "Doublon")
    url = f"/integrations/shopify/shops/{b.id}/configure"
    res = post_form(url, {"shop_domain": "boutique.myshopify.com", "api_version": "2026-10"})
    page = res.get_data(as_text=True)
    assert res.status_code == 200
    assert "déjà connecté à la boutique « Boutique principale »" in page.replace("&#34;", '"').replace("&#39;", "'")
    db.session.expire_all()
    assert (b.addon_row("shopify").settings or {}).get("shop_domain") != "boutique.myshopify.com"
