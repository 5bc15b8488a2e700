"""Parcels on their way: core asks the carrier add-on (``shipping_track``) about those it
has said nothing of for six hours, for 30 days after they left, and moves them on."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from core import services, shipping
from core.extensions import db
from core.intake import ingest
from core.jobs import run_pending
from core.models import Order, OrderStatus, Shipment, ShipmentStatus, SyncLog, utcnow
from core.orders import ship
from tests.fake_addons.shiplog.hooks import ASKED, FAIL, TRACK
from tests.fixtures import FAKE_ADDONS
from tests.pipeline_helpers import norm, variant, warehouse


@pytest.fixture
def addons():
    return ["alpha", "beta", "shiplog"]


@pytest.fixture
def app_config():
    return {"ADDON_MODULES": {**FAKE_ADDONS, "shiplog": "tests.fake_addons.shiplog.hooks"}}


@pytest.fixture(autouse=True)
def _carrier():
    TRACK.clear()
    ASKED.clear()
    FAIL.clear()
    yield
    TRACK.clear()
    ASKED.clear()
    FAIL.clear()


@pytest.fixture
def shop(shop_factory, org):
    shop = shop_factory("beta", "Boutique Beta")
    services.set_enabled(shop, "shiplog", True)
    wh = warehouse(org.id, "PAR", priority=1)
    variant(org.id, "MUG", {wh: 10})
    db.session.commit()
    return shop


def shipped(shop, ext_id: str, tracking: str, carrier: str = "shiplog", hours_ago: float = 8) -> Shipment:
    order = db.session.get(Order, ingest(shop, norm(ext_id, [("MUG", 1)])).order_id)
    shipment = Shipment(carrier=carrier, tracking_number=tracking)
    ship(order, shipment)
    shipment.shipped_at = utcnow() - timedelta(hours=hours_ago)
    db.session.commit()
    return shipment


def test_silent_parcels_are_asked_about_and_move_on(app, shop):
    delivered = shipped(shop, "T-1", "TRK-1")
    moving = shipped(shop, "T-2", "TRK-2")
    unknown = shipped(shop, "T-3", "TRK-3")  # the carrier has no news: asked, left as it is
    TRACK.update({"TRK-1": "delivered", "TRK-2": "in_transit"})

    assert shipping.track_all() == 2

    assert sorted(ASKED) == ["TRK-1", "TRK-2", "TRK-3"]
    db.session.expire_all()
    assert delivered.status == ShipmentStatus.DELIVERED and delivered.order.status == OrderStatus.DELIVERED
    assert moving.status == ShipmentStatus.IN_TRANSIT and moving.order.status == OrderStatus.SHIPPED
    assert unknown.status == ShipmentStatus.SHIPPED and unknown.carrier_checked_at is not None
    assert any(e.kind == "tracking" and e.source == "core:suivi" for e in delivered.order.events)
    # asked a moment ago: not again before six hours
    ASKED.clear()
    assert shipping.track_all() == 0 and ASKED == []
    assert shipping.due_for_tracking(utcnow() + timedelta(hours=7)) == [moving.id, unknown.id]


def test_only_parcels_on_their_way_recently_silent_and_carried_are_asked(app, shop):
    fresh = shipped(shop, "T-1", "TRK-1", hours_ago=1)  # left an hour ago
    old = shipped(shop, "T-2", "TRK-2", hours_ago=31 * 24)  # the carrier has forgotten it
    manual = shipped(shop, "T-3", "6A000", carrier="manual")  # typed by the merchant: no carrier to ask
    reported = shipped(shop, "T-4", "TRK-4")
    shipping.update_from_carrier(reported, ShipmentStatus.IN_TRANSIT, source="shiplog:webhook")
    db.session.commit()

    assert shipping.due_for_tracking() == []
    assert shipping.track_all() == 0 and ASKED == []
    assert {fresh.id, reported.id} <= set(shipping.due_for_tracking(utcnow() + timedelta(hours=7)))
    assert old.id not in shipping.due_for_tracking(utcnow() + timedelta(hours=7))
    assert manual.id not in shipping.due_for_tracking(utcnow() + timedelta(hours=7))


def test_a_failing_carrier_is_isolated_and_the_others_are_asked(app, shop):
    first = shipped(shop, "T-1", "TRK-1")
    second = shipped(shop, "T-2", "TRK-2")
    TRACK.update({"TRK-1": "delivered", "TRK-2": "delivered"})
    FAIL.add("TRK-1")

    assert shipping.track_all() == 1

    db.session.expire_all()
    assert (first.status, second.status) == (ShipmentStatus.SHIPPED, ShipmentStatus.DELIVERED)
    error = db.session.scalars(select(SyncLog).where(SyncLog.shop_id == shop.id,
                                                     SyncLog.func == "hook:shipping_track")).one()
    assert error.addon == "shiplog" and "carrier API down" in error.error
    FAIL.clear()  # back up: asked again once six hours have passed
    assert shipping.due_for_tracking(utcnow() + timedelta(hours=7)) == [first.id]


def test_the_hourly_job_is_a_core_cron_job(app):
    from core import cron

    assert any(job.func == "core.shipping.track_all" and job.interval == 3600 for job in cron.cron_jobs(app))
    assert run_pending() == 0
