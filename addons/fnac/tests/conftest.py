"""Fixtures of the Fnac Darty tests: an emulator on a manual clock, served on a loopback port,
whose every request and answer is validated against the official XSDs."""
from __future__ import annotations

import os
from datetime import timedelta
from decimal import Decimal
from typing import Any, Callable

import pytest

from addons.fnac import sandbox
from addons.fnac.client import forget_tokens
from core import services
from core.connectors.emulator import ManualClock
from core.extensions import db
from core.jobs import run_pending
from core.models import Product, StockLevel, Variant, Warehouse, WarehouseKind, utcnow

from .spec_check import SPEC_DIR, SpecBook, attach

PARTNER = "0b5e2f1c-8d3a-4c6e-9f70-1a2b3c4d5e6f"
FNAC_SHOP = "1c6f3a2d-9e4b-4d7f-8a81-2b3c4d5e6f70"
FNAC_KEY = "2d7a4b3e-0f5c-4e8a-9b92-3c4d5e6f7081"
DARTY_SHOP = "3e8b5c4f-1a6d-4f9b-8ca3-4d5e6f708192"
DARTY_KEY = "4f9c6d5a-2b7e-4a0c-9db4-5e6f708192a3"
SECRETS = {"key"}


@pytest.fixture(scope="session")
def spec_book() -> SpecBook:
    if not SPEC_DIR.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"the official Fnac Darty XSDs are expected in {SPEC_DIR}")
        pytest.skip(f"the official Fnac Darty XSDs are not in {SPEC_DIR}")
    return SpecBook()


@pytest.fixture
def addons():
    return ["fnac"]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def app_config(clock) -> dict[str, Any]:
    return {"FNAC_CLOCK": clock, "FNAC_MAX_WAIT": 3600, "FNAC_HTTP_OPTIONS": {"sleep": clock.sleep}}


@pytest.fixture(autouse=True)
def fresh_tokens():
    forget_tokens()
    yield
    forget_tokens()


@pytest.fixture
def emu(clock, spec_book) -> sandbox.FnacEmulator:
    emulator = sandbox.FnacEmulator(clock=clock, seed=7)
    emulator.add_account(PARTNER, FNAC_SHOP, FNAC_KEY, "Ma boutique Fnac", "F")
    emulator.add_account(PARTNER, DARTY_SHOP, DARTY_KEY, "Ma boutique Darty", "D")
    problems = attach(emulator.app, spec_book)
    yield emulator
    assert problems == [], "traffic outside the official XSDs:\n" + "\n".join(problems[:20])


@pytest.fixture
def base_url(serve_wsgi, emu) -> str:
    return serve_wsgi(emu.app)


def settings_of(base_url: str, darty: bool = False, **extra: Any) -> dict[str, Any]:
    return {"api_base_url": base_url, "partner_id": PARTNER, "shop_id": DARTY_SHOP if darty else FNAC_SHOP,
            "key": DARTY_KEY if darty else FNAC_KEY, "brand": "darty" if darty else "fnac", **extra}


def configure(shop, settings: dict[str, Any]) -> None:
    services.save_settings(shop, "fnac", settings, SECRETS)
    db.session.commit()


@pytest.fixture
def fnac_shop(app, shop_factory, base_url) -> Callable[..., Any]:
    """A connected Fnac Darty shop on the emulator (the Fnac shop unless ``darty=True``)."""

    def make(darty: bool = False, organization=None, **settings: Any):
        shop = shop_factory("fnac", organization=organization)
        configure(shop, settings_of(base_url, darty, **settings))
        assert services.test_connection(shop, "fnac").ok
        db.session.commit()
        return shop

    return make


@pytest.fixture
def catalog(app, org) -> Callable[..., dict[str, Variant]]:
    """OMS variants with stock in an own warehouse: {sku: quantity}."""

    def make(stock: dict[str, int], organization=None) -> dict[str, Variant]:
        owner = organization or org
        wh = db.session.scalar(db.select(Warehouse).where(Warehouse.organization_id == owner.id,
                                                          Warehouse.code == "PAR"))
        if wh is None:
            wh = Warehouse(organization_id=owner.id, code="PAR", name="Paris", kind=WarehouseKind.OWN, priority=1)
            db.session.add(wh)
            db.session.flush()
        out = {}
        for sku, qty in stock.items():
            product = Product(organization_id=owner.id, title=f"Produit {sku}")
            db.session.add(product)
            db.session.flush()
            variant = Variant(organization_id=owner.id, product_id=product.id, sku=sku, price=Decimal("19.90"))
            db.session.add(variant)
            db.session.flush()
            db.session.add(StockLevel(variant_id=variant.id, warehouse_id=wh.id, on_hand=qty, reserved=0))
            out[sku] = variant
        db.session.commit()
        return out

    return make


def drain() -> int:
    """Run every queued job, delayed ones too, until none is left."""
    ran = 0
    while (n := run_pending(now=utcnow() + timedelta(days=3))):
        ran += n
    return ran
