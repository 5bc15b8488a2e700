"""Fixtures of the Cdiscount tests: Octopia's emulator on a simulated clock, served on a
loopback port, its every request and answer checked against the add-on's schema."""
from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal
from typing import Any, Callable

import pytest

from addons.cdiscount import sandbox
from addons.cdiscount.client import token_cache
from core import services
from core.connectors.emulator import ManualClock
from core.extensions import db
from core.jobs import run_pending
from core.models import Product, StockLevel, Variant, Warehouse, WarehouseKind

from .spec_check import attach

SECRETS = {"client_secret"}


@pytest.fixture
def addons():
    return ["cdiscount"]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(time.time())


@pytest.fixture
def app_config(clock) -> dict[str, Any]:
    return {"CDISCOUNT_CLOCK": clock}


@pytest.fixture(autouse=True)
def fresh_token_cache():
    token_cache.clear()
    yield
    token_cache.clear()


@pytest.fixture
def emu(clock) -> sandbox.Emulator:
    emulator = sandbox.Emulator(clock=clock)
    problems = attach(emulator.app)
    yield emulator
    assert problems == [], "traffic outside the schema:\n" + "\n".join(problems[:20])


@pytest.fixture
def base_url(serve_wsgi, emu) -> str:
    return serve_wsgi(emu.app)


def configure(shop, settings: dict[str, Any]) -> None:
    services.save_settings(shop, "cdiscount", settings, SECRETS)
    db.session.commit()


@pytest.fixture
def cdiscount_shop(app, shop_factory, base_url) -> Callable[..., Any]:
    def make(**settings: Any):
        shop = shop_factory("cdiscount")
        configure(shop, {**sandbox.settings_for(base_url), "refuse_after_hours": 2, **settings})
        return shop

    return make


@pytest.fixture
def catalog(app, org) -> Callable[..., dict[str, Variant]]:
    """OMS variants with stock in an own warehouse: {sku: quantity}."""

    def make(stock: dict[str, int]) -> dict[str, Variant]:
        wh = db.session.scalar(db.select(Warehouse).where(Warehouse.organization_id == org.id, Warehouse.code == "PAR"))
        if wh is None:
            wh = Warehouse(organization_id=org.id, code="PAR", name="Paris", kind=WarehouseKind.OWN, priority=1)
            db.session.add(wh)
            db.session.flush()
        out = {}
        for n, (sku, qty) in enumerate(stock.items()):
            product = Product(organization_id=org.id, title=f"Produit {sku}")
            db.session.add(product)
            db.session.flush()
            variant = Variant(organization_id=org.id, product_id=product.id, sku=sku, price=Decimal("19.90"),
                              barcode=f"37600000000{n:02d}")
            db.session.add(variant)
            db.session.flush()
            db.session.add(StockLevel(variant_id=variant.id, warehouse_id=wh.id, on_hand=qty, reserved=0))
            out[sku] = variant
        db.session.commit()
        return out

    return make


def run_jobs(clock: ManualClock, minutes: float = 0) -> None:
    """Run the due jobs (the OMS's queue, in process), the clock moved on by ``minutes``."""
    from core.models import utcnow

    clock.advance(minutes * 60)
    for _ in range(20):
        if not run_pending(now=utcnow() + timedelta(seconds=clock.time() - time.time()) + timedelta(minutes=1)):
            return
