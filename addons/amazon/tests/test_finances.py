"""Fees and refunds Amazon → OMS: the Finances API v0 (listFinancialEventsByOrderId) after
shipment, events not posted yet, refunds imported once, and its usage plan."""
from __future__ import annotations

import json
import re
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from addons.amazon import finances, jobs
from addons.amazon.clock import as_datetime
from addons.amazon.models import AmazonOrder
from addons.amazon.operations import OPERATIONS
from addons.amazon.sandbox import FR, UK, make_order
from core import orders as order_flow
from core.analytics import from_cents
from core.extensions import db
from core.jobs import run_pending
from core.models import (
    AnalyticsActualFee,
    AnalyticsOrderFact,
    ConnectionStatus,
    Order,
    OutboxJob,
    PaymentStatus,
    Return,
    ReturnReason,
    ReturnStatus,
    Shipment,
    utcnow,
)

from .conftest import T0
from .spec_check import ADDON_SPEC_DIR, SPEC_DIR

HOUR = 3600
DAY = 24 * HOUR
OP = "listFinancialEventsByOrderId"


def drain() -> int:
    ran = 0
    while (n := run_pending(now=utcnow() + timedelta(days=2))):
        ran += n
    return ran


def order_of(external_id: str) -> Order:
    return db.session.scalar(sa.select(Order).where(Order.external_id == external_id))


def row_of(order: Order) -> AmazonOrder:
    return db.session.scalar(sa.select(AmazonOrder).where(AmazonOrder.order_id == order.id))


def fees_of(order: Order) -> dict[str, tuple[Decimal, str]]:
    return {f.kind: (f.amount, f.currency) for f in db.session.scalars(
        sa.select(AnalyticsActualFee).where(AnalyticsActualFee.order_id == order.id))}


def fba_order(order_id: str, items: list[tuple[str, int, str]], marketplace: str = FR) -> dict:
    return make_order(order_id, marketplace=marketplace, fulfilled_by="AMAZON", status="SHIPPED", items=items,
                      created=T0.timestamp() - 2 * HOUR)


def test_every_operation_follows_the_usage_plan_of_its_model():
    """The rate and burst the client and the emulator use are the ones each official model
    documents (the Finances model is kept in the add-on)."""
    for op in OPERATIONS.values():
        source = SPEC_DIR / op.model if (SPEC_DIR / op.model).is_file() else ADDON_SPEC_DIR / op.model
        model = json.loads(source.read_text(encoding="utf-8"))
        operation = next(o for item in model["paths"].values() for o in item.values()
                         if isinstance(o, dict) and o.get("operationId") == op.name)
        plan = re.search(r"\|\s*([\d.]+)\s*\|\s*(\d+)\s*\|", operation["description"])
        assert plan, op.name
        assert (op.rate, op.burst) == (float(plan.group(1)), int(plan.group(2))), op.name
    finance = OPERATIONS[OP]
    assert (finance.method, finance.path, finance.rate, finance.burst) == (
        "GET", "/finances/v0/orders/{orderId}/financialEvents", 0.5, 30)
    assert (ADDON_SPEC_DIR / "LICENSE-Apache-2.0.txt").is_file() and (ADDON_SPEC_DIR / "NOTICE.txt").is_file()


def test_fba_order_fees_are_read_after_shipment_and_replace_the_fee_schedule(app, emu, emulator, amazon_shop,
                                                                              catalog, clock):
    catalog({"BPF-STD": 5})
    shop = amazon_shop()
    emu.add_order(fba_order("302-1000001-0000001", [("BPF-STD", 2, "24.00")]))
    before = as_datetime(clock.time())
    jobs.sync_orders(shop.id)
    db.session.commit()
    drain()
    order = order_of("302-1000001-0000001")
    row = row_of(order)
    assert before <= row.shipped_at <= as_datetime(clock.time())  # Amazon reported it shipped
    assert row.finance_due_at == row.shipped_at + finances.FIRST_READ_DELAY
    schedule_fees = db.session.get(AnalyticsOrderFact, order.id).fees
    assert schedule_fees > 0 and fees_of(order) == {}

    assert jobs.read_all_finances() == 0  # not due yet: nothing queued, nothing called
    assert emu.operations[OP] == 0
    clock.advance(2 * HOUR)
    assert jobs.read_all_finances() == 1
    db.session.commit()
    drain()

    # commission 15 % of 48.00, FBA fulfilment fee 2 × 3.20 (the emulator's figures)
    assert fees_of(order) == {"commission": (Decimal("7.20"), "EUR"), "fulfilment": (Decimal("6.40"), "EUR")}
    fact = db.session.get(AnalyticsOrderFact, order.id)
    assert from_cents(fact.fees) == Decimal("13.60") != from_cents(schedule_fees)
    db.session.refresh(order)
    assert any(e.kind == "channel" and e.message == "frais Amazon relevés : 13.60 EUR" for e in order.events)
    row = row_of(order)
    assert row.fees_read_at is not None
    assert row.finance_due_at == row.shipped_at + finances.REFUND_CHECKS[0]  # refunds looked for later
    assert emu.operations[OP] == 1 and emulator.config["SPEC_PROBLEMS"] == []

    # a later read with nothing new changes nothing (no new history entry, same rows)
    events = len(order.events)
    clock.advance(7 * DAY)
    assert "1 commande(s) lue(s)" in jobs.read_finances(shop.id)
    db.session.commit()
    db.session.refresh(order)
    assert len(order.events) == events and len(fees_of(order)) == 2


