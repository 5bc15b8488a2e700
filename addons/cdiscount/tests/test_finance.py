"""Money from Octopia: the commission of each order in analytics, refunds and commercial
gestures imported once as OMS returns, the cursor kept on an outage, another organization's
orders never touched."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from addons.cdiscount import finance, sandbox
from addons.cdiscount.client import CdiscountError
from addons.cdiscount.jobs import read_all_finances, read_finances, sync_orders
from addons.cdiscount.models import CdiscountOperation, CdiscountState
from core.analytics import from_cents
from core.extensions import db
from core.models import AnalyticsActualFee, AnalyticsOrderFact, Order, OrderStatus, Return, ReturnReason, ReturnStatus

from .conftest import configure, run_jobs
from .test_cdiscount import add

DAY = 86400


def accepted(shop, emu, clock, lines) -> tuple[str, Order]:
    order_id = add(emu, lines)
    sync_orders(shop.id)
    run_jobs(clock)  # accepted: Octopia posts its Sale and Commission the day after
    assert emu.approvals[-1] == (order_id, "Accepted")
    return order_id, db.session.scalar(select(Order).where(Order.shop_id == shop.id, Order.external_id == order_id))


def fees_of(order: Order) -> dict[str, Decimal]:
    return {f.kind: f.amount for f in db.session.scalars(
        select(AnalyticsActualFee).where(AnalyticsActualFee.order_id == order.id))}


def returns_of(order: Order) -> list[Return]:
    return list(db.session.scalars(select(Return).where(Return.order_id == order.id).order_by(Return.id)))


def test_the_commission_is_read_the_day_after_and_replaces_the_fee_schedule(cdiscount_shop, emu, catalog, clock):
    catalog({"TCB-BLA-M": 5})
    shop = cdiscount_shop()
    order_id, order = accepted(shop, emu, clock, [("TCB-BLA-M", 2, "19.90")])
    run_jobs(clock)
    schedule = db.session.get(AnalyticsOrderFact, order.id).fees
    assert read_finances(shop.id) == 0 and fees_of(order) == {}  # not posted yet
    clock.advance(DAY + 60)
    assert read_finances(shop.id) == 2  # its Sale and its Commission
    commission = (Decimal("44.70") * Decimal("0.12")).quantize(Decimal("0.01"))  # 2 × 19.90 + 4.90
    assert commission == emu.commission_of(order_id)
    assert fees_of(order) == {"commission": commission}
    run_jobs(clock)
    db.session.expire_all()
    fact = db.session.get(AnalyticsOrderFact, order.id)
    assert from_cents(fact.fees) == commission and fact.fees != schedule
    assert any(e.message == f"frais Cdiscount relevés : {commission} EUR" for e in order.events)
    # read again (the overlap shows them twice): the same rows, no new history entry
    events = len(order.events)
    clock.advance(3600)
    read_finances(shop.id)
    db.session.refresh(order)
    assert len(order.events) == events and fees_of(order) == {"commission": commission}
    assert db.session.scalar(select(db.func.count()).select_from(CdiscountOperation)) == 2


def test_a_commercial_gesture_and_a_return_are_imported_once(cdiscount_shop, emu, catalog, clock):
    catalog({"TCB-BLA-M": 5, "CAP-STD": 5})
    shop = cdiscount_shop()
    order_id, order = accepted(shop, emu, clock, [("TCB-BLA-M", 2, "19.90"), ("CAP-STD", 1, "12.90")])
    clock.advance(DAY + 60)
    read_finances(shop.id)
    first_fee = fees_of(order)["commission"]
    emu.refund(order_id, "5.00", kind="CommercialGesture", reason="Retraction")
    emu.refund(order_id, "12.90", kind="Return", reason="ProductDefective", lines=[(f"{order_id}-2", 1)])
    clock.advance(60)
    read_finances(shop.id)
    read_finances(shop.id)  # twice: nothing imported twice
    gesture, back = returns_of(order)
    assert gesture.external_id.startswith("octopia:") and gesture.refund_amount == Decimal("5.00")
    assert gesture.lines == [] and gesture.status == ReturnStatus.OPEN
    assert gesture.reason == ReturnReason.CHANGED_MIND
    assert back.refund_amount == Decimal("12.90") and back.reason == ReturnReason.DEFECT
    assert [(ln.order_line.sku, ln.quantity) for ln in back.lines] == [("CAP-STD", 1)]
    assert back.status == ReturnStatus.RECEIVED
    # the commission given back on the refunds is netted out of the order's fees
    total = Decimal(str(emu.orders[order_id]["totalPrice"]))
    given_back = sum((emu.commission_of(order_id) * v / total).quantize(Decimal("0.01"))
                     for v in (Decimal("5.00"), Decimal("12.90")))
    assert fees_of(order) == {"commission": first_fee - given_back}


def test_a_refund_read_before_its_order_is_imported_when_the_order_arrives(cdiscount_shop, emu, catalog, clock):
    catalog({"TCB-BLA-M": 5})
    shop = cdiscount_shop()
    order_id = add(emu, [("TCB-BLA-M", 1, "19.90")])
    emu.refund(order_id, "3.00")
    read_finances(shop.id)
    row = db.session.scalar(select(CdiscountOperation).where(CdiscountOperation.event_type == "Refund"))
    assert row.order_id is None and not row.imported
    sync_orders(shop.id)
    clock.advance(60)
    read_finances(shop.id)
    order = db.session.scalar(select(Order).where(Order.external_id == order_id))
    assert [r.refund_amount for r in returns_of(order)] == [Decimal("3.00")]


def test_the_refund_of_a_cancelled_order_is_not_a_return(cdiscount_shop, emu, catalog, clock):
    catalog({"TCB-BLA-M": 5})
    shop = cdiscount_shop()
    order_id, order = accepted(shop, emu, clock, [("TCB-BLA-M", 1, "19.90")])
    emu.set_status(order_id, "Cancelled")
    sync_orders(shop.id)
    emu.refund(order_id, "24.80", kind="Refund")
    read_finances(shop.id)
    db.session.refresh(order)
    assert order.status == OrderStatus.CANCELLED and returns_of(order) == []


def test_an_outage_keeps_the_cursor_and_the_next_run_reads_it_all(cdiscount_shop, emu, catalog, clock):
    catalog({"TCB-BLA-M": 5})
    shop = cdiscount_shop()
    order_id, order = accepted(shop, emu, clock, [("TCB-BLA-M", 1, "19.90")])
    clock.advance(DAY + 60)
    emu.kit.fail_next(500, times=4, path="/seller/v2/operations")
    with pytest.raises(CdiscountError):
        read_finances(shop.id)
    db.session.rollback()
    state = db.session.scalar(select(CdiscountState).where(CdiscountState.shop_id == shop.id))
    assert state.finance_cursor is None
    assert read_finances(shop.id) == 2 and "commission" in fees_of(order)


def test_another_organization_s_orders_are_never_touched(cdiscount_shop, emu, catalog, clock, make_org, shop_factory,
                                                         base_url):
    """The same Octopia seller connected in two organizations: each reads onto its own orders."""
    catalog({"TCB-BLA-M": 5})
    mine = cdiscount_shop()
    theirs = shop_factory("cdiscount", organization=make_org("Autre marchand"))
    configure(theirs, {**sandbox.settings_for(base_url), "refuse_after_hours": 2})
    order_id, order = accepted(mine, emu, clock, [("TCB-BLA-M", 1, "19.90")])
    sync_orders(theirs.id)
    their_order = db.session.scalar(select(Order).where(Order.shop_id == theirs.id, Order.external_id == order_id))
    assert their_order is not None and their_order.organization_id != order.organization_id
    clock.advance(DAY + 60)
    emu.refund(order_id, "2.00")
    read_finances(mine.id)
    assert fees_of(order) and len(returns_of(order)) == 1
    assert fees_of(their_order) == {} and returns_of(their_order) == []
    assert {r.shop_id for r in db.session.scalars(select(CdiscountOperation))} == {mine.id}
    assert read_all_finances() == 2  # one read queued per shop


def test_fee_kinds_and_signs():
    assert finance.FEE_KINDS["Commission"] == "commission" and "Sale" not in finance.FEE_KINDS
    assert finance.external_id("OP1") == "octopia:OP1"
