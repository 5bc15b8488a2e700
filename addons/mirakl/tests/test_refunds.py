"""Cancellations (OR30) and refunds (OR28) made in the OMS go to Mirakl once; returns opened
on the operator come in once; another organization's shop is never touched."""
from __future__ import annotations

import json
from decimal import Decimal

from sqlalchemy import select

from addons.mirakl import sandbox
from addons.mirakl.jobs import poll_returns, send_refund, sync_orders
from addons.mirakl.models import MiraklRefund
from core import returns as rma
from core.extensions import db
from core.models import Return
from core.orders import cancel

from .conftest import order_of, run_jobs, shipped_order


_order_of = order_of


def _shipped(emu, shop, clock, code="carrefour", lines=(("MUG-1", 2, "12.00"),)):
    return shipped_order(emu, shop, clock, code, lines)


def test_cancelled_in_the_oms_cancels_every_line_with_or30(app, make_shop, emu, clock, catalog):
    shop = make_shop("carrefour")
    mid = emu.place_order("carrefour", [("MUG-1", 1, "12.00"), ("TEE-1", 1, "9.00")])["order_id"]
    sync_orders(shop.id)
    run_jobs(clock)
    remote = emu.instances["carrefour"].orders[mid]
    assert remote["order_state"] == "SHIPPING"
    cancel(_order_of(shop), reason="client injoignable")
    db.session.commit()
    run_jobs(clock)
    sent = emu.instances["carrefour"].cancelations
    assert sorted(c["order_line_id"] for c in sent) == [f"{mid}-1", f"{mid}-2"]
    assert {c["reason_code"] for c in sent} == {"34"}  # the operator's first CANCELATION reason (RE02)
    assert [c["amount"] for c in sorted(sent, key=lambda c: c["order_line_id"])] == [12.0, 9.0]
    assert all(c["taxes"] and c["taxes"][0]["code"] == "TVAFR" for c in sent)
    assert remote["order_state"] == "CANCELED"
    assert all(ln["order_line_state"] == "CANCELED" for ln in remote["order_lines"])
    assert not [c for c in emu.kit.calls if c[1] == f"/carrefour/api/orders/{mid}/cancel"]  # not OR29


def test_a_lost_cancel_answer_is_not_sent_twice(app, make_shop, emu, clock, catalog):
    lost = {"left": 0}

    @emu.app.after_request
    def drop(response):  # Mirakl took the cancellation, the answer never came back
        from flask import request

        if request.path.endswith("/api/orders/cancel") and lost["left"]:
            lost["left"] -= 1
            return emu.app.response_class(json.dumps(sandbox.error_body(502)), status=502,
                                          mimetype="application/json")
        return response

    shop = make_shop("carrefour")
    mid = emu.place_order("carrefour", [("MUG-1", 1, "12.00")])["order_id"]
    sync_orders(shop.id)
    run_jobs(clock)
    lost["left"] = 1
    cancel(_order_of(shop), reason="client injoignable")
    db.session.commit()
    run_jobs(clock)
    assert [c for c in emu.kit.calls if c[1] == "/carrefour/api/orders/cancel"] == [
        ("PUT", "/carrefour/api/orders/cancel")]
    assert len(emu.instances["carrefour"].cancelations) == 1
    assert emu.instances["carrefour"].orders[mid]["order_state"] == "CANCELED"


def test_a_refund_in_the_oms_goes_to_or28_once(app, make_shop, emu, clock, catalog):
    shop = make_shop("carrefour")
    mid, order = _shipped(emu, shop, clock)
    ret = rma.open_return(order, "defect", {order.lines[0].id: 1})
    rma.receive(ret)
    rma.record_refund(ret, Decimal("12.00"))
    db.session.commit()
    run_jobs(clock)
    sent = emu.instances["carrefour"].refunds
    assert len(sent) == 1
    assert sent[0]["order_line_id"] == f"{mid}-1" and sent[0]["amount"] == 12.0 and sent[0]["quantity"] == 1
    assert sent[0]["reason_code"] == "13" and sent[0]["shipping_amount"] == 0.0
    assert sent[0]["taxes"] == [{"code": "TVAFR", "amount": 2.0}]  # half the line's 4.00 of VAT
    row = db.session.scalar(select(MiraklRefund))
    assert row.sent_at is not None and row.refund_ids == ["RF-1"]
    assert send_refund(shop.id, ret.id).endswith("déjà transmis")
    assert len(emu.instances["carrefour"].refunds) == 1


