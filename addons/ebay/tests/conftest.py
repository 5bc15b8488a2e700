"""Fixtures of the eBay tests: the emulator on a loopback port and a simulated clock both
sides share, its traffic checked against the schemas in ``specs/``; notifications and the
endpoint challenge delivered into the OMS through the Flask test client."""
from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import pytest

from addons.ebay import sandbox
from addons.ebay.client import app_tokens
from addons.ebay.inbox import public_keys
from core import services
from core.connectors import RetryPolicy
from core.connectors.emulator import ManualClock
from core.extensions import db
from core.jobs import run_pending
from core.models import Product, StockLevel, Variant, Warehouse, WarehouseKind, utcnow

from .spec_check import attach

T0 = 1_796_000_000.0  # 2026-11-29, on the simulated clock
SECRETS = {"client_secret", "verification_token"}


@pytest.fixture
def addons():
    return ["ebay"]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def app_config(clock) -> dict[str, Any]:
    return {"EBAY_CLOCK": clock, "EBAY_RETRY": RetryPolicy(attempts=4, base=0.5, cap=4.0, max_wait=30.0)}


@pytest.fixture(autouse=True)
def fresh_caches():
    app_tokens.clear()
    public_keys.clear()
    yield
    app_tokens.clear()
    public_keys.clear()


class Inbound:
    """eBay's calls to the OMS (challenge, notifications) through the test client."""

    def __init__(self, client) -> None:
        self.client = client

    def __call__(self, method: str, url: str, headers: dict[str, str], body: bytes) -> tuple[int, bytes]:
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        res = self.client.open(path, method=method, data=body or None, headers=headers)
        return res.status_code, res.get_data()


@pytest.fixture
def emu(clock, client) -> sandbox.Emulator:
    emulator = sandbox.Emulator(clock=clock, deliver=Inbound(client))
    problems = attach(emulator.app)
    yield emulator
    assert problems == [], "traffic outside the schemas:\n" + "\n".join(problems[:20])


@pytest.fixture
def base_url(serve_wsgi, emu) -> str:
    return serve_wsgi(emu.app)


def configure(shop, settings: dict[str, Any]) -> None:
    services.save_settings(shop, "ebay", settings, SECRETS)
    db.session.commit()


@pytest.fixture
def ebay_shop(app, shop_factory, base_url, emu) -> Callable[..., Any]:
    """A shop authorised on the emulator (as after the consent): its refresh token stored."""

    def make(name: str | None = None, organization=None, **settings: Any):
        shop = shop_factory("ebay", name, organization=organization) if organization else shop_factory("ebay", name)
        configure(shop, {**sandbox.demo_settings(base_url), **settings})
        shop.credentials = {"refresh_token": sandbox.DEMO_REFRESH_TOKEN}
        db.session.commit()
        return shop

    return make


@pytest.fixture
def catalog(app, org) -> Callable[..., dict[str, Variant]]:
    def make(stock: dict[str, int]) -> dict[str, Variant]:
        wh = db.session.scalar(db.select(Warehouse).where(Warehouse.organization_id == org.id, Warehouse.code == "PAR"))
        if wh is None:
            wh = Warehouse(organization_id=org.id, code="PAR", name="Paris", kind=WarehouseKind.OWN, priority=1)
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


def drain(limit: int = 30) -> int:
    total = 0
    for _ in range(limit):
        db.session.commit()
        ran = run_pending(now=utcnow() + timedelta(days=1))
        total += ran
        if not ran:
            break
    return total


@pytest.fixture
def run_jobs() -> Callable[[], int]:
    return drain
