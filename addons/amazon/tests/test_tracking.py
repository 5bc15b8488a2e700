"""Tracking OMS → Amazon: confirmShipment per package, partial shipments."""
from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from addons.amazon import jobs
from addons.amazon.sandbox import FR, make_order
from addons.amazon.shipping import carrier_fields
from core import orders as order_flow
from core.extensions import db
from core.jobs import run_pending
from core.models import Order, OrderStatus, OutboxJob, Shipment, utcnow

from .conftest import T0


def drain() -> int:
    ran = 0
    while (n := run_pending(now=utcnow() + timedelta(days=2))):
        ran += n
    return ran


def test_carrier_codes():
    assert carrier_fields("dhl", "DHL Paket") == {"carrierCode": "DHL", "shippingMethod": "DHL Paket"}
    assert carrier_fields("sendcloud", "Colissimo Home") == {"carrierCode": "Other", "carrierName": "Colissimo Home"}
    assert carrier_fields("manual", "Chronopost 13h") == {"carrierCode": "Chronopost",
                                                          "shippingMethod": "Chronopost 13h"}
    assert carrier_fields("Mondial Relay", None) == {"carrierCode": "Other", "carrierName": "Mondial Relay"}


def test_partial_shipments_are_confirmed_package_by_package(app, emu, amazon_shop, catalog, clock):
    catalog({"TCB-BLA-S": 10, "CAP-STD": 10})
    shop = amazon_shop()
    emu.add_order(make_order("402-6666666-6666666", marketplace=FR,
                             items=[("TCB-BLA-S", 2, "19.90"), ("CAP-STD", 1, "12.90")],
                             created=T0.timestamp() - 3600))
    jobs.sync_orders(shop.id)
    db.session.commit()
    order = db.session.scalar(sa.select(Order).where(Order.external_id == "402-6666666-6666666"))
    shirt, notebook = order.lines

    first = Shipment(order_id=order.id, carrier="sendcloud", service="Colissimo Home", tracking_number="6A123")
    order_flow.ship(order, first, [(shirt, 1)])
    db.session.commit()
    drain()
    assert len(emu.confirmations) == 1
    order_id, body = emu.confirmations[0]
    assert order_id == "402-6666666-6666666" and body["marketplaceId"] == FR
    detail = body["packageDetail"]
    assert detail["carrierCode"] == "Other" and detail["carrierName"] == "Colissimo Home"
    assert detail["trackingNumber"] == "6A123" and detail["packageReferenceId"] == str(first.id)
    assert detail["orderItems"] == [{"orderItemId": shirt.external_id, "quantity": 1}]
    assert emu.view("402-6666666-6666666")["fulfillment"]["fulfillmentStatus"] == "PARTIALLY_SHIPPED"

    second = Shipment(order_id=order.id, carrier="dhl", service="DHL Paket", tracking_number="JD0001")
    order_flow.ship(order, second, [(shirt, 1), (notebook, 1)])
    db.session.commit()
    drain()
    assert len(emu.confirmations) == 2
    assert emu.confirmations[1][1]["packageDetail"]["carrierCode"] == "DHL"
    assert emu.view("402-6666666-6666666")["fulfillment"]["fulfillmentStatus"] == "SHIPPED"
    db.session.refresh(order)
    assert order.status == OrderStatus.SHIPPED
    assert sum(1 for e in order.events if e.kind == "channel") == 2

    # Amazon now reports the order shipped: the next import changes nothing in the OMS
    clock.advance(15 * 60)
    jobs.sync_orders(shop.id)
    db.session.commit()
    db.session.refresh(order)
    assert order.status == OrderStatus.SHIPPED and not any(e.kind == "conflict" for e in order.events)


def test_fba_orders_send_no_tracking_and_a_refusal_is_an_error(app, emu, amazon_shop, catalog):
    catalog({"BPF-STD": 10, "TCB-BLA-S": 10})
    shop = amazon_shop()
    emu.add_order(make_order("302-7777777-7777777", marketplace=FR, fulfilled_by="AMAZON", status="UNSHIPPED",
                             items=[("BPF-STD", 1, "24.00")], created=T0.timestamp() - 3600))
    emu.add_order(make_order("402-8888888-8888888", marketplace=FR, items=[("TCB-BLA-S", 1, "19.90")],
                             created=T0.timestamp() - 3000))
    jobs.sync_orders(shop.id)
    db.session.commit()
    fba = db.session.scalar(sa.select(Order).where(Order.external_id == "302-7777777-7777777"))
    shipment = Shipment(order_id=fba.id, carrier="manual", tracking_number="X")
    order_flow.ship(fba, shipment)
    db.session.commit()
    assert db.session.scalar(sa.select(OutboxJob).where(OutboxJob.func == "addons.amazon.jobs.confirm_shipment")) \
        is None

    fbm = db.session.scalar(sa.select(Order).where(Order.external_id == "402-8888888-8888888"))
    emu.update_order("402-8888888-8888888", status="CANCELLED")  # cancelled on Amazon meanwhile
    shipment = Shipment(order_id=fbm.id, carrier="ups", tracking_number="1Z999")
    order_flow.ship(fbm, shipment)
    db.session.commit()
    with pytest.raises(jobs.AmazonError, match="400"):
        jobs.confirm_shipment(shipment.id)


def test_a_cancellation_made_in_the_oms_is_flagged_for_seller_central(app, emu, amazon_shop, catalog):
    catalog({"TCB-BLA-S": 10})
    shop = amazon_shop()
    emu.add_order(make_order("402-1212121-1212121", marketplace=FR, items=[("TCB-BLA-S", 1, "19.90")],
                             created=T0.timestamp() - 3600))
    jobs.sync_orders(shop.id)
    db.session.commit()
    order = db.session.scalar(sa.select(Order).where(Order.external_id == "402-1212121-1212121"))

    order_flow.cancel(order, reason="rupture")
    db.session.commit()

    notes = [e.message for e in order.events if e.kind == "channel"]
    assert len(notes) == 1 and "402-1212121-1212121" in notes[0] and "Seller Central" in notes[0]
