"""A calm demo: live shops order at a believable pace, their numbers follow the demo's own,
and a demo supplier restocks the shelves."""
from __future__ import annotations

import random

import pytest
from sqlalchemy import func, select

from core.cron import cron_jobs
from core.demo import DEMO_ORG, SEEDED_ORDERS, load_demo, replenish
from core.extensions import db
from core.models import Order, Organization, StockLevel, StockMovement


@pytest.fixture
def addons():
    return ["shopify"]


def test_the_live_shopify_shop_bursts_then_orders_a_couple_an_hour():
    from addons.shopify.sandbox_demo import Customers

    customers = Customers.__new__(Customers)
    customers.interval, customers.burst, customers.burst_interval = 1800.0, 3, 8.0
    customers.rng = random.Random(7)
    delays = [customers.next_delay(n) for n in range(200)]
    assert delays[:3] == [8.0, 8.0, 8.0]
    assert all(900.0 <= d <= 2700.0 for d in delays[3:])
    elapsed, placed = 0.0, 0
    while elapsed + delays[placed] <= 3600:  # the first hour
        elapsed += delays[placed]
        placed += 1
    assert 3 <= placed <= 7
    ten_hours = sum(delays[:40])
    assert ten_hours > 10 * 3600 * 0.8  # about two an hour, not one every 8 seconds


def test_live_order_numbers_continue_after_the_demos_own():
    from addons.shopify import sandbox

    app = sandbox.make_app(live=True, order_interval=3600)
    customers = app.extensions["shopify_customers"]
    customers.stop()
    emu = customers.emu
    order = customers.place_one()
    assert order["name"] == f"#{1001 + SEEDED_ORDERS}"
    assert customers.place_one()["name"] == f"#{1002 + SEEDED_ORDERS}"
    assert emu.first_order_number == 1001 + SEEDED_ORDERS


def test_the_demo_supplier_restocks_what_is_nearly_sold_out(app):
    load_demo()
    org = db.session.scalar(select(Organization).where(Organization.name == DEMO_ORG))
    numbers = db.session.scalars(select(Order.number).where(Order.organization_id == org.id)).all()
    assert len(numbers) == len(set(numbers)) == SEEDED_ORDERS
    level = db.session.scalars(select(StockLevel).order_by(StockLevel.id)).first()
    level.on_hand = level.reserved + 1
    db.session.commit()
    assert replenish().endswith("réapprovisionné(s)")
    db.session.refresh(level)
    assert 15 <= level.on_hand - level.reserved <= 30
    receipt = db.session.scalar(select(StockMovement).where(StockMovement.variant_id == level.variant_id)
                                .order_by(StockMovement.id.desc()))
    assert receipt.reason == "Livraison fournisseur (démo)"
    assert db.session.scalar(select(func.count()).select_from(StockLevel).where(
        StockLevel.on_hand - StockLevel.reserved < 3)) == 0


def test_restocking_runs_only_where_the_emulators_run(app):
    from core import create_app

    assert "core.demo.replenish" not in {job.func for job in cron_jobs(app)}
    with_sandboxes = create_app({**app.config, "SANDBOXES": True})
    assert "core.demo.replenish" in {job.func for job in cron_jobs(with_sandboxes)}
