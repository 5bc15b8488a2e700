"""eBay's returns (Post-Order) and refunds (the order's paymentSummary, the Finances API) as
OMS returns: imported once, the OMS's own refund never twice, the cursor moved last."""
from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from addons.ebay import jobs, mapping
from addons.ebay.client import EbayError
from addons.ebay.models import EbayAccount, EbayReturn
from addons.ebay.returns import FROM_OMS, OF_RETURN
from core.extensions import db
from core.models import Order, OrderStatus, PaymentStatus, Return, ReturnReason, ReturnStatus


def _imported(shop, emu, lines):
    order = emu.place_order(lines, notify=False)
    jobs.sync_orders(shop.id)
    db.session.commit()
    return order, db.session.scalar(select(Order).where(Order.external_id == order["orderId"]))


def _returns(shop) -> list[Return]:
    db.session.expire_all()
    return list(db.session.scalars(select(Return).where(Return.shop_id == shop.id).order_by(Return.id)))


def test_a_buyers_return_is_imported_once_with_its_line_reason_and_refund(app, ebay_shop, emu, catalog, clock):
    catalog({"TCB-BLA-M": 10, "CAP-STD": 10})
    shop = ebay_shop()
    order, oms = _imported(shop, emu, [("TCB-BLA-M", 2), ("CAP-STD", 1)])
    opened = emu.open_return(order["orderId"], "TCB-BLA-M", 1, reason="WRONG_SIZE")

    # asked for, not back yet: the order's history says so, no OMS return
    assert jobs.read_returns(shop.id) == 0
    assert _returns(shop) == []
    asked = [e.message for e in db.session.get(Order, oms.id).events if "retour demandé" in e.message]
    assert len(asked) == 1 and opened["returnId"] in asked[0] and "1 × TCB-BLA-M" in asked[0] and "taille" in asked[0]

    clock.advance(1800)
    emu.return_delivered(opened["returnId"])
    assert jobs.read_returns(shop.id) == 1
    (ret,) = _returns(shop)
    assert ret.external_id == opened["returnId"] and ret.reason == ReturnReason.SIZE
    assert ret.status == ReturnStatus.RECEIVED and ret.refund_amount is None
    line = next(ln for ln in db.session.get(Order, oms.id).lines if ln.sku == "TCB-BLA-M")
    assert [(rl.order_line_id, rl.quantity) for rl in ret.lines] == [(line.id, 1)]

    clock.advance(1800)
    assert jobs.read_returns(shop.id) == 0  # read again: nothing new
    assert len(_returns(shop)) == 1

    # the seller refunds it: the return carries the refund; the same refund on the order is
    # the return's, not a second one
    clock.advance(1800)
    emu.refund_return(opened["returnId"])
    jobs.sync_orders(shop.id)
    jobs.read_finances(shop.id)
    assert jobs.read_returns(shop.id) == 0
    (ret,) = _returns(shop)
    assert ret.refund_amount == Decimal("19.90") and ret.refund_status == PaymentStatus.REFUNDED
    assert db.session.get(Order, oms.id).payment_status == PaymentStatus.PARTIALLY_REFUNDED
    refund_row = db.session.scalar(select(EbayReturn).where(EbayReturn.kind == "refund"))
    assert refund_row.settled == OF_RETURN and refund_row.return_id is None
    assert jobs.read_returns(shop.id) == 0 and len(_returns(shop)) == 1
    assert sum(1 for e in db.session.get(Order, oms.id).events if "retour demandé" in e.message) == 1


def test_a_refund_without_a_return_is_a_return_without_goods(app, ebay_shop, emu, catalog, clock):
    catalog({"CAP-STD": 10})
    shop = ebay_shop()
    order, oms = _imported(shop, emu, [("CAP-STD", 2)])
    clock.advance(600)
    refund = emu.seller_refund(order["orderId"], "5.00")
    # the Finances API's REFUND names the order: read again, the refund settled
    jobs.read_finances(shop.id)
    (ret,) = _returns(shop)
    assert ret.external_id == f"refund:{refund['refundId']}" and ret.lines == []
    assert ret.refund_amount == Decimal("5.00") and ret.status == ReturnStatus.OPEN
    assert db.session.get(Order, oms.id).payment_status == PaymentStatus.PARTIALLY_REFUNDED
    # the poll and the returns read see it again: still one
    clock.advance(600)
    jobs.sync_orders(shop.id)
    jobs.read_returns(shop.id)
    jobs.read_finances(shop.id)
    assert len(_returns(shop)) == 1