def test_fbm_order_not_posted_yet_is_read_again_later_without_error(app, emu, amazon_shop, catalog, clock):
    catalog({"TCB-BLA-S": 10})
    shop = amazon_shop()
    emu.finance_delay = 10 * HOUR  # Amazon is slow to post the shipment's events
    emu.add_order(make_order("402-2000002-0000002", marketplace=FR, items=[("TCB-BLA-S", 2, "19.90")],
                             created=T0.timestamp() - HOUR))
    jobs.sync_orders(shop.id)
    db.session.commit()
    order = order_of("402-2000002-0000002")
    shirt = order.lines[0]
    order_flow.ship(order, Shipment(order_id=order.id, carrier="dhl", service="DHL Paket", tracking_number="JD42"),
                    [(shirt, 2)])
    db.session.commit()
    drain()  # confirmShipment: the read is scheduled
    assert len(emu.confirmations) == 1
    shipped = as_datetime(clock.time())
    assert row_of(order).finance_due_at == shipped + finances.FIRST_READ_DELAY

    clock.advance(2 * HOUR)
    message = jobs.read_finances(shop.id)
    db.session.commit()
    assert "1 en attente" in message
    row = row_of(order)
    assert row.finance_due_at == shipped + finances.FIRST_READ_DELAY + finances.RETRY_EVERY
    assert fees_of(order) == {} and row.fees_read_at is None
    assert shop.addon_row("amazon").status == ConnectionStatus.CONNECTED

    clock.advance(6 * HOUR)  # 8 h after shipment: still nothing
    jobs.read_finances(shop.id)
    db.session.commit()
    assert fees_of(order) == {} and row_of(order).finance_due_at is not None

    clock.advance(6 * HOUR)  # 14 h: posted
    assert "frais relevés pour 1" in jobs.read_finances(shop.id)
    db.session.commit()
    assert fees_of(order) == {"commission": (Decimal("5.97"), "EUR")}  # MFN: no FBA fee
    assert emu.operations[OP] == 3 and emu.throttled[OP] == 0


def test_a_shipment_event_never_posted_leaves_the_schedule_estimate(app, emu, amazon_shop, catalog, clock):
    catalog({"BPF-STD": 5})
    shop = amazon_shop()
    emu.finance_delay = 60 * DAY
    emu.add_order(fba_order("302-3000003-0000003", [("BPF-STD", 1, "24.00")]))
    jobs.sync_orders(shop.id)
    db.session.commit()
    order = order_of("302-3000003-0000003")
    reads = 0
    while row_of(order).finance_due_at is not None and reads < 100:
        clock.set(row_of(order).finance_due_at)
        jobs.read_finances(shop.id)
        db.session.commit()
        reads += 1
    assert fees_of(order) == {}
    assert as_datetime(clock.time()) - row_of(order).shipped_at >= finances.FEES_WAIT - finances.RETRY_EVERY
    assert reads == emu.operations[OP] < 100


def test_a_refund_becomes_one_return_and_a_second_read_adds_nothing(app, emu, emulator, amazon_shop, catalog,
                                                                    clock):
    catalog({"BPF-STD": 5, "CAP-STD": 5})
    shop = amazon_shop()
    emu.add_order(fba_order("302-4000004-0000004", [("BPF-STD", 2, "24.00"), ("CAP-STD", 1, "12.90")]))
    jobs.sync_orders(shop.id)
    db.session.commit()
    clock.advance(2 * HOUR)
    jobs.read_finances(shop.id)
    db.session.commit()
    order = order_of("302-4000004-0000004")
    assert fees_of(order)["commission"] == (Decimal("9.14"), "EUR")  # 7.20 + 1.935 rounded per item

    clock.advance(3 * DAY)
    event = emu.refund_order("302-4000004-0000004", {"BPF-STD": 1})
    clock.advance(4 * DAY)  # the refund check 7 days after shipment
    assert "1 remboursement(s) importé(s)" in jobs.read_finances(shop.id)
    db.session.commit()

    returns = list(db.session.scalars(sa.select(Return).where(Return.order_id == order.id)))
    assert len(returns) == 1
    ret = returns[0]
    adjustment = event["ShipmentItemAdjustmentList"][0]["OrderAdjustmentItemId"]
    assert ret.external_id == f"refund-{adjustment}" and ret.shop_id == shop.id
    assert ret.reason == ReturnReason.CHANGED_MIND and ret.status == ReturnStatus.RECEIVED
    assert [(rl.order_line.sku, rl.quantity) for rl in ret.lines] == [("BPF-STD", 1)]
    assert ret.refund_amount == Decimal("24.00") and ret.refund_status == PaymentStatus.REFUNDED
    # the refund gave back the commission of the unit, less the 20 % Amazon keeps
    assert fees_of(order)["commission"] == (Decimal("6.26"), "EUR")  # 9.14 − 3.60 + 0.72

    # read again (next refund check, then by hand): still one return, same amount
    clock.set(row_of(order).finance_due_at)
    assert "0 remboursement(s) importé(s)" in jobs.read_finances(shop.id)
    db.session.commit()
    result = finances.FinanceResult()
    finances.read_order(shop, jobs.client_for(shop), row_of(order), result)
    db.session.commit()
    assert result.refunds == 0
    assert db.session.scalar(sa.select(sa.func.count(Return.id)).where(Return.order_id == order.id)) == 1
    db.session.refresh(ret)
    assert ret.refund_amount == Decimal("24.00") and len(ret.lines) == 1
    assert emulator.config["SPEC_PROBLEMS"] == []


