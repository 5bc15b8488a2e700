"""From a Shopify order to the tracking on Shopify's emulator: the buyer's relay point comes in
with the order (Shopify's pick-up point delivery), is kept on it, goes on the Mondial Relay
label, and the parcel's number reaches Shopify; Shopify's polling of tracking follows."""
from __future__ import annotations

from datetime import datetime

import pytest

from addons.mondialrelay import sandbox as mr_sandbox
from addons.mondialrelay.tests.schemas import check_exchanges
from addons.shopify import sandbox as shopify_sandbox
from addons.shopify.normalize import normalize
from addons.shopify.tests.conftest import Inbound, drain
from addons.shopify.tests.helpers import connect, oms_order
from core import picking, services, shipping
from core.extensions import db
from core.models import OrderStatus, Shipment, ShipmentStatus
from tests.pipeline_helpers import variant, warehouse

SKU = "TCB-BLA-M"
RELAY_LINE = {"title": "Mondial Relay - Point Relais", "code": "075003", "source": "mondial_relay",
              "delivery_category": "pickup_point", "price": "4.50"}
RELAY_ADDRESS = {"first_name": "Léa", "last_name": "Martin", "name": "Léa Martin", "company": "FLEURS & CO",
                 "address1": "9 RUE DU COMMERCE", "address2": "", "zip": "75003", "city": "Paris",
                 "country_code": "FR", "phone": "0601020304"}


class _Lookup:
    def sku_for_variant(self, variant_id):
        return None

    def warehouse_for_location(self, location_id, name):
        return None


@pytest.fixture
def addons():
    return ["shopify", "mondialrelay"]


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
def relay(serve_wsgi):
    app = mr_sandbox.make_app()
    return app, serve_wsgi(app)


def test_shopify_pickup_point_is_normalized():
    payload = {"id": 1, "name": "#1001", "created_at": "2026-12-02T10:00:00Z", "currency": "EUR",
               "total_price": "14.50", "line_items": [], "shipping_lines": [RELAY_LINE],
               "shipping_address": RELAY_ADDRESS}
    order = normalize(payload, _Lookup())
    point = order.pickup_point
    assert (point.id, point.network, point.name) == ("075003", "mondialrelay", "FLEURS & CO")
    assert (point.address.line1, point.address.postal_code, point.address.country) == ("9 RUE DU COMMERCE", "75003",
                                                                                         "FR")
    home = normalize({**payload, "shipping_lines": [{"title": "Colissimo", "code": "COLISSIMO", "price": "4.90"}]},
                     _Lookup())
    assert home.pickup_point is None
    assert isinstance(order.placed_at, datetime)


def test_relay_point_from_shopify_to_the_label_and_tracking_back(app, client, login, org, shop_factory, shopify,
                                                                 relay):
    emu, shopify_url = shopify
    relay_app, relay_url = relay
    paris = warehouse(org.id, "PAR")
    tee = variant(org.id, SKU, {paris: 30})
    tee.weight_grams = 180
    db.session.commit()
    shop = connect(shop_factory("shopify", "Maison Lumière"), emu, shopify_url)
    services.set_enabled(shop, "mondialrelay", True)
    services.save_settings(shop, "mondialrelay", mr_sandbox.demo_settings(relay_url), {"private_key", "api2_password"})
    db.session.commit()

    placed = emu.place_order([(SKU, 2)], email="lea@exemple.fr", customer=("Léa", "Martin"))
    drain()
    emu.touch_order(placed["id"], shipping_lines=[RELAY_LINE], shipping_address=RELAY_ADDRESS)
    drain()
    order = oms_order(shop, placed)
    assert order.status == OrderStatus.ALLOCATED
    assert order.pickup_point["id"] == "075003" and order.pickup_point["network"] == "mondialrelay"
    login(client)
    assert 'data-pickup-point="075003"' in client.get(f"/orders/{order.id}").get_data(as_text=True)

    member = picking.wave_for_order(order)
    for line in member.lines:
        for _ in range(line.quantity):
            picking.override("pack", line, list(member.lines), "test : comptage direct")
    outcome = picking.pack_and_ship(member, 360)
    db.session.commit()
    assert outcome.state == "shipped", outcome.message
    number = outcome.shipment.tracking_number
    assert relay_app.config["STATE"]["shipments"][number]["relay"] == "FR-075003"
    drain()
    [fulfillment] = emu.fulfillments.values()
    assert fulfillment["tracking"]["company"] == "Mondial Relay" and fulfillment["tracking"]["number"] == number

    relay_app.config["STATE"]["shipments"][number]["stat"] = "82"
    assert shipping.track(db.session.get(Shipment, outcome.shipment.id)) is True
    db.session.commit()
    assert db.session.get(Shipment, outcome.shipment.id).status == ShipmentStatus.DELIVERED
    assert oms_order(shop, placed).status == OrderStatus.DELIVERED
    check_exchanges(relay_app.config["STATE"]["exchanges"])