def test_a_refund_issued_from_the_oms_does_not_come_back_as_a_return(app, ebay_shop, emu, catalog, clock):
    catalog({"CAP-STD": 10})
    shop = ebay_shop()
    order, oms = _imported(shop, emu, [("CAP-STD", 1)])
    refund_id = jobs.refund_order(oms.id, "5.00", comment="geste commercial")
    clock.advance(600)
    emu.complete_refunds()  # eBay processes it: REFUNDED on the order, a REFUND transaction
    jobs.sync_orders(shop.id)
    jobs.read_finances(shop.id)
    jobs.read_returns(shop.id)
    assert _returns(shop) == []
    row = db.session.scalar(select(EbayReturn).where(EbayReturn.kind == "refund"))
    assert row.external_id == refund_id and row.settled == FROM_OMS
    # another refund on the same order, made in the Seller Hub, is imported
    emu.seller_refund(order["orderId"], "2.00")
    clock.advance(600)
    jobs.sync_orders(shop.id)
    jobs.read_returns(shop.id)
    assert [r.refund_amount for r in _returns(shop)] == [Decimal("2.00")]


def test_a_kept_item_is_refunded_without_goods(app, ebay_shop, emu, catalog, clock):
    catalog({"CAP-STD": 10})
    shop = ebay_shop()
    order, _oms = _imported(shop, emu, [("CAP-STD", 1)])
    opened = emu.open_return(order["orderId"], "CAP-STD", reason="ARRIVED_DAMAGED")
    emu.refund_return(opened["returnId"], "6.00", keep_item=True)
    clock.advance(600)
    jobs.sync_orders(shop.id)
    assert jobs.read_returns(shop.id) == 1
    (ret,) = _returns(shop)
    assert ret.lines == [] and ret.reason == ReturnReason.DEFECT and ret.refund_amount == Decimal("6.00")


def test_return_reasons_map_to_the_oms_reasons():
    assert mapping.return_reason("WRONG_SIZE") == ReturnReason.SIZE
    assert mapping.return_reason("DEFECTIVE_ITEM") == ReturnReason.DEFECT
    assert mapping.return_reason("ARRIVED_DAMAGED") == ReturnReason.DEFECT
    assert mapping.return_reason("NOT_AS_DESCRIBED") == ReturnReason.NOT_AS_DESCRIBED
    assert mapping.return_reason("DIFFERENT_FROM_LISTING") == ReturnReason.NOT_AS_DESCRIBED
    assert mapping.return_reason("ORDERED_WRONG_ITEM") == ReturnReason.WRONG_ITEM
    assert mapping.return_reason("NO_LONGER_NEED_ITEM") == ReturnReason.CHANGED_MIND
    assert mapping.return_reason("A_REASON_ADDED_NEXT_YEAR") == ReturnReason.CHANGED_MIND
    assert mapping.return_reason(None) == ReturnReason.CHANGED_MIND
    facts = mapping.return_facts({"returnId": "1", "orderId": "o", "state": "CLOSED",
                                  "creationInfo": {"item": {"itemId": "9", "transactionId": "8", "returnQuantity": 2},
                                                   "reason": "MISSING_PARTS", "creationDate": {"value": "2026-11-29T10:00:00.000Z"}},
                                  "buyerTotalRefund": {"actualRefundAmount": {"value": 12.5, "currency": "EUR"}}})
    assert (facts.quantity, facts.refund, facts.currency, facts.due, facts.goods_back) == (
        2, Decimal("12.50"), "EUR", True, True)