def test_a_burst_of_orders_keeps_to_the_rate_and_hands_over(app, emu, amazon_shop, catalog, clock):
    catalog({"BPF-STD": 100})
    shop = amazon_shop(marketplaces=[FR, UK])
    for n in range(40):
        emu.add_order(fba_order(f"302-5{n:06d}-0000005", [("BPF-STD", 1, "24.00")],
                                marketplace=UK if n % 4 == 0 else FR))
    jobs.sync_orders(shop.id)
    db.session.commit()
    clock.advance(2 * HOUR)

    app.config["AMAZON_MAX_RATE_WAIT"] = 1.0  # a worker must not wait 2 s for the 31st token
    message = jobs.read_finances(shop.id)
    db.session.commit()
    assert message.startswith("reprise dans")
    assert emu.operations[OP] == 30  # the burst
    resume = db.session.scalar(sa.select(OutboxJob).where(OutboxJob.job_id == f"amazon-finances-{shop.id}-resume"))
    assert resume is not None and resume.state == "pending"
    read = db.session.scalar(sa.select(sa.func.count(AmazonOrder.id)).where(AmazonOrder.fees_read_at.is_not(None)))
    assert read == 30  # each order committed as read

    app.config["AMAZON_MAX_RATE_WAIT"] = 7 * DAY
    start = clock.slept
    assert resume.func == "addons.amazon.jobs.read_finances" and resume.args == [shop.id]
    assert jobs.read_finances(*resume.args).startswith("10 commande(s) lue(s)")  # what the resumed run does
    db.session.commit()
    assert emu.operations[OP] == 40 and emu.throttled[OP] == 0
    assert clock.slept - start == pytest.approx(10 / 0.5, abs=2.5)  # paced at 0.5 request/s
    uk = order_of("302-5000000-0000005")
    assert fees_of(uk) == {"commission": (Decimal("3.60"), "GBP"), "fulfilment": (Decimal("3.20"), "GBP")}
    assert db.session.scalar(sa.select(sa.func.count(AmazonOrder.id))
                             .where(AmazonOrder.fees_read_at.is_(None))) == 0


def test_paged_events_and_the_checker_knows_the_finances_model(app, emu, emulator, amazon_shop, catalog, clock,
                                                               spec_book, monkeypatch):
    catalog({"BPF-STD": 10})
    shop = amazon_shop()
    emu.add_order(fba_order("302-6000006-0000006", [("BPF-STD", 3, "24.00")]))
    jobs.sync_orders(shop.id)
    db.session.commit()
    for _ in range(3):
        emu.refund_order("302-6000006-0000006", {"BPF-STD": 1})
    clock.advance(2 * HOUR)
    client = jobs.client_for(shop)
    first = client.call(OP, path={"orderId": "302-6000006-0000006"}, params={"MaxResultsPerPage": 2}).body
    assert len(first["payload"]["FinancialEvents"]["ShipmentEventList"]) == 1
    assert first["payload"]["NextToken"]
    monkeypatch.setattr(finances, "PAGE_SIZE", 2)
    events = finances.list_events(client, "302-6000006-0000006")
    assert len(events.shipments) == 1 and len(events.refunds) == 3
    assert emu.operations[OP] == 3
    assert emulator.config["SPEC_PROBLEMS"] == []

    # the checker holds the Finances model: a wrong query or answer is caught
    path = "/finances/v0/orders/302-1/financialEvents"
    assert spec_book.check_request("GET", path, {"MaxResultsPerPage": ["x"]}, b"")
    assert spec_book.check_request("GET", path, {"maxResults": ["10"]}, b"")
    assert spec_book.check_request("GET", path, {"MaxResultsPerPage": ["10"], "NextToken": ["a"]}, b"") == []
    bad = {"payload": {"FinancialEvents": {"ShipmentEventList": [{"ShipmentItemList": [
        {"QuantityShipped": "1", "ItemFeeList": [{"FeeAmount": {"CurrencyAmount": "-1.00"}}]}]}]}}}
    problems = spec_book.check_response("GET", path, 200, json.dumps(bad).encode())
    assert any("'1' is not of type 'integer'" in p for p in problems)
    assert any("'-1.00' is not of type 'number'" in p for p in problems)
