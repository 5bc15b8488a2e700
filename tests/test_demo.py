"""The demo organization `make run` loads: logins that work, orders through the pipeline."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core import analytics
from core.demo import DEMO_ORG, DEMO_PASSWORD, DEMO_USERS, load_demo
from core.extensions import db
from core.jobs import run_pending
from core.models import (
    Order,
    OrderStatus,
    Organization,
    Return,
    ReturnReason,
    ReturnStatus,
    StockLevel,
    utcnow,
)
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


def test_the_demo_answers_the_guides_four_questions(app, client):
    """Orders per channel, average basket, return rate, average preparation time: each has a
    figure on the demo's dashboard once its analytics job ran."""
    load_demo()
    while run_pending(now=utcnow() + timedelta(minutes=5)):
        pass
    org = db.session.scalar(select(Organization).where(Organization.name == DEMO_ORG))
    today = utcnow().date()
    period = analytics.Filters(date_from=today - timedelta(days=30), date_to=today)
    total = analytics.overview(org.id, "EUR", period)
    channels = analytics.by_channel(org.id, "EUR", period)
    assert channels and sum(fig.orders for _c, fig in channels) == total.orders > 0
    assert total.basket and total.basket > 0
    assert total.returned_units == 1 and total.return_rate and total.return_rate > 0
    assert total.returns > 0  # refunded, less the restocked unit's cost
    assert total.prep_orders >= 2 and total.prep_seconds / total.prep_orders > 60  # minutes, not an instant
    [(_wh, paris)] = [(w, fig) for w, fig in analytics.by_warehouse(org.id, "EUR", period) if fig.prep_orders]
    assert paris.prep_orders == total.prep_orders
    restocked = db.session.scalar(select(Return).where(Return.organization_id == org.id))
    assert restocked.status == ReturnStatus.RESTOCKED and restocked.reason == ReturnReason.SIZE
    email, _role, _name = DEMO_USERS[0]
    client.post("/login", data={"email": email, "password": DEMO_PASSWORD, "csrf_token": csrf_token(client)})
    assert client.get("/analytics").status_code == 200
