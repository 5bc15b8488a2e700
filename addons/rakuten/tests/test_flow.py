"""End to end on the emulator: connect → sale imported → allocated → accepted item by item →
stock pushed (counted once the report says so) → shipped → tracking on the emulator."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from addons.rakuten import jobs
from addons.rakuten.models import RakutenItem, RakutenOffer, RakutenStockImport
from core import orders as order_flow
from core.extensions import db
from core.jobs import run_pending
from core.models import Order, OrderStatus, Shipment, StockLevel, utcnow


def drain(clock=None, rounds: int = 20) -> int:
    """Run every due job (and the ones they queue), moving the emulator's clock past delays."""
    ran = 0
    for _ in range(rounds):
        n = run_pending(now=utcnow() + timedelta(days=2))
        if clock is not None:
            clock.advance(120)
        if not n:
            break
        ran += n
    return ran


def order_of(purchaseid: str) -> Order:
    return db.session.scalar(sa.select(Order).where(Order.external_id == purchaseid))


def test_sale_accepted_item_by_item_stock_pushed_and_tracking_sent(app, emu, rakuten_shop, catalog, clock):
    variants = catalog({"TSH-BLA-M": 5, "MUG-STD": 3})
    shop = rakuten_shop()
    sale = emu.add_sale([("TSH-BLA-M", "19.90", "T-shirt noir M"), ("TSH-BLA-M", "19.90", "T-shirt noir M"),
                         ("MUG-STD", "9.50", "Mug")], email="camille@example.fr")

    assert "1 nouvelle(s) vente(s)" in jobs.sync_orders(shop.id)
    order = order_of(sale.purchaseid)
    assert order.number == f"RK-{sale.purchaseid}" and order.status == OrderStatus.ALLOCATED
    assert [ln.external_id for ln in order.lines] == [i.itemid for i in sale.items]
    assert all(ln.quantity == 1 for ln in order.lines) and order.total == sum(i.price for i in sale.items)
    assert order.email == "camille@example.fr" and order.shipping_address["city"] == "Lyon"

    drain(clock)  # the decision: one acceptsale per item
    assert emu.accepted == [i.itemid for i in sale.items]
    assert {i.status for i in sale.items} == {"ACCEPTED"}
    rows = db.session.scalars(sa.select(RakutenItem).where(RakutenItem.order_id == order.id)).all()
    assert {r.decision for r in rows} == {"accepted"} and not any(r.pending_action for r in rows)

    # stock: the reservation changed the sellable figures → one file, counted once reported
    assert emu.files, "a stock file was sent"
    imp = db.session.scalars(sa.select(RakutenStockImport).order_by(RakutenStockImport.id.desc())).first()
    assert imp.state == "done" and imp.sent["TSH-BLA-M"] == 3 and imp.sent["MUG-STD"] == 2
    assert emu.adverts["TSH-BLA-M"] == 3 and emu.adverts["MUG-STD"] == 2
    offer = db.session.scalar(sa.select(RakutenOffer).where(RakutenOffer.sku == "MUG-STD"))
    assert offer.pushed_quantity == 2 and offer.push_error is None and offer.variant_id == variants["MUG-STD"].id

    # shipment of two items with Colissimo, then the last one with an unknown carrier and its URL
    first = Shipment(order_id=order.id, carrier="manual", service="Colissimo Domicile", tracking_number="6A1234")
    order_flow.ship(order, first, [(order.lines[0], 1), (order.lines[1], 1)])
    db.session.commit()
    drain(clock)
    assert sale.items[0].tracking == {"transporter_name": "Colissimo", "tracking_number": "6A1234"}
    assert sale.items[1].status == "SHIPPED" and sale.items[2].tracking == {}
    second = Shipment(order_id=order.id, carrier="manual", service="Coursier du coin", tracking_number="CC-9",
                      tracking_url="https://coursier.example/suivi/CC-9")
    order_flow.ship(order, second, [(order.lines[2], 1)])
    db.session.commit()
    drain(clock)
    assert sale.items[2].tracking == {"transporter_name": "Autre", "tracking_number": "CC-9",
                                      "tracking_url": "https://coursier.example/suivi/CC-9"}
    db.session.refresh(order)
    assert order.status == OrderStatus.SHIPPED
    # the stock left: the final figures went out again
    levels = {lv.variant_id: lv.on_hand for lv in db.session.scalars(sa.select(StockLevel))}
    assert levels[variants["TSH-BLA-M"].id] == 3


def test_a_second_sync_changes_nothing_and_never_accepts_twice(app, emu, rakuten_shop, catalog, clock):
    catalog({"TSH-BLA-M": 5})
    shop = rakuten_shop()
    sale = emu.add_sale([("TSH-BLA-M", "19.90")])
    jobs.sync_orders(shop.id)
    drain(clock)
    jobs.sync_orders(shop.id)
    jobs.sync_orders(shop.id)
    drain(clock)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Order)) == 1
    assert emu.accepted == [sale.items[0].itemid]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RakutenItem)) == 1
