"""Returns (RMA): opened from a shipped order, received, inspected, then restocked through the
stock ledger or written off without any movement; refunds; the order becomes "retournée"
once every unit is back; channel imports are idempotent; the pages and tenant isolation."""
from __future__ import annotations

import html
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from core import analytics as an
from core import orders as order_flow
from core import returns as rma
from core.extensions import db
from core.intake import ingest
from core.jobs import run_pending
from core.models import (
    AnalyticsOrderFact,
    AnalyticsReturnFact,
    Order,
    OrderStatus,
    PaymentStatus,
    Return,
    ReturnStatus,
    Role,
    Shipment,
    StockLevel,
    StockMovement,
    utcnow,
)
from core.money import Money
from tests.fixtures import FAKE_ADDONS, csrf_token
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


@pytest.fixture
def mug(org, wh):
    v = variant(org.id, "MUG", {wh: 10})
    v.cost_price = Decimal("4.00")
    db.session.commit()
    return v


def shipped_order(shop, wh, ext: str, qty: int = 2) -> Order:
    """An order of ``qty`` MUG at 10.00, allocated from PAR then shipped."""
    order = db.session.get(Order, ingest(shop, norm(ext, [("MUG", qty)])).order_id)
    assert order.status == OrderStatus.ALLOCATED
    order_flow.ship(order, Shipment(carrier="manual", warehouse_id=wh.id))
    db.session.commit()
    assert order.status == OrderStatus.SHIPPED
    return order


def on_hand(variant_id: int, warehouse_id: int) -> int:
    db.session.expire_all()
    return db.session.scalar(select(StockLevel.on_hand).where(StockLevel.variant_id == variant_id,
                                                              StockLevel.warehouse_id == warehouse_id))


def run_jobs() -> None:
    while run_pending(now=utcnow() + timedelta(seconds=10)):
        pass
    db.session.expire_all()


def test_restock_puts_units_back_through_the_ledger(org, shop, wh, mug):
    order = shipped_order(shop, wh, "r1")
    assert on_hand(mug.id, wh.id) == 8
    ret = rma.open_return(order, "size", {order.lines[0].id: 1})
    rma.receive(ret)
    rma.inspect(ret, note="comme neuf")
    with pytest.raises(rma.ReturnError):
        rma.close(ret)  # restock or write off first
    rma.restock(ret, wh, user_id=None)
    db.session.commit()
    assert on_hand(mug.id, wh.id) == 9
    move = db.session.scalars(select(StockMovement).where(StockMovement.reason == f"retour client RMA-{ret.id}")).one()
    assert (move.variant_id, move.warehouse_id, move.delta_on_hand, move.kind) == (mug.id, wh.id, 1, "receive")
    assert ret.status == ReturnStatus.RESTOCKED and rma.outcome(ret) == "restocked"
    assert order.status == OrderStatus.SHIPPED  # one unit of two came back


def test_write_off_moves_no_stock_and_counts_as_a_loss(org, shop, wh, mug):
    order = shipped_order(shop, wh, "r2", qty=1)
    moves_before = db.session.scalar(select(func.count()).select_from(StockMovement))
    ret = rma.open_return(order, "defect", {order.lines[0].id: 1})
    rma.receive(ret)
    rma.inspect(ret)
    rma.write_off(ret, note="écran cassé")
    rma.record_refund(ret, Decimal("10.00"))
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(StockMovement)) == moves_before
    assert on_hand(mug.id, wh.id) == 9
    assert rma.outcome(ret) == "written_off"
    # the whole order came back: retournée; refunded in full
    assert order.status == OrderStatus.RETURNED and order.payment_status == PaymentStatus.REFUNDED
    run_jobs()
    fact = db.session.get(AnalyticsOrderFact, order.id)
    # revenue 10.00, cost 4.00, refund 10.00 and nothing restocked: margin −4.00 (the unit is lost)
    assert (an.from_cents(fact.revenue), an.from_cents(fact.product_cost), an.from_cents(fact.returns)) == \
        (Decimal("10.00"), Decimal("4.00"), Decimal("10.00"))
    row = db.session.scalars(select(AnalyticsReturnFact)).one()
    assert (row.reason, row.outcome, row.units, an.from_cents(row.value)) == ("defect", "written_off", 1,
                                                                               Decimal("10.00"))


