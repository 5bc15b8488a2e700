"""Rate shopping: with several carriers enabled, the packing screen shows each carrier's
quote for the parcel (``shipping_quote_rates``), and "the cheapest for the service level"
sends the parcel with the cheapest carrier that keeps the order's promise."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from addons.colissimo import sandbox as colissimo_sandbox
from addons.dhl import sandbox as dhl_sandbox
from core import picking, services, shipping
from core.extensions import db
from core.models import Shipment
from core.types import Rate
from tests.fixtures import FAKE_ADDONS, csrf_token
from tests.picking_helpers import allocated, ean13, stocked
from tests.pipeline_helpers import warehouse


@pytest.fixture
def addons():
    return ["alpha", "beta", "dhl", "colissimo"]


@pytest.fixture
def app_config():
    return {"ADDON_MODULES": dict(FAKE_ADDONS)}


@pytest.fixture
def emulators(serve_wsgi):
    dhl, colissimo = dhl_sandbox.make_app(), colissimo_sandbox.make_app()
    return {"dhl": (dhl, serve_wsgi(dhl)), "colissimo": (colissimo, serve_wsgi(colissimo))}


@pytest.fixture
def shop(shop_factory, emulators, org):
    shop = shop_factory("beta", "Boutique Beta")
    services.set_enabled(shop, "dhl", True)
    services.save_settings(shop, "dhl", dhl_sandbox.demo_settings(emulators["dhl"][1]), {"api_secret"})
    services.set_enabled(shop, "colissimo", True)
    services.save_settings(shop, "colissimo", colissimo_sandbox.demo_settings(emulators["colissimo"][1]), {"api_key"})
    wh = warehouse(org.id, "PAR", priority=1)
    stocked(org.id, wh, "TEE", 40, barcode=ean13("376000000001"), grams=180, bin_code="A-01-01")
    db.session.commit()
    return shop


def packed(order):
    member = picking.wave_for_order(order)
    for line in member.lines:
        for _ in range(line.quantity):
            picking.override("pack", line, list(member.lines), "test : comptage direct")
    db.session.commit()
    return member


def ship(client, member, **data):
    page = f"/preparation/pack/{member.id}"
    return client.post(f"{page}/ship", data={"weight_grams": "180", "csrf_token": csrf_token(client, page), **data})


def test_the_rules_keep_the_promise_then_the_price():
    quotes = [shipping.Quote("a", "A", Rate("a", "Eco", Decimal("4.99"), "EUR", "E", service_level="standard")),
              shipping.Quote("b", "B", Rate("b", "24 h", Decimal("14.90"), "EUR", "N", service_level="express")),
              shipping.Quote("c", "C", Rate("c", "Sans délai", Decimal("3.00"), "EUR", "X"))]
    assert shipping.cheapest(quotes, "standard", "EUR").addon == "c"
    assert shipping.cheapest(quotes, "express", "EUR").addon == "b"
    assert shipping.cheapest(quotes, "prime", "EUR").addon == "b"
    assert shipping.cheapest(quotes[:1], "express", "EUR") is None
    assert shipping.cheapest([quotes[1], shipping.Quote("d", "D", Rate("d", "x", Decimal("1"), "GBP", "G",
                                                                       service_level="express"))],
                             "express", "EUR").addon == "b"  # the order's currency first


def test_the_packing_screen_shows_every_carrier_s_quote(app, client, login, org, shop):
    order = allocated(shop, "rs-1", [("TEE", 1)])
    member = packed(order)
    login(client, "picker")
    page = client.get(f"/preparation/pack/{member.id}").get_data(as_text=True)
    assert 'data-rate="colissimo|DOM" data-best' in page  # 4,99 € beats DHL's 14,90 €
    assert 'data-rate="dhl|N"' in page and 'data-rate="dhl|T"' in page
    assert "Le moins cher pour le niveau de service" in page
    assert 'value="cheapest" selected' in page or 'selected value="cheapest"' in page
    res = ship(client, member, carrier=shipping.CHEAPEST)
    assert res.status_code == 302
    shipment = db.session.scalar(select(Shipment))
    assert shipment.carrier == "colissimo" and shipment.tracking_number.startswith("6A")
    assert any("transporteur le moins cher" in e.message for e in order.events)


def test_an_express_order_goes_with_the_cheapest_express_service(app, client, login, org, shop, emulators):
    order = allocated(shop, "rs-2", [("TEE", 1)], service_level="express")
    member = packed(order)
    login(client, "picker")
    page = client.get(f"/preparation/pack/{member.id}").get_data(as_text=True)
    assert 'data-rate="dhl|N" data-best' in page and "trop lent pour ce niveau de service" in page
    ship(client, member, carrier=shipping.CHEAPEST)
    shipment = db.session.scalar(select(Shipment))
    assert shipment.carrier == "dhl" and shipment.service == "DHL Express Domestic"
    [sent] = [body for method, path, body in emulators["dhl"][0].config["KIT"].requests
              if (method, path) == ("POST", "/mydhlapi/shipments")]
    assert sent["productCode"] == "N"


def test_a_quote_picked_on_the_screen_is_the_one_bought(app, client, login, org, shop, emulators):
    order = allocated(shop, "rs-3", [("TEE", 1)])
    member = packed(order)
    login(client, "picker")
    ship(client, member, carrier="colissimo", rate="dhl|T")
    shipment = db.session.scalar(select(Shipment))
    assert shipment.carrier == "dhl" and shipment.service == "DHL Express 12:00"
    [sent] = [body for method, path, body in emulators["dhl"][0].config["KIT"].requests
              if (method, path) == ("POST", "/mydhlapi/shipments")]
    assert sent["productCode"] == "T"


def test_one_carrier_only_means_no_rate_shopping(app, client, login, org, shop):
    services.set_enabled(shop, "dhl", False)
    db.session.commit()
    assert shipping.carrier_choices(shop)[0] == ("colissimo", "Colissimo")
    member = packed(allocated(shop, "rs-4", [("TEE", 1)]))
    login(client, "picker")
    page = client.get(f"/preparation/pack/{member.id}").get_data(as_text=True)
    assert "data-rates" not in page and 'value="cheapest"' not in page


# ----------------------------------------------------------------------------- saved carrier rules
def _rule(org, name, carrier, position, **conditions):
    from core.models import CarrierRule

    empty = {"channels": [], "service_levels": [], "destination": "", "countries": []}
    rule = CarrierRule(organization_id=org.id, name=name, carrier=carrier, position=position, active=True,
                       **{**empty, **conditions})
    db.session.add(rule)
    db.session.commit()
    return rule


def test_a_saved_rule_sends_express_with_dhl_and_the_rest_at_the_cheapest(app, client, login, org, shop):
    _rule(org, "Express en DHL", "dhl", 1, service_levels=["express"])
    _rule(org, "Le reste au moins cher", shipping.CHEAPEST, 2)
    express = packed(allocated(shop, "cr-1", [("TEE", 1)], service_level="express"))
    standard = packed(allocated(shop, "cr-2", [("TEE", 1)]))
    login(client, "picker")
    page = client.get(f"/preparation/pack/{express.id}").get_data(as_text=True)
    assert "Selon vos règles de transporteur" in page
    assert 'value="rules" selected' in page or 'selected value="rules"' in page
    assert ship(client, express, carrier=shipping.BY_RULES).status_code == 302
    assert ship(client, standard, carrier=shipping.BY_RULES).status_code == 302
    by_order = {s.order_id: s for s in db.session.scalars(select(Shipment))}
    assert by_order[express.order_id].carrier == "dhl"
    assert by_order[standard.order_id].carrier == "colissimo"  # 4,99 € beats DHL
    events = [e.message for e in standard.order.events]
    assert any("Le reste au moins cher" in m for m in events) and any("moins cher" in m for m in events)


def test_a_rule_naming_a_carrier_the_shop_lacks_is_passed_over(app, org, shop):
    _rule(org, "Tout en Sendcloud", "sendcloud", 1)  # not enabled for this shop
    _rule(org, "Lourd en DHL", "dhl", 2, min_weight_grams=5000)
    _rule(org, "Léger en Colissimo", "colissimo", 3)
    order = allocated(shop, "cr-3", [("TEE", 1)])
    light = shipping.create_shipment(order, [(ln, ln.quantity) for ln in order.lines], 180)
    assert light.carrier == "colissimo"
    heavy_order = allocated(shop, "cr-4", [("TEE", 1)])
    heavy = shipping.create_shipment(heavy_order, [(ln, ln.quantity) for ln in heavy_order.lines], 7000)
    assert heavy.carrier == "dhl"
    chosen = allocated(shop, "cr-5", [("TEE", 1)])
    by_hand = shipping.create_shipment(chosen, [(ln, ln.quantity) for ln in chosen.lines], 180, carrier="dhl")
    assert by_hand.carrier == "dhl"  # a carrier picked by hand wins over the rules


def test_the_rules_page_saves_a_rule_in_words(app, client, login, org, shop, make_org):
    from core.models import CarrierRule

    login(client)
    page = "/shipping/rules/new"
    form = client.get(page).get_data(as_text=True)
    assert "Le moins cher pour le niveau de service" in form and "DHL Express" in form
    res = client.post(page, data={"csrf_token": csrf_token(client, page), "name": "Suisse en DHL", "carrier": "dhl",
                                  "destination": "non_eu", "countries": "ch, li", "max_weight_grams": "30000",
                                  "active": "y"})
    assert res.status_code == 302
    rule = db.session.scalar(select(CarrierRule))
    assert (rule.carrier, rule.countries, rule.destination, rule.max_weight_grams) == ("dhl", ["CH", "LI"],
                                                                                       "non_eu", 30000)
    listing = client.get("/shipping/rules").get_data(as_text=True)
    assert "Suisse en DHL" in listing and "DHL Express" in listing and "pays : CH, LI" in listing
    assert ">dhl<" not in listing
    bad = client.post(page, data={"csrf_token": csrf_token(client, page), "name": "x", "carrier": "nope"})
    assert bad.status_code == 200 and db.session.scalar(select(func.count()).select_from(CarrierRule)) == 1
    stranger = make_org("Concurrent")
    theirs = _rule(stranger, "Leur règle", "dhl", 1)
    assert client.get(f"/shipping/rules/{theirs.id}").status_code == 404
    assert "Leur règle" not in client.get("/shipping/rules").get_data(as_text=True)
