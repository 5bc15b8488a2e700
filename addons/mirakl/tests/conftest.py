"""Fixtures of the Mirakl tests: one emulator of several operator instances on a simulated
clock, served on a loopback port, its traffic checked against the add-on's schema."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from addons.mirakl import sandbox
from core import services
from core.connectors.emulator import ManualClock
from core.extensions import db
from core.jobs import run_pending
from core.models import Product, StockLevel, Variant, Warehouse, utcnow

from .spec_check import attach


T0 = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
SECRETS = {"api_key"}


@pytest.fixture
def addons():
    return ["mirakl"]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0.timestamp())


@pytest.fixture
def app_config(clock) -> dict[str, Any]:
    return {"MIRAKL_CLOCK": clock}


@pytest.fixture
def emulator_options() -> dict[str, Any]:
    return {}


@pytest.fixture
def emu(clock, emulator_options):
    emulator = sandbox.Emulator(clock=clock, **emulator_options)
    problems = attach(emulator.app)
    yield emulator
    assert problems == [], "traffic outside the schema:\n" + "\n".join(problems[:20])


@pytest.fixture
def base_url(serve_wsgi, emu) -> str:
    return serve_wsgi(emu.app)


def configure(shop, settings: dict[str, Any]) -> None:
    services.save_settings(shop, "mirakl", settings, SECRETS)
    db.session.commit()


@pytest.fixture
def catalog(app, org):
    """Two products in one warehouse: MUG-1 (10 units), TEE-1 (1 unit)."""
    wh = Warehouse(organization_id=org.id, code="WH", name="Entrepôt")
    db.session.add(wh)
    db.session.flush()
    out = {}
    for sku, units in (("MUG-1", 10), ("TEE-1", 1)):
        product = Product(organization_id=org.id, title=sku)
        db.session.add(product)
        db.session.flush()
        variant = Variant(organization_id=org.id, product_id=product.id, sku=sku, price=12)
        db.session.add(variant)
        db.session.flush()
        db.session.add(StockLevel(variant_id=variant.id, warehouse_id=wh.id, on_hand=units, reserved=0))
        out[sku] = variant
    db.session.commit()
    return out


@pytest.fixture
def make_shop(app, shop_factory, base_url, emu):
    def make(code: str = "carrefour", **settings: Any):
        shop = shop_factory("mirakl", name=f"{code} shop", marketplace=code)
        configure(shop, {**sandbox.settings_for(base_url, code), **settings})
        for sku in ("MUG-1", "TEE-1"):
            emu.add_offer(code, sku, quantity=0, price="12.00", description="Un bel article")
        return shop

    return make


def run_jobs(clock: ManualClock, rounds: int = 20) -> None:
    """Run the queued jobs, the clocks moving a minute between rounds (delayed jobs included)."""
    for _ in range(rounds):
        clock.advance(61)
        if not run_pending(now=utcnow() + timedelta(hours=1)):
            return


def order_of(shop):
    """The shop's one OMS order."""
    from sqlalchemy import select

    from core.models import Order

    return db.session.scalar(select(Order).where(Order.shop_id == shop.id))


def shipped_order(emu, shop, clock, code="carrefour", lines=(("MUG-1", 2, "12.00"),)):
    """An order accepted, debited and shipped on Mirakl, shipped in the OMS."""
    from addons.mirakl.jobs import sync_orders
    from core.models import OrderStatus

    mid = emu.place_order(code, list(lines))["order_id"]
    sync_orders(shop.id)
    run_jobs(clock)
    emu.set_state(code, mid, "SHIPPED")
    clock.advance(120)
    sync_orders(shop.id)
    order = order_of(shop)
    order.status = OrderStatus.SHIPPED
    db.session.commit()
    return mid, order
