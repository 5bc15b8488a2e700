"""End to end on the emulator: connect → import → accepted → stock pushed → shipped → tracking
on the emulator; out of stock, unknown SKU, cancellations both ways, re-reads and old snapshots."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa

from addons.fnac import jobs, sync
from addons.fnac.models import FnacBatch, FnacOffer, FnacOrder
from core import orders as order_flow
from core.analytics.facts import AnalyticsActualFee
from core.extensions import db
from core.models import Order, OrderStatus, Shipment, StockLevel, utcnow

from .conftest import FNAC_SHOP, drain


def orders_of(shop) -> dict[str, Order]:
    return {o.external_id: o for o in db.session.scalars(sa.select(Order).where(Order.shop_id == shop.id))}


def row_of(order) -> FnacOrder:
    return db.session.scalar(sa.select(FnacOrder).where(FnacOrder.order_id == order.id))


def test_order_accepted_stock_pushed_shipped_and_tracked(app, emu, fnac_shop, catalog):
    variants = catalog({"LIV-001": 5, "CD-002": 3})
    emu.add_offer(FNAC_SHOP, "LIV-001", title="Livre de poche", price="9.90", quantity=5)
    emu.add_offer(FNAC_SHOP, "CD-002", title="Album CD", price="14.90", quantity=3)
    placed = emu.add_order(FNAC_SHOP, [("LIV-001", 2, "9.90"), ("CD-002", 1, "14.90")], shipping_method="21")
    shop = fnac_shop()

    message = jobs.sync_orders(shop.id)
    db.session.commit()
    assert message.startswith("1 commande(s) créée(s)") and "2 offre(s) lue(s), 2 reliée(s)" in message
    order = orders_of(shop)[placed.order_id]
    assert order.status == OrderStatus.ALLOCATED and order.number == placed.order_id
    assert order.total == Decimal("38.60") and order.currency == "EUR"  # 2 × 9.90 + 14.90 + 3.90 shipping
    assert order.shipping_total == Decimal("3.90") and order.shipping_address["country"] == "FR"
    assert order.shipping_address["phone"] == "0612345678" and order.email == "camille.dubois@example.fr"
    assert {ln.external_id for ln in order.lines} == {str(ln.detail_id) for ln in placed.lines}
    assert row_of(order).state == "Created"

    drain()  # acceptance, then the stock push that the reservation triggered
    assert emu.orders[placed.order_id].state == "Accepted"
    accept = [u for u in emu.updates if u[2] == "accept_order"]
    assert len(accept) == 1 and {d["action"] for d in accept[0][3]} == {"Accepted"}
    assert row_of(order).decision == "accepted"
    assert emu.offers[FNAC_SHOP]["LIV-001"]["quantity"] == 3 and emu.offers[FNAC_SHOP]["CD-002"]["quantity"] == 2
    batch = db.session.scalar(sa.select(FnacBatch).where(FnacBatch.shop_id == shop.id))
    assert batch.finished_at is not None and batch.errors == {} and batch.status == "OK"
    offer = db.session.scalar(sa.select(FnacOffer).where(FnacOffer.sku == "LIV-001"))
    assert offer.pushed_quantity == 3 and offer.push_error is None and offer.variant_id == variants["LIV-001"].id
    fees = db.session.scalars(sa.select(AnalyticsActualFee).where(AnalyticsActualFee.order_id == order.id)).all()
    assert [(f.kind, f.amount) for f in fees] == [("commission", Decimal("5.21"))]  # 15 % of each line

    shipment = Shipment(order_id=order.id, carrier="sendcloud", service="Colissimo Home", tracking_number="6A12345678")
    order_flow.ship(order, shipment)
    db.session.commit()
    drain()
    remote = emu.orders[placed.order_id]
    assert remote.state == "Shipped"
    assert {(ln.tracking_number, ln.tracking_company) for ln in remote.lines} == {("6A12345678", "Colissimo")}
    assert any("suivi 6A12345678 transmis à Fnac Darty (Colissimo, 2 ligne(s))" in e.message for e in order.events)

    # the job run again (a lost answer, a retry) reads first and sends nothing twice
    before = len(emu.updates)
    assert jobs.push_tracking(shipment.id).startswith("déjà confirmée")
    assert len(emu.updates) == before

    jobs.sync_orders(shop.id)
    db.session.commit()
    assert row_of(order).state == "Shipped"


def test_partial_shipment_confirms_only_complete_lines(app, emu, fnac_shop, catalog):
    catalog({"LIV-001": 5, "CD-002": 3})
    emu.add_offer(FNAC_SHOP, "LIV-001")
    emu.add_offer(FNAC_SHOP, "CD-002")
    placed = emu.add_order(FNAC_SHOP, [("LIV-001", 2, "9.90"), ("CD-002", 1, "14.90")])
    shop = fnac_shop()
    jobs.sync_orders(shop.id)
    db.session.commit()
    drain()
    order = orders_of(shop)[placed.order_id]
    book, cd = sorted(order.lines, key=lambda ln: ln.sku)[1], sorted(order.lines, key=lambda ln: ln.sku)[0]
    first = Shipment(order_id=order.id, carrier="chronopost", service="Chrono 13", tracking_number="XY111")
    order_flow.ship(order, first, [(cd, 1), (book, 1)])
    db.session.commit()
    drain()
    remote = {ln.sku: ln for ln in emu.orders[placed.order_id].lines}
    assert remote["CD-002"].state == "Shipped" and remote["CD-002"].tracking_company == "Chronopost"
    assert remote["LIV-001"].state in ("Accepted", "ToShip")  # one of two units left: the line waits
    second = Shipment(order_id=order.id, carrier="dpd", service="Predict", tracking_number="DPD222")
    order_flow.ship(order, second, [(book, 1)])
    db.session.commit()
    drain()
    remote = {ln.sku: ln for ln in emu.orders[placed.order_id].lines}
    assert remote["LIV-001"].state == "Shipped" and remote["LIV-001"].tracking_number == "DPD222"
    assert emu.orders[placed.order_id].state == "Shipped"


def test_unknown_carrier_goes_as_its_own_name(app, emu, fnac_shop, catalog):
    catalog({"LIV-001": 5})
    emu.add_offer(FNAC_SHOP, "LIV-001")
    placed = emu.add_order(FNAC_SHOP, [("LIV-001", 1, "9.90")])
    shop = fnac_shop()
    jobs.sync_orders(shop.id)
    db.session.commit()
    drain()
    order = orders_of(shop)[placed.order_id]
    order_flow.ship(order, Shipment(order_id=order.id, carrier="manual", service="Coursier Dupont",
                                    tracking_number="CD-1"))
    db.session.commit()
    drain()
    assert emu.orders[placed.order_id].lines[0].tracking_company == "Coursier Dupont"
    assert any("pas de lien de suivi" in e.message for e in order.events)


def test_out_of_stock_order_waits_then_is_refused_before_the_deadline(app, emu, fnac_shop, catalog):
    catalog({"LIV-001": 0})
    emu.add_offer(FNAC_SHOP, "LIV-001", quantity=1)
    placed = emu.add_order(FNAC_SHOP, [("LIV-001", 1, "9.90")])
    shop = fnac_shop()
    jobs.sync_orders(shop.id)
    db.session.commit()
    drain()
    order = orders_of(shop)[placed.order_id]
    assert order.status == OrderStatus.ON_HOLD and order.hold_code == "backorder"
    assert emu.orders[placed.order_id].state == "Created"  # not accepted without stock
    assert not [u for u in emu.updates if u[2] == "accept_order"]

    assert jobs.refuse_overdue() == 0  # the deadline is not near yet
    order.placed_at = utcnow() - timedelta(hours=37)
    db.session.commit()
    assert jobs.refuse_overdue() == 1
    drain()
    assert order.status == OrderStatus.CANCELLED
    assert emu.orders[placed.order_id].state == "Refused"
    refusal = [u for u in emu.updates if u[2] == "accept_order"]
    assert len(refusal) == 1 and [d["action"] for d in refusal[0][3]] == ["Refused"]
    assert row_of(order).decision == "refused"


def test_unknown_sku_is_held_and_not_accepted(app, emu, fnac_shop, catalog):
    catalog({"LIV-001": 5})
    placed = emu.add_order(FNAC_SHOP, [("INCONNU-9", 1, "9.90")])
    shop = fnac_shop()
    jobs.sync_orders(shop.id)
    db.session.commit()
    drain()
    order = orders_of(shop)[placed.order_id]
    assert order.status == OrderStatus.ON_HOLD and "INCONNU-9" in (order.hold_reason or "")
    assert emu.orders[placed.order_id].state == "Created"


def test_buyer_cancellation_releases_stock(app, emu, fnac_shop, catalog):
    variants = catalog({"LIV-001": 5})
    emu.add_offer(FNAC_SHOP, "LIV-001")
    placed = emu.add_order(FNAC_SHOP, [("LIV-001", 2, "9.90")])
    shop = fnac_shop()
    jobs.sync_orders(shop.id)
    db.session.commit()
    drain()
    level = db.session.scalar(sa.select(StockLevel).where(StockLevel.variant_id == variants["LIV-001"].id))
    assert level.reserved == 2
    emu.cancel_by_buyer(placed.order_id)
    jobs.sync_orders(shop.id)
    db.session.commit()
    drain()
    order = orders_of(shop)[placed.order_id]
    db.session.refresh(level)
    assert order.status == OrderStatus.CANCELLED and level.reserved == 0
    assert not [u for u in emu.updates if u[2] == "refund_order"]  # Fnac Darty's own cancellation: nothing sent back
    assert emu.offers[FNAC_SHOP]["LIV-001"]["quantity"] == 5  # the freed units are on sale again


def test_merchant_cancellation_after_acceptance_is_refunded(app, emu, fnac_shop, catalog):
    catalog({"LIV-001": 5})
    emu.add_offer(FNAC_SHOP, "LIV-001")
    placed = emu.add_order(FNAC_SHOP, [("LIV-001", 1, "9.90")])
    shop = fnac_shop()
    jobs.sync_orders(shop.id)
    db.session.commit()
    drain()
    order = orders_of(shop)[placed.order_id]
    order_flow.cancel(order, reason="article abîmé")
    db.session.commit()
    drain()
    refund = [u for u in emu.updates if u[2] == "refund_order"]
    assert len(refund) == 1 and refund[0][3][0]["refund_reason"] == "no_stock"
    assert emu.orders[placed.order_id].state == "Refunded"
    jobs.sync_orders(shop.id)  # read back: refunded before it left, the order stays cancelled
    db.session.commit()
    assert order.status == OrderStatus.CANCELLED and row_of(order).state == "Refunded"


def test_merchant_cancellation_before_acceptance_is_a_refusal(app, emu, fnac_shop, catalog):
    catalog({"LIV-001": 0})
    placed = emu.add_order(FNAC_SHOP, [("LIV-001", 1, "9.90")])
    shop = fnac_shop()
    jobs.sync_orders(shop.id)
    db.session.commit()
    drain()
    order = orders_of(shop)[placed.order_id]
    order_flow.cancel(order, reason="plus en vente")
    db.session.commit()
    drain()
    assert emu.orders[placed.order_id].state == "Refused"
    assert [u[2] for u in emu.updates] == ["accept_order"]  # one refusal, no refund


def test_reread_and_older_snapshots_change_nothing(app, emu, fnac_shop, catalog):
    catalog({"LIV-001": 5})
    emu.add_offer(FNAC_SHOP, "LIV-001")
    placed = emu.add_order(FNAC_SHOP, [("LIV-001", 1, "9.90")])
    shop = fnac_shop()
    from addons.fnac.runtime import client_for

    client = client_for(shop)
    created_snapshot = client.orders_query(order_ids=[placed.order_id]).root.findall("order")
    jobs.sync_orders(shop.id)
    db.session.commit()
    drain()
    jobs.sync_orders(shop.id)  # the same orders read again (overlap): no second order
    db.session.commit()
    assert len(orders_of(shop)) == 1
    order = orders_of(shop)[placed.order_id]
    assert row_of(order).state == "Accepted"
    assert sync.import_orders(shop, created_snapshot, source="poll") == 0  # the "Created" one, read late
    db.session.commit()
    assert row_of(order).state == "Accepted" and order.status == OrderStatus.ALLOCATED
    assert len([u for u in emu.updates if u[2] == "accept_order"]) == 1


def test_pickup_point_and_express(app, emu, fnac_shop, catalog):
    catalog({"LIV-001": 5})
    placed = emu.add_order(FNAC_SHOP, [("LIV-001", 1, "9.90")], shipping_method="55",
                           address={"company": "Relais Fnac Lyon", "address1": "3 place du Marché", "zipcode": "69002",
                                    "city": "Lyon", "country": "FRA", "fnac_shop_ref": "412"})
    shop = fnac_shop()
    from addons.fnac import mapping
    from addons.fnac.runtime import client_for

    el = client_for(shop).orders_query(order_ids=[placed.order_id]).root.find("order")
    normalized, facts = mapping.read_order(el)
    assert normalized.pickup_point is not None and normalized.pickup_point.id == "412"
    assert normalized.pickup_point.name == "Relais Fnac Lyon" and normalized.pickup_point.address.city == "Lyon"
    assert "Livraison Point relais" in normalized.tags
    express = emu.add_order(FNAC_SHOP, [("LIV-001", 1, "9.90")], shipping_method="50")
    el = client_for(shop).orders_query(order_ids=[express.order_id]).root.find("order")
    assert mapping.read_order(el)[0].service_level == "express"


def test_history_shipped_before_the_connection_moves_no_stock_and_asks_nothing(app, emu, fnac_shop, catalog):
    variants = catalog({"LIV-001": 5})
    old = emu.add_order(FNAC_SHOP, [("LIV-001", 1, "9.90")], state="Shipped")
    accepted = emu.add_order(FNAC_SHOP, [("LIV-001", 1, "9.90")], state="Accepted")
    shop = fnac_shop()
    jobs.sync_orders(shop.id)
    db.session.commit()
    got = orders_of(shop)
    assert got[old.order_id].status == OrderStatus.SHIPPED
    assert got[accepted.order_id].status == OrderStatus.ALLOCATED and row_of(got[accepted.order_id]).decision == "accepted"
    level = db.session.scalar(sa.select(StockLevel).where(StockLevel.variant_id == variants["LIV-001"].id))
    assert level.reserved == 1 and level.on_hand == 5  # only the order still to ship holds a unit
    from core.models import OutboxJob

    assert not db.session.scalars(sa.select(OutboxJob).where(OutboxJob.func == "addons.fnac.jobs.decide_order")).all()
    drain()
    assert not [u for u in emu.updates if u[2] == "accept_order"]


def test_stock_changes_in_a_row_leave_in_one_push_with_the_final_figures(app, emu, fnac_shop, catalog, org):
    from core import stock

    variants = catalog({"LIV-001": 5, "CD-002": 3})
    emu.add_offer(FNAC_SHOP, "LIV-001")
    emu.add_offer(FNAC_SHOP, "CD-002")
    shop = fnac_shop()
    jobs.import_offers(shop.id)
    db.session.commit()
    wh = db.session.scalar(sa.select(StockLevel.warehouse_id).where(StockLevel.variant_id == variants["LIV-001"].id))
    for variant, delta in ((variants["LIV-001"], 2), (variants["CD-002"], -1), (variants["LIV-001"], 1)):
        stock.adjust(org.id, variant.id, wh, delta, reason="inventaire", user_id=None)
        db.session.commit()  # three commits, three stock_available_changed
    drain()
    assert len(emu.offer_updates) == 1
    sent = {e["sku"]: e["quantity"] for e in emu.offer_updates[0][1]}
    assert sent == {"LIV-001": "8", "CD-002": "2"}