def test_a_refund_above_the_goods_goes_to_shipping_and_a_bare_refund_spreads_on_the_lines(
        app, make_shop, emu, clock, catalog):
    shop = make_shop("carrefour")
    mid, order = _shipped(emu, shop, clock, lines=(("MUG-1", 1, "12.00"), ("TEE-1", 1, "8.00")))
    bare = rma.import_channel_return(shop, order, [], "changed_mind", None, external_id="oms-geste")
    db.session.commit()
    rma.record_refund(bare, Decimal("10.00"))
    db.session.commit()
    run_jobs(clock)
    sent = sorted(emu.instances["carrefour"].refunds, key=lambda r: r["order_line_id"])
    assert [(r["order_line_id"], r["amount"]) for r in sent] == [(f"{mid}-1", 6.0), (f"{mid}-2", 4.0)]


def test_a_lost_refund_answer_is_read_back_not_sent_twice(app, make_shop, emu, clock, catalog):
    lost = {"left": 1}

    @emu.app.after_request
    def drop(response):  # Mirakl took the refund, the answer never came back
        from flask import request

        if request.path.endswith("/api/orders/refund") and lost["left"]:
            lost["left"] -= 1
            return emu.app.response_class(json.dumps(sandbox.error_body(502)), status=502,
                                          mimetype="application/json")
        return response

    shop = make_shop("carrefour")
    mid, order = _shipped(emu, shop, clock)
    ret = rma.open_return(order, "defect", {order.lines[0].id: 2})
    rma.record_refund(ret, Decimal("24.00"))
    db.session.commit()
    run_jobs(clock)
    assert len(emu.instances["carrefour"].refunds) == 1
    assert [c for c in emu.kit.calls if c[1] == "/carrefour/api/orders/refund"] == [
        ("PUT", "/carrefour/api/orders/refund")]
    db.session.expire_all()
    row = db.session.scalar(select(MiraklRefund))
    assert row.sent_at is not None and row.refund_ids == ["RF-1"]


def test_refunds_imported_from_mirakl_are_not_sent_back(app, make_shop, emu, clock, catalog):
    shop = make_shop("leroymerlin")
    mid, order = _shipped(emu, shop, clock, code="leroymerlin")
    emu.add_return("leroymerlin", mid, [(f"{mid}-1", 1)])
    assert poll_returns(shop.id).startswith("1 retour")
    clock.advance(400)
    assert poll_returns(shop.id).startswith("1 retour")  # read again: the same return, not a second
    returns = db.session.scalars(select(Return).where(Return.order_id == order.id)).all()
    assert len(returns) == 1 and returns[0].external_id.startswith("mirakl-return-")
    rma.import_channel_return(shop, order, [], "defect", None, external_id=returns[0].external_id)
    db.session.commit()
    run_jobs(clock)
    assert emu.instances["leroymerlin"].refunds == []


def test_another_organizations_refund_never_reaches_this_shop(app, make_shop, emu, clock, catalog, make_org,
                                                              shop_factory):
    shop = make_shop("carrefour")
    mid, order = _shipped(emu, shop, clock)
    ret = rma.open_return(order, "defect", {order.lines[0].id: 1})
    rma.record_refund(ret, Decimal("12.00"))
    db.session.commit()
    foreign = shop_factory("mirakl", name="autre", marketplace="carrefour", organization=make_org("Autre"))
    db.session.commit()
    assert send_refund(foreign.id, ret.id) == "rien à rembourser"
    assert emu.instances["carrefour"].refunds == []
    run_jobs(clock)  # the hook's own job, for the order's shop only
    assert len(emu.instances["carrefour"].refunds) == 1
