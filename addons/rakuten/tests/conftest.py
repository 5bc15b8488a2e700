"""Fixtures of the Rakuten tests: the emulator on a manual clock, served on a loopback port,
every query and answer checked against the schemas written from Rakuten's documentation."""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Callable

import pytest

from addons.rakuten import sandbox
from core import services
from core.connectors.emulator import ManualClock
from core.extensions import db
from core.models import Product, StockLevel, Variant, Warehouse, WarehouseKind

from .spec_check import Specs

SECRETS = {"token"}


@pytest.fixture(scope="session")
def specs() -> Specs:
    return Specs()


@pytest.fixture
def addons():
    return ["rakuten"]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(1_796_000_000.0)  # 2026-12-01


@pytest.fixture
def app_config(clock) -> dict[str, Any]:
    return {"RAKUTEN_CLOCK": clock}


@pytest.fixture
def strict_queries() -> bool:
    """False in a module that sends bad queries on purpose."""
    return True


@pytest.fixture
def emu(clock, specs, strict_queries) -> sandbox.Emulator:
    emulator = sandbox.Emulator(clock=clock, process_seconds=60)
    yield emulator
    problems = specs.problems(emulator, allow_bad_queries=not strict_queries)
    assert problems == [], "traffic outside the schemas:\n" + "\n".join(problems[:20])


@pytest.fixture
def base_url(serve_wsgi, emu) -> str:
    return serve_wsgi(emu.app)


def configure(shop, settings: dict[str, Any]) -> None:
    services.save_settings(shop, "rakuten", settings, SECRETS)
    db.session.commit()


@pytest.fixture
def rakuten_shop(app, shop_factory, base_url) -> Callable[..., Any]:
    """A connected Rakuten shop on the emulator."""

    def make(**settings: Any):
        shop = shop_factory("rakuten")
        configure(shop, {**sandbox.demo_settings(base_url), **settings})
        assert services.test_connection(shop, "rakuten").ok
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
