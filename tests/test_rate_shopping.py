"""Rate shopping: with several carriers enabled, the packing screen shows each carrier's
quote for the parcel (``shipping_quote_rates``), and "the cheapest for the service level"
sends the parcel with the cheapest carrier that keeps the order's promise."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

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
