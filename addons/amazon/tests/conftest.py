"""Fixtures of the Amazon tests: an emulator on a simulated clock, served on a loopback
port, whose every request and answer is checked against the official models."""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, Callable

import pytest

from addons.amazon import sandbox
from addons.amazon.client import token_cache
from addons.amazon.clock import SimulatedClock
from core import services
from core.extensions import db
from core.models import Product, StockLevel, Variant, Warehouse, WarehouseKind

from .spec_check import SPEC_DIR, SpecBook, attach

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=timezone.utc)
SECRETS = {"lwa_client_secret", "refresh_token"}


@pytest.fixture(scope="session")
def spec_book() -> SpecBook:
    if not SPEC_DIR.is_dir():
        pytest.fail(f"the official Amazon models are expected in {SPEC_DIR}")
    return SpecBook()


@pytest.fixture
def addons():
    return ["amazon"]


@pytest.fixture
def clock() -> SimulatedClock:
    return SimulatedClock(T0)


@pytest.fixture
def app_config(clock) -> dict[str, Any]:
    return {"AMAZON_CLOCK": clock, "AMAZON_MAX_RATE_WAIT": 7 * 24 * 3600}


@pytest.fixture(autouse=True)
def fresh_token_cache():
    token_cache.clear()
    yield
    token_cache.clear()


@pytest.fixture
def emulator_options() -> dict[str, Any]:
    """Options of the emulator; override in a test module."""
    return {}


@pytest.fixture
def emu(clock, spec_book, emulator_options) -> sandbox.Emulator:
    emulator = sandbox.Emulator(clock=clock, **emulator_options)
    problems = attach(emulator.app, spec_book)
    yield emulator
    assert problems == [], "traffic outside the official models:\n" + "\n".join(problems[:20])


@pytest.fixture
def emulator(emu):
    """The emulator's Flask app."""
    return emu.app


@pytest.fixture
def base_url(serve_wsgi, emulator) -> str:
    return serve_wsgi(emulator)


def configure(shop, settings: dict[str, Any]) -> None:
    services.save_settings(shop, "amazon", settings, SECRETS)
    db.session.commit()


@pytest.fixture
def amazon_shop(app, shop_factory, base_url) -> Callable[..., Any]:
    """A connected Amazon shop on the emulator (FR, DE and UK unless told otherwise)."""

    def make(**settings: Any):
        shop = shop_factory("amazon")
        configure(shop, {**sandbox.demo_settings(base_url), **settings})
        assert services.test_connection(shop, "amazon").ok
        db.session.commit()
        return shop

    return make


@pytest.fixture
def catalog(app, org) -> Callable[..., dict[str, Variant]]:
    """OMS variants with stock in an own warehouse: {sku: quantity}."""

    def make(stock: dict[str, int], warehouse_code: str = "PAR") -> dict[str, Variant]:
        wh = db.session.scalar(db.select(Warehouse).where(Warehouse.organization_id == org.id,
                                                          Warehouse.code == warehouse_code))
        if wh is None:
            wh = Warehouse(organization_id=org.id, code=warehouse_code, name=warehouse_code, kind=WarehouseKind.OWN,
                           priority=1)
            db.session.add(wh)
            db.session.flush()
        out = {}
        for sku, qty in stock.items():
            product = Product(organization_id=org.id, title=f"Produit {sku}")
            db.session.add(product)
            db.session.flush()
            variant = Variant(organization_id=org.id, product_id=product.id, sku=sku, price=Decimal("19.90"))
            db.session.add(variant)
            db.session.flush()
            db.session.add(StockLevel(variant_id=variant.id, warehouse_id=wh.id, on_hand=qty, reserved=0))
            out[sku] = variant
        db.session.commit()
        return out

    return make
