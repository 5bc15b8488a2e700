"""Refunds and Shopify Payments fees on the emulator: a refund becomes one OMS return
whichever way it arrives (webhooks, redeliveries, the poll), and the fees Shopify charged
replace the fee schedule in analytics."""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from sqlalchemy import func, select

from addons.shopify import jobs, sandbox
from core import analytics as an
from core.extensions import db
from core.models import (
    AnalyticsActualFee,
    AnalyticsOrderFact,
    Order,
    PaymentStatus,
    Return,
    ReturnReason,
    ReturnStatus,
    Shop,
    Variant,
)
from tests.pipeline_helpers import warehouse

from .helpers import connect, oms_order, stock

SKU = "TCB-BLA-M"
MUG = "MÉ-CRÈ"


@pytest.fixture
def shop(shop_factory, org, emu, base_url, run_jobs) -> Shop:
    """A connected shop, its products imported and 10 units of each in stock."""
    paris = warehouse(org.id, "PAR")
    db.session.commit()
    shop = connect(shop_factory("shopify", "Maison Lumière"), emu, base_url)
    jobs.sync_shop(shop.id)
    for variant in db.session.scalars(select(Variant).where(Variant.organization_id == org.id)):
        stock(variant, paris, 10)
    db.session.commit()
    run_jobs()
    return db.session.get(Shop, shop.id)


def _returns(order: Order) -> list[Return]:
    return list(db.session.scalars(select(Return).where(Return.order_id == order.id).order_by(Return.id)))


def _price(emu: sandbox.ShopifyEmulator, sku: str) -> Decimal:
    return Decimal(emu.variant_by_sku(sku)["price"])


def _deliver_held(client, inbound) -> None:
    inbound.paused = False
    for url, body, headers in inbound.held:
        assert client.post(url.replace("http://localhost", ""), data=body, headers=headers).status_code == 200
    inbound.held.clear()


# ----------------------------------------------------------------------------- returns
def test_a_refund_with_returned_units_becomes_one_return_whatever_repeats_it(shop, emu, run_jobs):
    placed = emu.place_order([(SKU, 2), (MUG, 1)])
    run_jobs()
    refund = emu.refund_order(placed["id"], [(SKU, 1)], restock_type="return", reason="SIZE_TOO_SMALL")
    topics = [d.topic for d in emu.deliveries[-2:]]
    run_jobs()

    assert topics == ["refunds/create", "orders/updated"]
    order = oms_order(shop, placed)
    [ret] = _returns(order)
    tee = next(ln for ln in order.lines if ln.sku == SKU)
    assert ret.external_id == str(refund["id"]) and ret.shop_id == shop.id
    assert ret.reason == ReturnReason.SIZE and ret.status == ReturnStatus.RECEIVED
    assert [(rl.order_line_id, rl.quantity) for rl in ret.lines] == [(tee.id, 1)]
    assert ret.refund_amount == _price(emu, SKU) and ret.refund_status == PaymentStatus.REFUNDED
    assert order.payment_status == PaymentStatus.PARTIALLY_REFUNDED
    kinds = [e.kind for e in order.events]
    assert kinds.count("return") == 1 and kinds.count("refund") == 1
    assert emu.operations.count("RefundReturn") == 1  # the reason asked once, for the new refund

    # Shopify sends the refund again (a new delivery, not a retry), the order changes again,
    # and the poll reads the order with its refund
    emu.emit("refunds/create", refund)
    emu.touch_order(placed["id"], tags="retour")
    run_jobs()
    jobs.sync_shop(shop.id)
    run_jobs()

    order = oms_order(shop, placed)
    assert [r.id for r in _returns(order)] == [ret.id]
    assert [(rl.order_line_id, rl.quantity) for rl in _returns(order)[0].lines] == [(tee.id, 1)]
    kinds = [e.kind for e in order.events]
    assert kinds.count("return") == 1 and kinds.count("refund") == 1
    assert "Refund" not in emu.operations  # the poll knew the refund: no detail read
    assert db.session.scalar(select(func.count()).select_from(Return).where(Return.shop_id == shop.id)) == 1