def test_restocked_return_recovers_the_cost(org, shop, wh, mug):
    order = shipped_order(shop, wh, "r3", qty=1)
    ret = rma.open_return(order, "changed_mind", {order.lines[0].id: 1})
    rma.receive(ret)
    rma.inspect(ret)
    rma.restock(ret, wh)
    rma.record_refund(ret, Decimal("10.00"))
    db.session.commit()
    run_jobs()
    fact = db.session.get(AnalyticsOrderFact, order.id)
    assert an.from_cents(fact.returns) == Decimal("6.00")  # refund 10.00 − cost 4.00 back in stock


def test_only_shipped_units_can_come_back(org, shop, wh, mug):
    allocated = db.session.get(Order, ingest(shop, norm("r4", [("MUG", 1)])).order_id)
    db.session.commit()
    with pytest.raises(rma.ReturnError, match="expédiée ou livrée"):
        rma.open_return(allocated, "size", {allocated.lines[0].id: 1})
    order = shipped_order(shop, wh, "r5", qty=2)
    with pytest.raises(rma.ReturnError, match="au plus"):
        rma.open_return(order, "size", {order.lines[0].id: 3})
    rma.open_return(order, "size", {order.lines[0].id: 2})
    with pytest.raises(rma.ReturnError, match="au plus"):
        rma.open_return(order, "size", {order.lines[0].id: 1})
    with pytest.raises(rma.ReturnError, match="inconnu"):
        rma.open_return(order, "bored", {order.lines[0].id: 1})


def test_channel_return_import_is_idempotent(org, shop, wh, mug):
    order = shipped_order(shop, wh, "r6", qty=2)
    line = order.lines[0]
    first = rma.import_channel_return(shop, order, [(line, 2)], "not_as_described", Money("20.00", "EUR"), "RET-77")
    db.session.commit()
    again = rma.import_channel_return(shop, order, [(line, 2)], "not_as_described", Money("20.00", "EUR"), "RET-77")
    db.session.commit()
    assert again.id == first.id
    assert db.session.scalar(select(func.count()).select_from(Return)) == 1
    assert first.status == ReturnStatus.RECEIVED and sum(ln.quantity for ln in first.lines) == 2
    assert first.refund_status == PaymentStatus.REFUNDED and first.refund_amount == Decimal("20.00")
    assert order.status == OrderStatus.RETURNED
    # the channel corrects its refund later: updated, nothing duplicated
    rma.import_channel_return(shop, order, [(line, 2)], "not_as_described", Money("15.00", "EUR"), "RET-77")
    db.session.commit()
    assert first.refund_amount == Decimal("15.00") and first.refund_status == PaymentStatus.PARTIALLY_REFUNDED
    assert db.session.scalar(select(func.count()).select_from(Return)) == 1
    assert [e.kind for e in order.events].count("refund") == 2


