"""The order pipeline: intake without duplicates, holds that resume, routing rules, FBA and
POS, stock pools and channel rules, cancellation, quota, statuses, and no oversell under
concurrency (SQLite and PostgreSQL)."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core import orders as order_flow
from core import stock
from core.extensions import db
from core.intake import ingest, map_sku
from core.jobs import run_pending
from core.models import (
    ChannelStockRule,
    FulfillmentChannel,
    LineSource,
    Order,
    OrderStatus,
    Plan,
    RoutingRule,
    StockDirty,
    StockLevel,
    StockMovement,
    StockPool,
    StockPoolWarehouse,
    WarehouseKind,
    utcnow,
)
from tests.fixtures import FAKE_ADDONS
from tests.fake_addons.alpha.hooks import CALLS
from tests.pipeline_helpers import norm, variant, warehouse


@pytest.fixture
def addons():
    return ["alpha", "beta"]


@pytest.fixture
def app_config():
    return {"ADDON_MODULES": FAKE_ADDONS}


@pytest.fixture
def shop(shop_factory):
    return shop_factory("beta", "Boutique A")


@pytest.fixture
def wh(org):
    w = warehouse(org.id, "PAR", priority=1)
    db.session.commit()
    return w


def orders_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Order))


def run_jobs() -> None:
    while run_pending(now=utcnow() + timedelta(seconds=10)):
        pass


# ----------------------------------------------------------------------------- intake
def test_reimport_updates_never_duplicates(app, shop, wh, org):
    variant(org.id, "MUG", {wh: 5})
    first = ingest(shop, norm("1001", [("MUG", 2)]), source="webhook")
    db.session.commit()
    again = ingest(shop, norm("1001", [("MUG", 2)]), source="poll")
    db.session.commit()
    assert first.created and not again.created and again.changed == []
    assert orders_count() == 1
    later = norm("1001", [("MUG", 2)], updated=5, email="nouveau@exemple.fr")
    res = ingest(shop, later, source="manual")
    db.session.commit()
    assert res.changed == ["email"]
    order = db.session.get(Order, first.order_id)
    assert order.email == "nouveau@exemple.fr" and order.status == OrderStatus.ALLOCATED
    kinds = [(e.kind, e.source) for e in order.events]
    assert ("imported", "beta:webhook") in kinds and ("updated", "beta:manual") in kinds
    # an older delivery arriving late changes nothing
    stale = ingest(shop, norm("1001", [("MUG", 2)], updated=1, email="ancien@exemple.fr"))
    assert stale.stale and db.session.get(Order, first.order_id).email == "nouveau@exemple.fr"
    assert stock.level(order.lines[0].variant_id, wh.id).reserved == 2  # reserved once


def test_concurrent_imports_of_one_order_create_one(app, shop, wh, org):
    variant(org.id, "MUG", {wh: 50})
    db.session.commit()
    errors, barrier = [], threading.Barrier(6)

    def worker():
        with app.app_context():
            try:
                barrier.wait()
                ingest(db.session.merge(shop), norm("RACE-1", [("MUG", 1)]), source="webhook")
                db.session.commit()
            except Exception as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(exc)
                db.session.rollback()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert orders_count() == 1
    assert db.session.scalar(select(StockLevel.reserved)) == 1


def test_same_external_id_in_two_shops_is_two_orders(app, shop, shop_factory, wh, org):
    variant(org.id, "MUG", {wh: 5})
    other = shop_factory("beta", "Boutique B")
    ingest(shop, norm("1", [("MUG", 1)]))
    ingest(other, norm("1", [("MUG", 1)]))
    db.session.commit()
    assert orders_count() == 2


def test_unknown_sku_holds_then_resumes_when_created(app, shop, wh, org):
    res = ingest(shop, norm("2001", [("NEW-SKU", 1)]))
    db.session.commit()
    order = db.session.get(Order, res.order_id)
    assert order.status == OrderStatus.ON_HOLD and order.hold_code == "unknown_sku"
    assert "NEW-SKU" in order.hold_reason
    variant(org.id, "NEW-SKU", {wh: 3})
    db.session.commit()  # the new SKU queues the resume job
    run_jobs()
    db.session.expire_all()
    order = db.session.get(Order, res.order_id)
    assert order.status == OrderStatus.ALLOCATED and order.hold_reason is None
    assert "mapped" in [e.kind for e in order.events]


def test_unknown_sku_resumes_when_mapped(app, shop, wh, org):
    v = variant(org.id, "MUG-BLUE", {wh: 3})
    res = ingest(shop, norm("2002", [("AMZ-MUG-B", 2)]))
    db.session.commit()
    assert map_sku(org.id, "AMZ-MUG-B", v) == 1
    db.session.commit()
    order = db.session.get(Order, res.order_id)
    assert order.status == OrderStatus.ALLOCATED and order.lines[0].variant_id == v.id
    # the alias serves the next order directly
    nxt = ingest(shop, norm("2003", [("AMZ-MUG-B", 1)]))
    assert db.session.get(Order, nxt.order_id).status == OrderStatus.ALLOCATED


# ----------------------------------------------------------------------------- routing
def test_routing_rules_in_order(app, shop, org):
    paris = warehouse(org.id, "PAR", priority=1)
    lyon = warehouse(org.id, "LYS", priority=2)
    variant(org.id, "MUG", {paris: 10, lyon: 10})
    variant(org.id, "TEE-S", {paris: 10, lyon: 10})
    db.session.add_all([
        RoutingRule(organization_id=org.id, position=1, name="Belgique → Lyon", countries=["BE"], warehouse_id=lyon.id),
        RoutingRule(organization_id=org.id, position=2, name="Express → Lyon", service_levels=["express"],
                    warehouse_id=lyon.id),
        RoutingRule(organization_id=org.id, position=3, name="T-shirts → Lyon", sku_pattern="TEE-*",
                    warehouse_id=lyon.id),
    ])
    db.session.commit()

    def wh_of(ext, lines, **kw):
        order = db.session.get(Order, ingest(shop, norm(ext, lines, **kw)).order_id)
        return [ln.warehouse_id for ln in order.lines]

    assert wh_of("r1", [("MUG", 1)]) == [paris.id]  # no rule: priority
    assert wh_of("r2", [("MUG", 1)], country="BE") == [lyon.id]
    assert wh_of("r3", [("MUG", 1)], service_level="express") == [lyon.id]
    assert wh_of("r4", [("MUG", 1), ("TEE-S", 1)]) == [paris.id, lyon.id]  # split by SKU rule


def test_no_split_rule_takes_whole_order_or_passes(app, shop, org):
    paris = warehouse(org.id, "PAR", priority=1)
    lyon = warehouse(org.id, "LYS", priority=2)
    variant(org.id, "MUG", {paris: 5, lyon: 5})
    variant(org.id, "TEE", {paris: 5, lyon: 0})
    db.session.add(RoutingRule(organization_id=org.id, position=1, name="Tout Lyon", warehouse_id=lyon.id,
                               allow_split=False))
    db.session.commit()
    whole = db.session.get(Order, ingest(shop, norm("n1", [("MUG", 1)])).order_id)
    assert [ln.warehouse_id for ln in whole.lines] == [lyon.id]
    # Lyon cannot serve the whole order: the rule passes, priority routing takes over
    mixed = db.session.get(Order, ingest(shop, norm("n2", [("MUG", 1), ("TEE", 1)])).order_id)
    assert [ln.warehouse_id for ln in mixed.lines] == [paris.id, paris.id]


def test_rerun_rules_applies_to_held_orders(app, shop, org):
    paris = warehouse(org.id, "PAR", priority=1)
    v = variant(org.id, "MUG", {paris: 0})
    res = ingest(shop, norm("h1", [("MUG", 1)]))
    db.session.commit()
    assert db.session.get(Order, res.order_id).hold_code == "backorder"
    lyon = warehouse(org.id, "LYS", priority=5)
    db.session.add(StockLevel(variant_id=v.id, warehouse_id=lyon.id, on_hand=2, reserved=0))
    db.session.add(RoutingRule(organization_id=org.id, position=1, name="Lyon", warehouse_id=lyon.id))
    db.session.commit()
    assert order_flow.rerun_rules(org.id) == 1
    order = db.session.get(Order, res.order_id)
    assert order.status == OrderStatus.ALLOCATED and order.lines[0].warehouse_id == lyon.id


def test_fba_order_not_reserved_in_own_warehouse(app, shop, wh, org):
    fba = warehouse(org.id, "FBA-EU", kind=WarehouseKind.MARKETPLACE, shop_id=shop.id)
    v = variant(org.id, "MUG", {wh: 5, fba: 7})
    res = ingest(shop, norm("fba-1", [("MUG", 2)], fulfillment_channel="marketplace", service_level="prime"))
    db.session.commit()
    order = db.session.get(Order, res.order_id)
    assert order.fulfillment_channel == FulfillmentChannel.MARKETPLACE
    assert order.lines[0].source == LineSource.MARKETPLACE and order.lines[0].warehouse_id == fba.id
    assert stock.level(v.id, wh.id) == stock.Level(5, 0)  # own warehouse untouched
    assert stock.level(v.id, fba.id).on_hand == 5  # taken from the FBA warehouse
    assert order.status == OrderStatus.ALLOCATED
    ingest(shop, norm("fba-1", [("MUG", 2)], fulfillment_channel="marketplace", status="shipped", updated=3))
    db.session.commit()
    assert db.session.get(Order, res.order_id).status == OrderStatus.SHIPPED


def test_pos_sale_handed_over(app, shop, wh, org):
    store = warehouse(org.id, "BOUTIQUE", kind=WarehouseKind.STORE)
    v = variant(org.id, "MUG", {wh: 5, store: 3})
    res = ingest(shop, norm("pos-1", [("MUG", 1)], origin="pos", pos_location="BOUTIQUE"))
    db.session.commit()
    order = db.session.get(Order, res.order_id)
    assert order.status == OrderStatus.DELIVERED and order.lines[0].source == LineSource.POS
    assert stock.level(v.id, store.id).on_hand == 2 and stock.level(v.id, wh.id) == stock.Level(5, 0)


# ----------------------------------------------------------------------------- stock
def test_a_warehouse_sell_buffer_holds_units_back_from_the_channels_only(app, shop, org):
    paris = warehouse(org.id, "PAR", priority=1)
    store = warehouse(org.id, "BOUTIQUE", priority=2)
    mug = variant(org.id, "MUG", {paris: 5, store: 3})
    db.session.commit()
    stock.set_sell_buffer(store, 2)  # the shop window's display units
    db.session.commit()
    assert stock.available_to_sell(shop, [mug.id]) == {mug.id: 5 + 1}
    assert db.session.scalar(select(func.count()).select_from(StockDirty)) == 1  # pushed to the channels
    stock.set_sell_buffer(store, 4)
    db.session.commit()
    assert stock.available_to_sell(shop, [mug.id]) == {mug.id: 5}  # never less than nothing per warehouse
    # orders are not limited by it: the last units of the store still serve an order routed there
    assert stock.reserve(org.id, mug.id, store.id, 3)


def test_pools_and_channel_rules(app, shop, shop_factory, org):
    paris = warehouse(org.id, "PAR", priority=1)
    outlet = warehouse(org.id, "OUTLET", priority=2)
    v = variant(org.id, "MUG", {paris: 20, outlet: 6})
    separate = shop_factory("beta", "Boutique outlet")
    pool = StockPool(organization_id=org.id, name="Outlet")
    db.session.add(pool)
    db.session.flush()
    db.session.add(StockPoolWarehouse(stock_pool_id=pool.id, warehouse_id=outlet.id))
    separate.stock_pool_id = pool.id
    db.session.commit()
    assert stock.available_to_sell(shop, [v.id]) == {v.id: 26}  # default pool: every own warehouse
    assert stock.available_to_sell(separate, [v.id]) == {v.id: 6}
    db.session.add(ChannelStockRule(organization_id=org.id, addon="beta", buffer=2, percentage=50, maximum=10))
    db.session.commit()
    assert stock.available_to_sell(shop, [v.id]) == {v.id: 10}  # (26-2)*50% = 12, capped at 10
    db.session.add(ChannelStockRule(organization_id=org.id, shop_id=separate.id, buffer=10))
    db.session.commit()
    assert stock.available_to_sell(separate, [v.id]) == {v.id: 0}  # never negative
    # an order from the separate shop takes stock from its own pool only
    order = db.session.get(Order, ingest(separate, norm("o1", [("MUG", 4)])).order_id)
    assert order.lines[0].warehouse_id == outlet.id


def test_cancellation_releases(app, shop, wh, org):
    v = variant(org.id, "MUG", {wh: 3})
    res = ingest(shop, norm("c1", [("MUG", 3)]))
    db.session.commit()
    assert stock.level(v.id, wh.id).available == 0
    ingest(shop, norm("c1", [("MUG", 3)], status="cancelled", updated=2))
    db.session.commit()
    assert db.session.get(Order, res.order_id).status == OrderStatus.CANCELLED
    assert stock.level(v.id, wh.id) == stock.Level(3, 0)
    kinds = [m.kind for m in db.session.scalars(select(StockMovement).order_by(StockMovement.id))]
    assert kinds == ["reserve", "release"]


def test_units_cancelled_on_the_channel_free_their_stock_and_settle_the_order(app, shop, wh, org):
    from core.models import Shipment, ShipmentStatus

    mug, tee = variant(org.id, "MUG", {wh: 3}), variant(org.id, "TEE", {wh: 1})
    waiting = db.session.get(Order, ingest(shop, norm("w1", [("TEE", 2)])).order_id)
    order = db.session.get(Order, ingest(shop, norm("p1", [("MUG", 3), ("TEE", 1)])).order_id)
    db.session.commit()
    assert waiting.status == OrderStatus.ON_HOLD  # 2 TEE asked, 1 on the shelf
    mug_line = next(ln for ln in order.lines if ln.sku == "MUG")
    assert order_flow.cancel_units(order, mug_line, 2, source="alpha:poll", reason="annulée sur le canal") == 2
    db.session.commit()
    assert (mug_line.quantity, mug_line.reserved_quantity) == (1, 1)
    assert stock.level(mug.id, wh.id) == stock.Level(3, 1)
    # the units the held order waited for: one of its two is cancelled, it allocates
    tee_wait = waiting.lines[0]
    tee_line = next(ln for ln in order.lines if ln.sku == "TEE")
    order_flow.cancel_units(order, tee_line, 1, source="alpha:poll")
    order_flow.cancel_units(waiting, tee_wait, 1, source="alpha:poll")
    db.session.commit()
    assert waiting.status == OrderStatus.ALLOCATED and stock.level(tee.id, wh.id) == stock.Level(1, 1)
    # the rest ships, then what is left is cancelled: never below what left
    order_flow.ship(order, Shipment(carrier="manual", tracking_number="T1", status=ShipmentStatus.SHIPPED))
    db.session.commit()
    assert order.status == OrderStatus.SHIPPED
    assert order_flow.cancel_units(order, mug_line, 1, source="alpha:poll") == 0
    # nothing left of an order: cancelled, its stock back
    other = db.session.get(Order, ingest(shop, norm("p2", [("MUG", 2)])).order_id)
    db.session.commit()
    order_flow.cancel_units(other, other.lines[0], 5, source="alpha:poll")
    db.session.commit()
    assert other.status == OrderStatus.CANCELLED and other.lines[0].quantity == 0
    assert stock.level(mug.id, wh.id) == stock.Level(2, 0)


def test_backorder_resumes_on_receipt_and_adjustments_record_who_why(app, shop, wh, org, make_user):
    v = variant(org.id, "MUG", {wh: 1})
    a = ingest(shop, norm("b1", [("MUG", 1)]))
    b = ingest(shop, norm("b2", [("MUG", 1)]))
    db.session.commit()
    assert db.session.get(Order, b.order_id).hold_code == "backorder"
    assert "Rupture" in db.session.get(Order, b.order_id).hold_reason
    user = make_user(org)
    with pytest.raises(stock.StockError):  # below what orders reserved
        stock.adjust(org.id, v.id, wh.id, -1, reason="casse", user_id=user.id)
    with pytest.raises(stock.StockError):
        stock.adjust(org.id, v.id, wh.id, 5, reason=" ", user_id=user.id)
    stock.adjust(org.id, v.id, wh.id, 4, reason="réception fournisseur", user_id=user.id)
    db.session.commit()
    run_jobs()
    db.session.expire_all()
    assert db.session.get(Order, b.order_id).status == OrderStatus.ALLOCATED
    assert db.session.get(Order, a.order_id).status == OrderStatus.ALLOCATED
    move = db.session.scalars(select(StockMovement).where(StockMovement.kind == "receive")).one()
    assert move.user_id == user.id and move.reason == "réception fournisseur" and move.delta_on_hand == 4


def test_shipment_consumes(app, shop, wh, org):
    from core.models import Shipment

    v = variant(org.id, "MUG", {wh: 4})
    order = db.session.get(Order, ingest(shop, norm("s1", [("MUG", 3)])).order_id)
    order_flow.ship(order, Shipment(carrier="manual", tracking_number="TRK1"))
    db.session.commit()
    assert order.status == OrderStatus.SHIPPED and stock.level(v.id, wh.id) == stock.Level(1, 0)


def test_fan_out_coalesces_per_shop(app, shop, shop_factory, wh, org):
    other = shop_factory("beta", "Boutique B")
    variants = [variant(org.id, f"SKU-{i}", {wh: 100}) for i in range(3)]
    db.session.commit()
    run_jobs()
    CALLS.clear()
    for n in range(30):
        ingest(shop if n % 2 else other, norm(f"f{n}", [(f"SKU-{n % 3}", 1)]))
        db.session.commit()
    run_jobs()
    pushes = [c for c in CALLS if c[0] == "beta"]
    assert len(pushes) <= 4  # 2 shops × at most 2 time windows, not 30 × 2
    # the figures pushed are the final ones
    from tests.fake_addons.beta import hooks as beta_hooks

    for v in variants:
        assert beta_hooks.LAST[(shop.id, v.sku)] == 90


# ----------------------------------------------------------------------------- statuses & quota
def test_status_transitions_enforced(app, shop, wh, org):
    variant(org.id, "MUG", {wh: 5})
    order = db.session.get(Order, ingest(shop, norm("t1", [("MUG", 1)])).order_id)
    with pytest.raises(order_flow.TransitionError, match="allouée ne peut pas passer à « livrée »"):
        order_flow.transition(order, OrderStatus.DELIVERED)
    order_flow.transition(order, OrderStatus.PICKING)
    order_flow.transition(order, OrderStatus.PACKED)
    order_flow.cancel(order)
    with pytest.raises(order_flow.TransitionError):
        order_flow.transition(order, OrderStatus.ALLOCATED)
    assert [e.data.get("to") for e in order.events if e.kind == "status"] == ["allocated", "picking", "packed",
                                                                             "cancelled"]


def test_quota_past_limit_keeps_orders(app, shop, wh, org):
    db.session.get(Plan, "free").monthly_order_limit = 2
    variant(org.id, "MUG", {wh: 10})
    ids = [ingest(shop, norm(f"q{n}", [("MUG", 1)])).order_id for n in range(3)]
    db.session.commit()
    flags = [db.session.get(Order, i).over_quota for i in ids]
    assert flags == [False, False, True]
    assert all(db.session.get(Order, i).status == OrderStatus.ALLOCATED for i in ids)


# ----------------------------------------------------------------------------- concurrency
@pytest.mark.parametrize("units,orders,workers", [(10, 40, 4)])
def test_last_units_taken_exactly_once_under_concurrency(app, shop_factory, org, units, orders, workers):
    shops = [shop_factory("beta", f"Canal {i}") for i in range(3)]
    wh = warehouse(org.id, "PAR", priority=1)
    v = variant(org.id, "HOT", {wh: units})
    db.session.commit()
    shop_ids = [s.id for s in shops]
    errors = []

    def work(k: int):
        from core.models import Shop

        with app.app_context():
            try:
                for n in range(k, orders, workers):
                    ingest(db.session.get(Shop, shop_ids[n % 3]), norm(f"c{n}", [("HOT", 1)]))
                    db.session.commit()
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=work, args=(k,)) for k in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    statuses = db.session.execute(select(Order.status, func.count()).group_by(Order.status)).all()
    assert dict(statuses) == {OrderStatus.ALLOCATED: units, OrderStatus.ON_HOLD: orders - units}
    lvl = stock.level(v.id, wh.id)
    assert lvl == stock.Level(units, units) and lvl.available == 0


def test_tag_rule_sees_the_product_of_a_new_line(app, shop, org):
    paris = warehouse(org.id, "PAR", priority=1)
    fragile = warehouse(org.id, "FRAG", priority=2)
    variant(org.id, "VASE", {paris: 5, fragile: 5}, tags=["fragile"])
    db.session.add(RoutingRule(organization_id=org.id, position=1, name="Fragile", tag="fragile",
                               warehouse_id=fragile.id))
    db.session.commit()
    order = db.session.get(Order, ingest(shop, norm("tag-1", [("VASE", 1)])).order_id)
    assert order.lines[0].warehouse_id == fragile.id


def test_shipment_records_when_the_order_left(app, shop, wh, org):
    from core.models import Shipment

    variant(org.id, "MUG", {wh: 4})
    order = db.session.get(Order, ingest(shop, norm("s2", [("MUG", 1)])).order_id)
    order_flow.ship(order, Shipment(carrier="manual", tracking_number="TRK2"))
    db.session.commit()
    assert order.shipped_at is not None and order.shipped_at == order.shipments[0].shipped_at
