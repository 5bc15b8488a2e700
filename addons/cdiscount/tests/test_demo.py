"""The demo's Cdiscount shop (``make run``): its orders wait for acceptance; those with stock
are accepted, picked, labelled and their tracking reaches the emulator's order; the one for
fifty candles is refused with its reason."""
from __future__ import annotations

from sqlalchemy import select

from addons.cdiscount import sandbox
from addons.cdiscount.jobs import sync_orders
from core import services
from core.extensions import db
from core.models import Order, OrderStatus, Shipment
from core.orders import ship
from core.sandboxes import sandboxes

from .conftest import SECRETS, run_jobs
from .spec_check import attach


def test_the_demo_shop_accepts_ships_and_refuses(app, clock, serve_wsgi, shop_factory, catalog):
    box = sandboxes(app)["cdiscount"]
    emulator = sandbox.Emulator(clock=clock, live=True)
    problems = attach(emulator.app)
    url = serve_wsgi(emulator.app)
    catalog({"TCB-BLA-M": 10, "MÉ-CRÈ": 10, "CAP-STD": 10, "BPF-STD": 12})
    shop = shop_factory("cdiscount")
    services.save_settings(shop, "cdiscount", box.settings(url), SECRETS)
    db.session.commit()
    assert services.test_connection(shop, "cdiscount").ok

    assert sync_orders(shop.id) == 3
    run_jobs(clock)
    decisions = dict(emulator.approvals)
    assert sorted(decisions.values()) == ["Accepted", "Accepted", "Refused"]
    refused = next(oid for oid, d in decisions.items() if d == "Refused")
    assert emulator.orders[refused]["lines"][0]["quantity"] == 50
    db.session.expire_all()
    order = db.session.scalar(select(Order).where(Order.external_id == refused))
    assert order.status == OrderStatus.CANCELLED
    assert any("Rupture de stock" in e.message for e in order.events)

    accepted = next(oid for oid, d in decisions.items() if d == "Accepted")
    order = db.session.scalar(select(Order).where(Order.external_id == accepted))
    ship(order, Shipment(carrier="colissimo", tracking_number="6A0000000001", tracking_url="https://suivi/6A"))
    db.session.commit()
    run_jobs(clock, minutes=3)
    assert emulator.order(accepted)["parcels"][0]["parcelNumber"] == "6A0000000001"
    assert emulator.order(accepted)["status"] == "Shipped"

    clock.advance(20 * 60)  # the calm stream: one more order twenty minutes later
    assert sync_orders(shop.id) >= 1
    assert db.session.scalar(select(db.func.count(Order.id)).where(Order.shop_id == shop.id)) == 4
    assert problems == []
