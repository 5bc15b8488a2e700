"""From a Shopify order to the tracking on Shopify's emulator, labelled by Chronopost."""
from __future__ import annotations

import pytest

from addons.chronopost import sandbox as chrono_sandbox
from addons.chronopost.tests.schemas import check_exchanges
from addons.shopify import sandbox as shopify_sandbox
from addons.shopify.tests.conftest import Inbound, drain
from addons.shopify.tests.helpers import connect, oms_order
from core import picking, services, shipping
from core.extensions import db
from core.models import OrderStatus, Shipment, ShipmentStatus
from tests.pipeline_helpers import variant, warehouse

SKU = "TCB-BLA-M"


@pytest.fixture
def addons():
    return ["shopify", "chronopost"]


@pytest.fixture
def clock():
    return shopify_sandbox.ManualClock()


@pytest.fixture
def app_config(clock):
    return {"SHOPIFY_SLEEP": clock.sleep, "SHOPIFY_MONOTONIC": clock.monotonic}


@pytest.fixture
def shopify(serve_wsgi, clock, client):
    emu = shopify_sandbox.ShopifyEmulator(monotonic=clock.monotonic, sender=Inbound(client))
    return emu, serve_wsgi(shopify_sandbox.make_app(emu))


@pytest.fixture
def chrono(serve_wsgi):
    app = chrono_sandbox.make_app()
    return app, serve_wsgi(app)


def test_shopify_order_labelled_by_chronopost_and_tracked_back(app, org, shop_factory, shopify, chrono):
    emu, shopify_url = shopify
    chrono_app, chrono_url = chrono
    paris = warehouse(org.id, "PAR")
    variant(org.id, SKU, {paris: 30}).weight_grams = 180
    db.session.commit()
    shop = connect(shop_factory("shopify", "Maison Lumière"), emu, shopify_url)
    services.set_enabled(shop, "chronopost", True)
    services.save_settings(shop, "chronopost", chrono_sandbox.demo_settings(chrono_url), {"password"})
    db.session.commit()

    placed = emu.place_order([(SKU, 1)], email="lea@exemple.fr", customer=("Léa", "Martin"),
                             shipping=("Chronopost Express", "12.90"))
    drain()
    order = oms_order(shop, placed)
    assert order.status == OrderStatus.ALLOCATED and order.service_level.value == "express"
    member = picking.wave_for_order(order)
    for line in member.lines:
        picking.override("pack", line, list(member.lines), "test : comptage direct")
    outcome = picking.pack_and_ship(member, 180)
    db.session.commit()
    assert outcome.state == "shipped", outcome.message
    number = outcome.shipment.tracking_number
    drain()
    [fulfillment] = emu.fulfillments.values()
    assert fulfillment["tracking"]["company"] == "Chronopost" and fulfillment["tracking"]["number"] == number

    chrono_app.config["STATE"]["skybills"][number]["events"] = [("DC", "Préparation"), ("PC", "Pris en charge"),
                                                                 ("D", "Livré")]
    assert shipping.track(db.session.get(Shipment, outcome.shipment.id)) is True
    db.session.commit()
    assert db.session.get(Shipment, outcome.shipment.id).status == ShipmentStatus.DELIVERED
    assert oms_order(shop, placed).status == OrderStatus.DELIVERED
    check_exchanges(chrono_app.config["STATE"]["exchanges"])
