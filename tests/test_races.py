"""Races between two real transactions on PostgreSQL: two people building waves, a
cancellation against a departure. The first transaction holds its work open while the second
runs; the second either passes over what the first holds or loses cleanly, never both win."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pytest
from sqlalchemy import func, select, text

from core import orders as order_flow
from core import picking, shipping
from core.extensions import db
from core.models import Order, OrderStatus, PickWaveOrder, StockLevel
from tests.fixtures import FAKE_ADDONS
from tests.picking_helpers import allocated, stocked
from tests.pipeline_helpers import warehouse

pytestmark = pytest.mark.postgres


@pytest.fixture
def backend():
    return "postgresql"  # one writer at a time on SQLite: these races need a server


@pytest.fixture
def addons():
    return ["alpha", "beta"]


@pytest.fixture
def app_config():
    return {"ADDON_MODULES": FAKE_ADDONS}


@pytest.fixture
def wh(org):
    wh = warehouse(org.id, "PAR", priority=1)
    db.session.commit()
    return wh


def _blocked_or_done(thread: threading.Thread, timeout: float = 10.0) -> None:
    """Wait until ``thread`` finished or its transaction waits on a row lock."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and thread.is_alive():
        with db.engine.connect() as conn:
            waiting = conn.scalar(text("SELECT count(*) FROM pg_stat_activity "
                                       "WHERE datname = current_database() AND wait_event_type = 'Lock'"))
        if waiting:
            return
        time.sleep(0.05)


def race(app, first: Callable[[], object], second: Callable[[], object]) -> dict[str, object]:
    """Run ``first`` up to its commit, then ``second`` in full while ``first`` still holds its
    transaction open, then let ``first`` commit. Returns each side's result or exception."""
    outcome: dict[str, object] = {}
    ready, go = threading.Event(), threading.Event()

    def side(name: str, work: Callable[[], object], hold: bool) -> None:
        with app.app_context():
            try:
                outcome[name] = work()
                if hold:
                    ready.set()
                    go.wait(30)
                db.session.commit()
            except Exception as exc:  # noqa: BLE001 - the outcome the test asserts on
                db.session.rollback()
                outcome[name] = exc
            finally:
                ready.set()
                db.session.remove()

    one = threading.Thread(target=side, args=("first", first, True))
    one.start()
    assert ready.wait(30)
    two = threading.Thread(target=side, args=("second", second, False))
    two.start()
    _blocked_or_done(two)
    go.set()
    one.join(30)
    two.join(30)
    return outcome


def test_two_wave_builds_never_share_an_order(app, org, shop_factory, wh):
    shop = shop_factory("beta")
    stocked(org.id, wh, "MUG", 50, bin_code="A-01-01")
    ids = [allocated(shop, f"w-{i}", [("MUG", 1)]).id for i in range(8)]
    filters = picking.WaveFilters(warehouse_id=wh.id, max_orders=5)

    def build():
        wave = picking.build_wave(org.id, filters)
        return None if wave is None else sorted(m.order_id for m in wave.orders)

    outcome = race(app, build, build)
    first, second = outcome["first"], outcome["second"]
    assert isinstance(first, list) and len(first) == 5
    assert isinstance(second, list) and len(second) == 3  # the other orders, not the held ones
    assert not set(first) & set(second)
    db.session.expire_all()
    per_order = dict(db.session.execute(select(PickWaveOrder.order_id, func.count())
                                        .group_by(PickWaveOrder.order_id)).all())
    assert per_order == {i: 1 for i in ids}
    assert {o.status for o in db.session.scalars(select(Order))} == {OrderStatus.PICKING}


def _manual_parcel(org, shop, wh):
    stocked(org.id, wh, "CAP", 5)
    order = allocated(shop, "c-1", [("CAP", 2)])
    shipment = shipping.create_shipment(order, [(order.lines[0], 2)], 300, carrier="manual")
    db.session.commit()
    return order.id, shipment.id


def _ship(shipment_id):
    def work():
        from core.models import Shipment

        shipping.set_tracking(db.session.get(Shipment, shipment_id), "6A0001")
        return "shipped"
    return work


def _cancel(order_id):
    def work():
        order_flow.cancel(db.session.get(Order, order_id), reason="le client a annulé")
        return "cancelled"
    return work


def _stock(org):
    db.session.expire_all()
    level = db.session.scalar(select(StockLevel))
    return level.on_hand, level.reserved


def test_departure_first_then_cancellation_loses_cleanly(app, org, shop_factory, wh):
    order_id, shipment_id = _manual_parcel(org, shop_factory("beta"), wh)
    outcome = race(app, _ship(shipment_id), _cancel(order_id))
    assert outcome["first"] == "shipped"
    assert isinstance(outcome["second"], order_flow.ConcurrentChange)
    assert "rechargez et réessayez" in str(outcome["second"])
    assert db.session.get(Order, order_id).status == OrderStatus.SHIPPED
    assert _stock(org) == (3, 0)  # consumed once, nothing released back


def test_cancellation_first_then_departure_loses_cleanly(app, org, shop_factory, wh):
    order_id, shipment_id = _manual_parcel(org, shop_factory("beta"), wh)
    outcome = race(app, _cancel(order_id), _ship(shipment_id))
    assert outcome["first"] == "cancelled"
    assert isinstance(outcome["second"], order_flow.ConcurrentChange)
    assert db.session.get(Order, order_id).status == OrderStatus.CANCELLED
    assert _stock(org) == (5, 0)  # released, never consumed


def test_a_stock_change_committed_during_a_push_keeps_its_mark(app, org, shop_factory, wh):
    from core import stock
    from tests.fake_addons.beta.hooks import LAST

    shop = shop_factory("beta")
    mug = stocked(org.id, wh, "MUG", 10)
    db.session.commit()
    stock.adjust(org.id, mug.id, wh.id, 1, reason="inventaire", user_id=None)  # a mark waits for its push
    db.session.commit()
    LAST.clear()

    def write():  # its mark is written, then the push runs before the writer commits
        stock.adjust(org.id, mug.id, wh.id, 5, reason="réception", user_id=None)
        stock.flush_dirty()
        return "written"

    outcome = race(app, write, lambda: stock.push_changes(org.id))
    assert outcome == {"first": "written", "second": 1}
    assert LAST[(shop.id, "MUG")] == 11  # what the push could see
    with app.app_context():
        assert stock.push_changes(org.id) == 1  # the writer's mark survived
        db.session.commit()
    assert LAST[(shop.id, "MUG")] == 16
