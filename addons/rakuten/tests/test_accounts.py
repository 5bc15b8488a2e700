"""Connect: the settings, the connection test, one Rakuten account per organization, the
shop's page guarded and another organization's data never shown."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from addons.rakuten import jobs
from addons.rakuten.hooks import channel_account_key
from addons.rakuten.sandbox import DEMO_TOKEN
from core import services
from core.extensions import db
from core.models import Order

from .conftest import configure
from .test_flow import drain


def test_the_connection_test_says_what_it_found(app, emu, rakuten_shop):
    emu.add_sale([("MUG-STD", "9.50"), ("MUG-STD", "9.50")])
    shop = rakuten_shop()
    result = services.test_connection(shop, "rakuten")
    assert result.ok and "boutique-demo" in result.message and "1 vente(s) à accepter" in result.message
    assert any("2 article(s)" in d for d in result.details)
    assert any("getnewsales 2017-08-07" in d for d in result.details)


def test_a_wrong_token_is_said_plainly(app, emu, shop_factory, base_url):
    shop = shop_factory("rakuten")
    configure(shop, {"login": "boutique-demo", "token": "wrong", "api_base_url": base_url})
    result = services.test_connection(shop, "rakuten")
    assert not result.ok and "jeton web-service" in result.message and "Error" not in result.message


def test_the_same_login_twice_in_one_organization_is_refused(app, emu, rakuten_shop, shop_factory, base_url,
                                                              make_org):
    assert channel_account_key(None, {"login": " Boutique-Demo "}) == "rakuten:boutique-demo"
    assert channel_account_key(None, {"login": ""}) is None
    first = rakuten_shop()
    second = shop_factory("rakuten")
    with pytest.raises(services.AccountAlreadyConnected) as err:
        services.save_settings(second, "rakuten", {"login": "BOUTIQUE-DEMO", "token": "x", "api_base_url": base_url},
                               {"token"})
    assert first.name in str(err.value)
    db.session.rollback()
    services.save_settings(second, "rakuten", {"login": "autre-boutique", "token": "x"}, {"token"})
    other_org = make_org("Autre organisation")
    elsewhere = shop_factory("rakuten", organization=other_org)
    services.save_settings(elsewhere, "rakuten", {"login": "boutique-demo", "token": DEMO_TOKEN}, {"token"})
    db.session.commit()


def test_the_token_is_stored_encrypted_and_never_shown(app, emu, rakuten_shop, client, login):
    shop = rakuten_shop()
    row = shop.addon_row("rakuten")
    assert "token" not in (row.settings or {}) and row.secrets["token"] == DEMO_TOKEN
    raw = db.session.execute(sa.text("select secrets from shop_addon where id = :id"), {"id": row.id}).scalar()
    assert DEMO_TOKEN not in str(raw)
    login(client)
    page = client.get(f"/integrations/rakuten/shops/{shop.id}/configure")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "boutique-demo" in html and "Jeton web-service" in html
    assert DEMO_TOKEN not in html


def test_the_page_is_guarded_and_tenants_are_apart(app, emu, rakuten_shop, catalog, clock, client, login,
                                                   make_org, make_user, shop_factory):
    catalog({"MUG-STD": 3})
    shop = rakuten_shop()
    sale = emu.add_sale([("MUG-STD", "9.50")])
    jobs.sync_orders(shop.id)
    drain(clock)
    login(client)
    page = client.get(f"/apps/rakuten/shops/{shop.id}")
    assert page.status_code == 200 and sale.items[0].itemid in page.get_data(as_text=True)
    assert client.get("/apps/rakuten/").status_code == 302

    other_org = make_org("Concurrent")
    intruder = make_user(other_org, email="intrus@example.fr")
    other = client.application.test_client()
    login(other, user=intruder)
    assert other.get(f"/apps/rakuten/shops/{shop.id}").status_code == 404
    assert other.get("/apps/rakuten/").status_code == 404
    assert other.post(f"/apps/rakuten/shops/{shop.id}/reconcile").status_code in (400, 404)
    # their own Rakuten shop shows none of the first organization's sales
    theirs = shop_factory("rakuten", organization=other_org)
    services.save_settings(theirs, "rakuten", {"login": "concurrent", "token": "t"}, {"token"})
    db.session.commit()
    page = other.get(f"/apps/rakuten/shops/{theirs.id}")
    assert page.status_code == 200 and sale.items[0].itemid not in page.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Order)) == 1
