"""One Fnac shop and one Darty shop under one partner id; the same shop twice refused; the
settings page; tenant isolation of the add-on's pages; the demo's calm clock."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from addons.fnac import jobs, sandbox
from addons.fnac.models import FnacOffer
from core.connectors.emulator import ManualClock
from core.extensions import db
from core.models import Order, Variant
from core.services import AccountAlreadyConnected, save_settings

from .conftest import DARTY_SHOP, FNAC_SHOP, PARTNER, configure, settings_of


def test_fnac_and_darty_shops_of_one_partner_each_get_their_orders(app, emu, fnac_shop, catalog):
    catalog({"LIV-001": 5, "FOUR-01": 2})
    fnac = fnac_shop()
    darty = fnac_shop(darty=True)
    a = emu.add_order(FNAC_SHOP, [("LIV-001", 1, "9.90")])
    b = emu.add_order(DARTY_SHOP, [("FOUR-01", 1, "199.00")])
    assert a.order_id.startswith("F") and b.order_id.startswith("D") and len(a.order_id) == len(b.order_id) == 13
    jobs.sync_orders(fnac.id)
    jobs.sync_orders(darty.id)
    db.session.commit()
    by_shop = {s.id: {o.external_id for o in db.session.scalars(sa.select(Order).where(Order.shop_id == s.id))}
               for s in (fnac, darty)}
    assert by_shop == {fnac.id: {a.order_id}, darty.id: {b.order_id}}


def test_the_same_fnac_shop_twice_is_refused(app, shop_factory, make_org, base_url):
    first = shop_factory("fnac", "Fnac")
    configure(first, settings_of(base_url))
    second = shop_factory("fnac", "Fnac bis")
    with pytest.raises(AccountAlreadyConnected) as err:
        save_settings(second, "fnac", {**settings_of(base_url), "shop_id": FNAC_SHOP.upper()}, {"key"})
    assert err.value.holder.id == first.id and "« Fnac »" in str(err.value)
    db.session.rollback()
    save_settings(second, "fnac", settings_of(base_url, darty=True), {"key"})  # the Darty shop: another account
    db.session.commit()
    other_org = shop_factory("fnac", "Ailleurs", organization=make_org("Autre"))
    save_settings(other_org, "fnac", settings_of(base_url), {"key"})  # the key proves it there


def test_settings_page_refuses_the_duplicate_and_never_echoes_the_key(client, login, shop_factory, post_form,
                                                                      base_url):
    login(client)
    first = shop_factory("fnac", "Boutique Fnac")
    configure(first, settings_of(base_url))
    page = client.get(f"/integrations/fnac/shops/{first.id}/configure").get_data(as_text=True)
    assert "Identifiant partenaire" in page and settings_of(base_url)["key"] not in page
    dup = shop_factory("fnac", "Doublon")
    res = post_form(f"/integrations/fnac/shops/{dup.id}/configure",
                    {"brand": "fnac", "partner_id": PARTNER, "shop_id": FNAC_SHOP, "key": "x",
                     "api_base_url": base_url, "accept_hours": "36", "import_days": "30"})
    text = res.get_data(as_text=True).replace("&#34;", '"').replace("&#39;", "'")
    assert res.status_code == 200 and "déjà connecté à la boutique « Boutique Fnac »" in text
    res = post_form(f"/integrations/fnac/shops/{dup.id}/configure",
                    {"brand": "fnac", "partner_id": "pas-un-uuid", "shop_id": FNAC_SHOP, "key": "x"})
    assert "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" in res.get_data(as_text=True)


def test_shop_page_and_the_fix_buttons(client, login, emu, fnac_shop, catalog, post_form):
    catalog({"LIV-001": 5, "ALT-9": 1})
    emu.add_offer(FNAC_SHOP, "LIV-001", title="Livre")
    emu.add_offer(FNAC_SHOP, "SANS-PRODUIT", title="Coffret collector", price="49.90")
    emu.add_offer(FNAC_SHOP, "AUTRE-REF", title="Autre", price="12.00")
    shop = fnac_shop()
    jobs.import_offers(shop.id)
    db.session.commit()
    login(client)
    url = f"/apps/fnac/shops/{shop.id}"
    page = client.get(url).get_data(as_text=True)
    assert 'data-sku="SANS-PRODUIT"' in page and "Créer le produit" in page
    loose = {o.sku: o for o in db.session.scalars(sa.select(FnacOffer).where(FnacOffer.variant_id.is_(None)))}
    res = post_form(f"{url}/offers/{loose['SANS-PRODUIT'].id}/fix", {"do": "create"}, page=url)
    assert res.status_code == 302
    created = db.session.scalar(sa.select(Variant).where(Variant.sku == "SANS-PRODUIT"))
    assert created is not None and created.product.title == "Coffret collector"
    res = post_form(f"{url}/offers/{loose['AUTRE-REF'].id}/fix", {"do": "link", "sku": "ALT-9"}, page=url)
    assert res.status_code == 302
    db.session.expire_all()
    assert db.session.get(FnacOffer, loose["AUTRE-REF"].id).variant_id is not None
    assert client.get("/apps/fnac/").status_code == 302


def test_pages_of_another_organization_are_404(client, login, shop_factory, make_org, make_user, base_url):
    other = make_org("Concurrent")
    theirs = shop_factory("fnac", "Leur Fnac", organization=other)
    configure(theirs, settings_of(base_url))
    login(client)
    mine = shop_factory("fnac", "Ma Fnac")
    assert client.get(f"/apps/fnac/shops/{mine.id}").status_code == 200
    assert client.get(f"/apps/fnac/shops/{theirs.id}").status_code == 404
    assert client.get("/apps/fnac/shops/999999").status_code == 404


def test_the_demo_shop_is_calm(spec_book):
    clock = ManualClock(1_800_000_000)
    emu = sandbox.FnacEmulator(clock=clock, demo=True, seed=3)
    from addons.fnac.tests.spec_check import attach

    problems = attach(emu.app, spec_book)
    client = emu.app.test_client()
    from addons.fnac.wire import document, element

    def query():
        client.post("/auth", data=document(element("auth", children=[
            element("partner_id", sandbox.DEMO_PARTNER_ID), element("shop_id", sandbox.DEMO_FNAC_SHOP_ID),
            element("key", sandbox.DEMO_FNAC_KEY)])))

    query()
    fnac = [o for o in emu.orders.values() if o.shop_id == sandbox.DEMO_FNAC_SHOP_ID]
    assert len(fnac) == sandbox.DEMO_BURST and all(o.state == "Created" for o in fnac)
    clock.advance(19 * 60)
    query()
    assert len(emu.orders) == sandbox.DEMO_BURST
    clock.advance(60)
    query()
    clock.advance(6 * 3600)  # a long pause: one order, not eighteen
    query()
    assert len(emu.orders) == sandbox.DEMO_BURST + 2
    assert len({o.order_id for o in emu.orders.values()}) == len(emu.orders)
    assert all(o.order_id.startswith("F") and len(o.order_id) == 13 for o in emu.orders.values())
    assert {s for s in emu.offers} == {sandbox.DEMO_FNAC_SHOP_ID, sandbox.DEMO_DARTY_SHOP_ID}
    assert problems == []
