"""The demo organization `make run` loads: logins that work, orders through the pipeline."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.demo import DEMO_PASSWORD, DEMO_USERS, load_demo
from core.extensions import db
from core.models import Order, OrderStatus, StockLevel
from tests.fixtures import FAKE_ADDONS, csrf_token


@pytest.fixture
def addons():
    return ["alpha", "beta"]


@pytest.fixture
def app_config():
    return {"ADDON_MODULES": FAKE_ADDONS, "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"}


def test_demo_loads_once_with_orders_through_the_pipeline(app, client):
    summary = load_demo()
    assert "Démo chargée" in summary and DEMO_PASSWORD in summary
    assert "déjà présente" in load_demo()  # idempotent
    statuses = dict(db.session.execute(select(Order.status, func.count()).group_by(Order.status)).all())
    assert statuses.get(OrderStatus.ON_HOLD, 0) >= 1  # the unknown SKU
    assert statuses.get(OrderStatus.SHIPPED, 0) + statuses.get(OrderStatus.DELIVERED, 0) >= 2
    assert statuses.get(OrderStatus.CANCELLED, 0) == 1
    held = db.session.scalars(select(Order).where(Order.hold_code == "unknown_sku")).one()
    assert "MUG-OLD-01" in held.hold_reason
    assert db.session.scalar(select(func.min(StockLevel.on_hand - StockLevel.reserved))) >= 0
    email, _role, _name = DEMO_USERS[0]
    res = client.post("/login", data={"email": email, "password": DEMO_PASSWORD, "csrf_token": csrf_token(client)})
    assert res.status_code == 302
    assert "#1001" in client.get("/orders").get_data(as_text=True)
