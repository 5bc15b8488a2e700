"""The demo (`make run`): two operators connected (Carrefour and Leroy Merlin) to the emulator
mounted in the app, a calm stream of orders, each accepted, shipped and tracked on the emulator."""
from __future__ import annotations

from sqlalchemy import select

from addons.mirakl.jobs import sync_orders
from addons.mirakl.models import MiraklOrder
from addons.mirakl.sandbox import DEMO_INTERVAL, emulator_of
from core.demo import load_demo
from core.extensions import db
from core.models import Order, OrderStatus, Shipment, Shop
from core.orders import ship

from .conftest import run_jobs


def test_demo_connects_carrefour_and_leroy_merlin(app, serve_wsgi, clock):
    app.config["SANDBOXES"] = True
    from core.sandboxes import mount_sandboxes

    mount_sandboxes(app)
    emu = emulator_of(app.extensions["oms_sandbox_apps"]["mirakl"])
    emu.debit_delay = emu.import_delay = 0.0
    app.config["PUBLIC_URL"] = serve_wsgi(app)
    load_demo()
    db.session.commit()
    shops = {s.marketplace: s for s in db.session.scalars(select(Shop).where(Shop.addon == "mirakl"))}
    assert set(shops) == {"carrefour", "leroymerlin"}
    assert shops["leroymerlin"].name == "Leroy Merlin — démo"
    for code, shop in shops.items():
        assert shop.addon_settings("mirakl")["instance_url"].endswith(f"/sandbox/mirakl/{code}")
        sync_orders(shop.id)
    run_jobs(clock)
    for code, shop in shops.items():
        rows = db.session.scalars(select(MiraklOrder).where(MiraklOrder.shop_id == shop.id)).all()
        assert 1 <= len(rows) <= 2  # the start-up burst, no flood
        order = db.session.get(Order, rows[0].order_id)
        assert rows[0].state == "SHIPPING" and order.status == OrderStatus.ALLOCATED
        assert order.shipping_address["city"]  # read again after acceptance
        ship(order, Shipment(carrier="colissimo", service="Colissimo", tracking_number=f"6A{code}"))
        db.session.commit()
    run_jobs(clock)
    for code, shop in shops.items():
        remote = [o for o in emu.instances[code].orders.values() if o["shipping_tracking"]]
        assert len(remote) == 1 and remote[0]["order_state"] == "SHIPPED"
        assert remote[0]["shipping_tracking"] == f"6A{code}" and remote[0]["shipping_tracking_url"]
    placed = sum(len(emu.instances[c].orders) for c in shops)
    assert placed == 3  # two at Carrefour, one at Leroy Merlin, then one every 20 minutes at most
    assert DEMO_INTERVAL >= 20 * 60
