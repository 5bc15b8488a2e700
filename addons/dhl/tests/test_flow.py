"""End to end, on the emulators: a Shopify order comes in, is allocated, packed with DHL
Express or Colissimo, its tracking reaches Shopify's emulator as a fulfillment, and the
carrier's tracking poll brings the parcel to delivered."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from addons.colissimo import sandbox as colissimo_sandbox
from addons.colissimo import tracking as colissimo_tracking
from addons.dhl import jobs as dhl_jobs
from addons.dhl import sandbox as dhl_sandbox
from addons.dhl.models import DhlShipment
from addons.shopify import sandbox as shopify_sandbox
from addons.shopify.tests.conftest import Inbound, drain
from addons.shopify.tests.helpers import connect as connect_shopify
from core import picking, services
from core.connectors.emulator import ManualClock
from core.extensions import db
from core.jobs import run_pending
from core.models import Order, OrderStatus, Shipment, ShipmentStatus, Shop, utcnow
from tests.pipeline_helpers import variant, warehouse

SKU = "TCB-BLA-M"  # a variant of the Shopify emulator's demo catalogue


@pytest.fixture
def addons():
    return ["shopify", "dhl", "colissimo"]


@pytest.fixture
def clock():
    return ManualClock()


@pytest.fixture
def app_config(clock):
    return {"SHOPIFY_SLEEP": clock.sleep, "SHOPIFY_MONOTONIC": clock.monotonic, "DHL_SLEEP": clock.sleep,
            "DHL_MONOTONIC": clock.monotonic}


@pytest.fixture
def shopify(serve_wsgi, clock, client):
    emu = shopify_sandbox.ShopifyEmulator(monotonic=clock.monotonic, sender=Inbound(client))
    return emu, serve_wsgi(shopify_sandbox.make_app(emu))


@pytest.fixture
def carriers(serve_wsgi, clock):
    dhl = dhl_sandbox.make_app(clock)
    colissimo = colissimo_sandbox.make_app()
    return (dhl, serve_wsgi(dhl)), (colissimo, serve_wsgi(colissimo))


def packed(order):
    member = picking.wave_for_order(order)
    for line in member.lines:
        for _ in range(line.quantity):
            picking.override("pack", line, list(member.lines), "test : comptage direct")
    return member


@pytest.mark.parametrize("carrier", ["dhl", "colissimo"])
def test_a_shopify_order_shipped_tracked_and_delivered(app, org, shop_factory, shopify, carriers, carrier):
    emu, shopify_url = shopify
    (dhl, dhl_url), (colissimo, colissimo_url) = carriers
    paris = warehouse(org.id, "PAR")
    variant(org.id, SKU, {paris: 20}).weight_grams = 300
    db.session.commit()
    shop = shop_factory("shopify", "Maison Lumière")
    connect_shopify(shop, emu, shopify_url)
    services.set_enabled(shop, carrier, True)
    if carrier == "dhl":
        services.save_settings(shop, "dhl", dhl_sandbox.demo_settings(dhl_url), {"api_secret", "tracking_api_key"})
    else:
        services.save_settings(shop, "colissimo", colissimo_sandbox.demo_settings(colissimo_url),
                               {"api_key", "password", "okapi_key"})
    db.session.commit()
    drain()

    placed = emu.place_order([(SKU, 2)], email="lea@exemple.fr", customer=("Léa", "Martin"))
    drain()
    order = db.session.scalar(select(Order).where(Order.shop_id == shop.id, Order.external_id == str(placed["id"])))
    assert order.status == OrderStatus.ALLOCATED

    outcome = picking.pack_and_ship(packed(order), None)
    db.session.commit()
    assert outcome.state == "shipped", outcome.message
    shipment = db.session.get(Shipment, outcome.shipment.id)
    assert shipment.carrier == carrier and shipment.label.startswith(b"%PDF-")
    drain()
    [fulfilled] = emu.fulfillments.values()
    company = {"dhl": "DHL Express", "colissimo": "Colissimo"}[carrier]
    assert fulfilled["tracking"] == {"company": company, "number": shipment.tracking_number,
                                     "url": shipment.tracking_url}
    assert emu.orders[placed["admin_graphql_api_id"]]["fulfillment_status"] == "fulfilled"

    # the carrier scans it, then delivers it: the poll brings the news to the shipment and order
    if carrier == "dhl":
        post = dhl.test_client().post
        post(f"/_emulator/shipments/{shipment.tracking_number}/events", json={"statusCode": "delivered",
                                                                             "description": "Delivered"})
        db.session.execute(update(DhlShipment).values(next_check_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()
        assert dhl_jobs.poll_statuses() == 1
        db.session.commit()
        run_pending()
    else:
        colissimo.test_client().post(f"/_emulator/parcels/{shipment.tracking_number}/events",
                                     json={"code": "DI1", "label": "Votre colis est livré"})
        colissimo_tracking.poll_shop(db.session.get(Shop, shop.id), now=utcnow() + timedelta(hours=3))
    db.session.expire_all()
    assert db.session.get(Shipment, shipment.id).status == ShipmentStatus.DELIVERED
    assert db.session.get(Order, order.id).status == OrderStatus.DELIVERED