def test_a_refund_the_webhooks_missed_is_imported_by_the_poll(client, shop, emu, inbound, run_jobs):
    placed = emu.place_order([(SKU, 3)])
    run_jobs()
    inbound.paused = True  # the OMS is unreachable when the refund is made
    refund = emu.refund_order(placed["id"], [(SKU, 2)], restock_type="return", reason="DEFECTIVE")
    assert len(inbound.held) == 2

    jobs.sync_shop(shop.id)

    order = oms_order(shop, placed)
    [ret] = _returns(order)
    assert ret.external_id == str(refund["id"]) and ret.reason == ReturnReason.DEFECT
    assert [(rl.order_line_id, rl.quantity) for rl in ret.lines] == [(order.lines[0].id, 2)]
    assert ret.refund_amount == _price(emu, SKU) * 2
    assert emu.operations.count("Refund") == 1 and emu.operations.count("RefundReturn") == 1

    _deliver_held(client, inbound)  # the webhooks arrive late
    run_jobs()

    order = oms_order(shop, placed)
    assert [r.id for r in _returns(order)] == [ret.id]
    assert [e.kind for e in order.events].count("return") == 1
    assert emu.operations.count("RefundReturn") == 1


def test_a_refund_without_goods_is_a_return_without_lines(shop, emu, run_jobs):
    placed = emu.place_order([(SKU, 1)])
    run_jobs()
    gesture = emu.refund_order(placed["id"], [], amount="5.00", note="geste commercial")
    kept = emu.refund_order(placed["id"], [(SKU, 1)], restock_type="no_restock", amount="12.50")
    run_jobs()

    order = oms_order(shop, placed)
    first, second = _returns(order)
    assert (first.external_id, second.external_id) == (str(gesture["id"]), str(kept["id"]))
    assert first.lines == [] and second.lines == []  # nothing came back
    assert first.status == second.status == ReturnStatus.OPEN
    assert (first.refund_amount, second.refund_amount) == (Decimal("5.00"), Decimal("12.50"))
    assert first.reason == second.reason == ReturnReason.CHANGED_MIND
    assert "RefundReturn" not in emu.operations  # no goods: no return to ask about


def test_a_refund_in_the_customers_currency_is_booked_in_the_shops(shop, emu, run_jobs):
    placed = emu.place_order([(SKU, 1)], presentment_currency="CHF", rate="0.95")
    run_jobs()
    refund = emu.refund_order(placed["id"], [(SKU, 1)], restock_type="return")
    run_jobs()

    assert refund["transactions"][0]["currency"] == "CHF"
    assert Decimal(refund["transactions"][0]["amount"]) != _price(emu, SKU)
    [ret] = _returns(oms_order(shop, placed))
    assert ret.currency == "EUR" and ret.refund_amount == _price(emu, SKU)  # Shopify's own figure, not a rate
    assert emu.operations.count("Refund") == 1


def test_a_cancellation_refund_is_not_a_return(shop, emu, run_jobs):
    placed = emu.place_order([(SKU, 2)])
    run_jobs()
    emu.refund_order(placed["id"], [(SKU, 1)], restock_type="cancel")
    run_jobs()
    jobs.sync_shop(shop.id)

    assert _returns(oms_order(shop, placed)) == []


# ----------------------------------------------------------------------------- fees
def test_shopify_payments_fees_replace_the_schedule(org, shop, emu, run_jobs):
    paid_by_card = emu.place_order([(SKU, 2)])
    by_transfer = emu.place_order([(SKU, 1)], gateway="manual")
    run_jobs()

    jobs.sync_shop(shop.id)

    card, transfer = oms_order(shop, paid_by_card), oms_order(shop, by_transfer)
    expected = (Decimal(paid_by_card["total_price"]) * sandbox.PAYMENTS_RATE / 100
                + sandbox.PAYMENTS_FLAT).quantize(Decimal("0.01"), ROUND_HALF_UP)
    rows = db.session.scalars(select(AnalyticsActualFee).where(AnalyticsActualFee.order_id == card.id)).all()
    assert [(r.kind, r.amount, r.currency) for r in rows] == [("payment", expected, "EUR")]
    assert db.session.scalar(select(func.count()).select_from(AnalyticsActualFee)
                             .where(AnalyticsActualFee.order_id == transfer.id)) == 0

    an.refresh_orders(org.id, [card.id, transfer.id])
    db.session.commit()
    assert an.from_cents(db.session.get(AnalyticsOrderFact, card.id).fees) == expected
    scheduled = an.from_cents(db.session.get(AnalyticsOrderFact, transfer.id).fees)
    assert scheduled > 0  # the order without Shopify fees keeps the schedule

    # the next poll finds the same fees: nothing rewritten
    jobs.sync_shop(shop.id)
    again = db.session.scalars(select(AnalyticsActualFee).where(AnalyticsActualFee.order_id == card.id)).all()
    assert [r.id for r in again] == [r.id for r in rows]