def test_return_through_the_pages(client, login, org, shop, wh, mug):
    order = shipped_order(shop, wh, "r7", qty=2)
    user = login(client, Role.STAFF)
    page = html.unescape(client.get(f"/orders/{order.id}").get_data(as_text=True))
    assert f"/orders/{order.id}/returns/new" in page and "Ouvrir un retour client" in page
    token = csrf_token(client, f"/orders/{order.id}/returns/new")
    res = client.post(f"/orders/{order.id}/returns/new", data={
        "csrf_token": token, "reason": "size", "note": "trop petit", f"qty-{order.lines[0].id}": "2"})
    assert res.status_code == 302
    ret = db.session.scalars(select(Return)).one()
    detail = f"/returns/{ret.id}"
    assert res.headers["Location"].endswith(detail)
    for step, data in (("receive", {}), ("inspect", {"note": "ok"}), ("restock", {"warehouse_id": str(wh.id)}),
                       ("refund", {"amount": "20,00"}), ("close", {})):
        res = client.post(f"{detail}/{step}", data={"csrf_token": token, **data})
        assert res.status_code == 302, step
        assert "Refusé" not in html.unescape(client.get(detail).get_data(as_text=True)), step
    db.session.expire_all()
    ret = db.session.get(Return, ret.id)
    assert ret.status == ReturnStatus.CLOSED and ret.refund_amount == Decimal("20.00")
    assert db.session.get(Order, order.id).status == OrderStatus.RETURNED
    move = db.session.scalars(select(StockMovement).where(StockMovement.reason == f"retour client RMA-{ret.id}")).one()
    assert move.user_id == user.id and move.delta_on_hand == 2
    listing = html.unescape(client.get("/returns?reason=size").get_data(as_text=True))
    assert f"RMA-{ret.id}" in listing
    assert f"RMA-{ret.id}" not in html.unescape(client.get("/returns?reason=defect").get_data(as_text=True))


def test_wrong_step_is_refused_with_a_message(client, login, org, shop, wh, mug):
    order = shipped_order(shop, wh, "r8", qty=1)
    ret = rma.open_return(order, "size", {order.lines[0].id: 1})
    db.session.commit()
    login(client, Role.OWNER)
    token = csrf_token(client, f"/returns/{ret.id}")
    res = client.post(f"/returns/{ret.id}/restock", data={"csrf_token": token, "warehouse_id": str(wh.id)},
                      follow_redirects=True)
    assert "Refusé" in html.unescape(res.get_data(as_text=True))
    assert on_hand(mug.id, wh.id) == 9
    # an open return can be cancelled
    assert client.post(f"/returns/{ret.id}/cancel", data={"csrf_token": token}).status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Return)) == 0


def test_another_organizations_return_is_404(client, login, org, shop, wh, mug, make_org, shop_factory):
    other = make_org("Autre")
    other_shop = shop_factory("beta", "Autre boutique", organization=other)
    other_wh = warehouse(other.id, "LYS")
    variant(other.id, "MUG", {other_wh: 5})
    db.session.commit()
    foreign_order = shipped_order(other_shop, other_wh, "x1", qty=1)
    foreign = rma.open_return(foreign_order, "size", {foreign_order.lines[0].id: 1})
    db.session.commit()
    login(client, Role.OWNER)
    token = csrf_token(client, "/returns")
    assert client.get(f"/returns/{foreign.id}").status_code == 404
    assert client.get(f"/orders/{foreign_order.id}/returns/new").status_code == 404
    for step in ("receive", "cancel"):
        assert client.post(f"/returns/{foreign.id}/{step}", data={"csrf_token": token}).status_code == 404
    assert f"RMA-{foreign.id}" not in html.unescape(client.get("/returns").get_data(as_text=True))
    # restocking into another organization's warehouse is refused as unknown
    order = shipped_order(shop, wh, "r9", qty=1)
    ret = rma.open_return(order, "size", {order.lines[0].id: 1})
    rma.receive(ret)
    rma.inspect(ret)
    db.session.commit()
    assert client.post(f"/returns/{ret.id}/restock", data={"csrf_token": token,
                                                           "warehouse_id": str(other_wh.id)}).status_code == 404


def test_picker_cannot_open_returns(client, login, org, shop, wh, mug):
    order = shipped_order(shop, wh, "r10", qty=1)
    login(client, Role.PICKER)
    assert client.get("/returns").status_code == 403
    assert client.get(f"/orders/{order.id}/returns/new").status_code == 403
