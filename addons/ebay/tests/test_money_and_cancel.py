"""Cancellations (Post-Order) and refunds (issue_refund) signed as eBay requires of EU
sellers, and the fees of the Finances API in analytics."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from addons.ebay import jobs, signing
from addons.ebay.models import EbayOrder
from core import orders as order_flow
from core.extensions import db
from core.models import AnalyticsActualFee, Order, OrderStatus


def _imported(shop, emu, lines):
    order = emu.place_order(lines, notify=False)
    jobs.sync_orders(shop.id)
    return order, db.session.scalar(select(Order).where(Order.external_id == order["orderId"]))


def test_request_signature_round_trip():
    private, public = signing.new_ed25519()
    key = {"jwe": "eyJ.jwe", "privateKey": private}
    body = b'{"legacyOrderId":"1"}'
    headers = signing.sign_request("POST", "https://api.ebay.com/post-order/v2/cancellation", body, key, created=1700000000)
    assert headers["Signature-Input"] == ('sig1=("content-digest" "x-ebay-signature-key" "@method" "@path" '
                                          '"@authority");created=1700000000')
    assert headers["Content-Digest"].startswith("sha-256=:") and headers["Signature"].startswith("sig1=:")
    assert signing.verify_request("POST", "https://api.ebay.com/post-order/v2/cancellation", headers, body, public) is None
    assert signing.verify_request("POST", "https://api.ebay.com/post-order/v2/cancellation", headers, body + b" ",
                                  public) == "invalid"
    assert signing.verify_request("POST", "https://apiz.ebay.com/post-order/v2/cancellation", headers, body,
                                  public) == "invalid"


def test_cancel_in_the_oms_is_a_signed_cancellation_on_ebay(app, ebay_shop, emu, catalog, run_jobs):
    catalog({"CAP-STD": 10})
    shop = ebay_shop()
    order, oms = _imported(shop, emu, [("CAP-STD", 2)])
    order_flow.cancel(oms, reason="rupture")
    db.session.commit()
    run_jobs()
    assert emu.state.orders[order["orderId"]]["cancelStatus"]["cancelState"] == "CANCELED"
    assert len(emu.state.cancellations) == 1
    assert next(iter(emu.state.cancellations.values()))["cancelReason"] == "OUT_OF_STOCK_OR_CANNOT_FULFILL"
    assert emu.kit.calls.count(("POST", "/developer/key_management/v1/signing_key")) == 1
    link = db.session.scalar(select(EbayOrder))
    assert link.cancellation_sent and db.session.get(Order, oms.id).status == OrderStatus.CANCELLED
    # the next poll reads eBay's CANCELED: nothing is sent again
    jobs.sync_orders(shop.id)
    assert emu.kit.calls.count(("POST", "/post-order/v2/cancellation")) == 1


def test_an_unsigned_or_badly_signed_call_is_refused_by_ebay(app, ebay_shop, emu, catalog):
    from addons.ebay.client import EbayError
    from addons.ebay.connection import client_for

    catalog({"CAP-STD": 10})
    shop = ebay_shop()
    order, _oms = _imported(shop, emu, [("CAP-STD", 1)])
    client = client_for(shop)
    client.signing_key = None
    try:
        client.create_cancellation(order["legacyOrderId"], "OUT_OF_STOCK_OR_CANNOT_FULFILL")
    except EbayError as exc:
        assert "clé de signature" in str(exc)
    private, _public = signing.new_ed25519()  # a key eBay never issued
    client.signing_key = {"jwe": "eyJ.unknown", "privateKey": private}
    try:
        client.create_cancellation(order["legacyOrderId"], "OUT_OF_STOCK_OR_CANNOT_FULFILL")
        raise AssertionError("eBay accepted a signature it cannot verify")
    except EbayError as exc:
        assert exc.error_ids == [215120] and "signature numérique refusée" in str(exc)
    assert emu.state.cancellations == {}


def test_shipped_order_is_not_eligible_and_the_merchant_is_told(app, ebay_shop, emu, catalog, run_jobs):
    catalog({"CAP-STD": 10})
    shop = ebay_shop()
    order, oms = _imported(shop, emu, [("CAP-STD", 1)])
    emu.modify(order["orderId"], orderFulfillmentStatus="FULFILLED")
    order_flow.cancel(oms, reason="erreur")
    db.session.commit()
    run_jobs()
    assert emu.state.cancellations == {}
    assert any("eBay refuse l'annulation" in e.message for e in db.session.get(Order, oms.id).events)


def test_refund_is_signed_and_recorded(app, ebay_shop, emu, catalog):
    catalog({"CAP-STD": 10})
    shop = ebay_shop()
    order, oms = _imported(shop, emu, [("CAP-STD", 1)])
    refund_id = jobs.refund_order(oms.id, "5.00", comment="geste commercial")
    assert refund_id and emu.state.refunds[0]["body"]["orderLevelRefundAmount"] == {"value": "5.00", "currency": "EUR"}
    assert emu.state.orders[order["orderId"]]["orderPaymentStatus"] == "PARTIALLY_REFUNDED"
    assert jobs.refund_order(oms.id, "5.00") == refund_id  # never twice
    assert len(emu.state.refunds) == 1


def test_fees_from_the_finances_api_go_to_analytics(app, ebay_shop, emu, catalog):
    catalog({"CAP-STD": 10})
    shop = ebay_shop()
    _order, oms = _imported(shop, emu, [("CAP-STD", 2)])
    assert jobs.read_finances(shop.id) == 1
    db.session.commit()
    fees = {f.kind: f.amount for f in db.session.scalars(select(AnalyticsActualFee).where(
        AnalyticsActualFee.order_id == oms.id))}
    total = Decimal("2") * Decimal("12.90") + Decimal("4.90")
    assert fees == {"commission": (total * Decimal("0.129")).quantize(Decimal("0.01")), "fixed": Decimal("0.35")}