def test_a_return_of_an_order_not_imported_yet_is_kept_then_imported_with_it(app, ebay_shop, emu, catalog, clock):
    catalog({"CAP-STD": 10})
    shop = ebay_shop()
    order = emu.place_order([("CAP-STD", 1)], notify=False, created=clock.time() - 40 * 86400)
    opened = emu.open_return(order["orderId"], reason="DEFECTIVE_ITEM")
    emu.return_delivered(opened["returnId"])
    assert jobs.read_returns(shop.id) == 0  # the order is older than the orders' first import
    row = db.session.scalar(select(EbayReturn).where(EbayReturn.external_id == opened["returnId"]))
    assert row.order_id is None and row.ebay_order_id == order["orderId"] and row.state == "ITEM_DELIVERED"
    # the order comes in (a later modification, a notification): the return follows it
    jobs.fetch_order(shop.id, order["orderId"])
    assert jobs.read_returns(shop.id) == 1
    (ret,) = _returns(shop)
    assert ret.order.external_id == order["orderId"] and ret.reason == ReturnReason.DEFECT and len(ret.lines) == 1


def test_the_cursor_stays_put_when_ebay_fails_and_pages_are_kept(app, ebay_shop, emu, catalog, clock, monkeypatch):
    catalog({"CAP-STD": 50})
    shop = ebay_shop()
    order, _oms = _imported(shop, emu, [("CAP-STD", 5)])
    ids = []
    for _ in range(5):
        clock.advance(60)
        ret = emu.open_return(order["orderId"], "CAP-STD", 1, reason="NO_LONGER_NEED_ITEM")
        emu.return_delivered(ret["returnId"])
        ids.append(ret["returnId"])
    monkeypatch.setattr(jobs, "RETURNS_PAGE", 2)
    emu.kit.fail_next(500, times=10, path="/post-order/v2/return/search", after=1)
    with pytest.raises(EbayError):
        jobs.read_returns(shop.id)
    db.session.expire_all()
    assert db.session.get(EbayAccount, shop.id).returns_cursor is None  # not moved
    assert len(_returns(shop)) == 2  # the first page is kept
    emu.kit.reset()
    assert jobs.read_returns(shop.id) == 3
    assert sorted(r.external_id for r in _returns(shop)) == sorted(ids)
    cursor = db.session.get(EbayAccount, shop.id).returns_cursor
    assert cursor is not None and cursor.timestamp() == pytest.approx(clock.time(), abs=1)
    searches = [p for m, p in emu.kit.calls if p == "/post-order/v2/return/search"]
    assert len(searches) == 1 + app.config["EBAY_RETRY"].attempts + 3


def test_a_cancelled_orders_refund_is_its_cancellation(app, ebay_shop, emu, catalog, clock):
    catalog({"CAP-STD": 10})
    shop = ebay_shop()
    order, oms = _imported(shop, emu, [("CAP-STD", 1)])
    clock.advance(600)
    emu.buyer_cancels(order["orderId"])
    emu.seller_refund(order["orderId"], order["pricingSummary"]["total"]["value"])
    jobs.sync_orders(shop.id)
    jobs.read_returns(shop.id)
    assert db.session.get(Order, oms.id).status == OrderStatus.CANCELLED
    assert _returns(shop) == []
    assert db.session.scalar(select(func.count()).select_from(EbayReturn)) == 1


def test_the_ebay_page_lists_the_returns_not_imported_yet(app, client, login, ebay_shop, emu, catalog, clock):
    catalog({"CAP-STD": 10})
    shop = ebay_shop()
    order, oms = _imported(shop, emu, [("CAP-STD", 1)])
    asked = emu.app.test_client().post("/_emulator/returns", json={"orderId": order["orderId"], "sku": "CAP-STD",
                                                                   "reason": "DEFECTIVE_ITEM"})
    assert asked.status_code == 201
    stranger = emu.place_order([("CAP-STD", 1)], notify=False, created=clock.time() - 40 * 86400)
    emu.open_return(stranger["orderId"], reason="NO_LONGER_NEED_ITEM")
    assert emu.app.test_client().post("/_emulator/returns", json={"orderId": "nope"}).status_code == 404
    jobs.read_returns(shop.id)
    login(client)
    page = client.get("/apps/ebay/").get_data(as_text=True)
    mine = page.split(f'data-return="{asked.get_json()["returnId"]}"')[1].split("</tr>")[0]
    assert f"/orders/{oms.id}" in mine or oms.number in mine
    assert "Défaut" in mine and "demandé par l" in mine
    waiting = page.split('data-return="')[1:]
    assert any(stranger["orderId"] in w and "commande pas encore importée" in w for w in waiting)
