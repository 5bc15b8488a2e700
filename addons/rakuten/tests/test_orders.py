"""Sales in: states mapped, unknown SKUs held, cancellations both ways, items that move
back, pick-up points, sales Rakuten ships itself."""
from __future__ import annotations

import sqlalchemy as sa

from addons.rakuten import jobs, mapping
from addons.rakuten.models import RakutenItem
from core import orders as order_flow
from core.extensions import db
from core.intake import map_sku
from core.models import FulfillmentChannel, Order, OrderStatus, Shipment, StockLevel

from .test_flow import drain, order_of


def reserved(variant) -> int:
    return db.session.scalar(sa.select(sa.func.sum(StockLevel.reserved)).where(StockLevel.variant_id == variant.id))


def test_states_are_mapped_and_an_unknown_state_is_kept():
    assert mapping.meaning("requested") == mapping.TO_ACCEPT and mapping.meaning("CLOSED") == mapping.SHIPPED
    assert mapping.meaning("NEW_STATE_2027") is None
    assert mapping.newer("ACCEPTED", "REQUESTED") == "ACCEPTED"  # never back
    assert mapping.newer("ACCEPTED", "CANCELLED") == "CANCELLED"
    assert mapping.newer("ACCEPTED", "NEW_STATE_2027") == "NEW_STATE_2027"
    assert mapping.order_status(["CANCELLED", "REFUSED"]) == "cancelled"
    assert mapping.order_status(["SHIPPED", "CANCELLED"]) == "shipped"
    assert mapping.order_status(["ACCEPTED", "NEW_STATE_2027"]) == "open"
    assert mapping.parse_date("15/06/2026-14:30").isoformat() == "2026-06-15T12:30:00+00:00"


def test_unknown_sku_is_held_and_accepted_once_the_sku_is_known(app, emu, rakuten_shop, catalog, clock, org):
    variants = catalog({"TSH-BLA-M": 5})
    shop = rakuten_shop()
    sale = emu.add_sale([("TSH-BLA-M", "19.90"), ("VIEUX-REF", "5.00")])
    jobs.sync_orders(shop.id)
    drain(clock)
    order = order_of(sale.purchaseid)
    assert order.status == OrderStatus.ON_HOLD and "VIEUX-REF" in order.hold_reason
    assert emu.accepted == []  # nothing accepted while the order is held

    map_sku(org.id, "VIEUX-REF", variants["TSH-BLA-M"])
    db.session.commit()
    drain(clock)
    db.session.refresh(order)
    assert order.status == OrderStatus.ALLOCATED
    assert emu.accepted == [i.itemid for i in sale.items]


def test_the_buyer_cancels_after_acceptance_and_the_stock_comes_back(app, emu, rakuten_shop, catalog, clock):
    variants = catalog({"MUG-STD": 3})
    shop = rakuten_shop()
    sale = emu.add_sale([("MUG-STD", "9.50")])
    jobs.sync_orders(shop.id)
    drain(clock)
    assert reserved(variants["MUG-STD"]) == 1
    emu.cancel_by_buyer(sale.items[0].itemid)
    clock.advance(900)
    jobs.sync_orders(shop.id)
    order = order_of(sale.purchaseid)
    assert order.status == OrderStatus.CANCELLED and reserved(variants["MUG-STD"]) == 0
    drain(clock)
    assert not any(q.get("action") == "cancelitem" for q in emu.queries)  # Rakuten's own cancellation: not sent back


def test_an_item_no_list_shows_any_more_is_read_back(app, emu, rakuten_shop, catalog, clock):
    catalog({"MUG-STD": 3})
    shop = rakuten_shop()
    sale = emu.add_sale([("MUG-STD", "9.50")])
    jobs.sync_orders(shop.id)
    drain(clock)
    # Rakuten cancels the item, and its sale drops out of getcurrentsales (older than the window)
    emu.cancel_by_buyer(sale.items[0].itemid)
    sale.purchased -= 400 * 86400
    clock.advance(900)
    out = jobs.sync_orders(shop.id)
    assert "1 article(s) relu(s)" in out
    assert ("getiteminfos" in {q.get("action") for q in emu.queries})
    assert order_of(sale.purchaseid).status == OrderStatus.CANCELLED


def test_one_item_cancelled_of_two_is_told_in_the_history(app, emu, rakuten_shop, catalog, clock):
    catalog({"MUG-STD": 3, "TSH-BLA-M": 3})
    shop = rakuten_shop()
    sale = emu.add_sale([("MUG-STD", "9.50"), ("TSH-BLA-M", "19.90")])
    jobs.sync_orders(shop.id)
    drain(clock)
    emu.cancel_by_buyer(sale.items[0].itemid)
    jobs.sync_orders(shop.id)
    order = order_of(sale.purchaseid)
    assert order.status == OrderStatus.ALLOCATED
    assert any("annulé" in e.message and sale.items[0].itemid in e.message for e in order.events)


def test_a_stale_list_never_moves_an_item_back(app, emu, rakuten_shop, catalog, clock):
    catalog({"MUG-STD": 3})
    shop = rakuten_shop()
    sale = emu.add_sale([("MUG-STD", "9.50")])
    jobs.sync_orders(shop.id)
    drain(clock)
    # an old getnewsales answer still lists the item as REQUESTED (out of order)
    stale = mapping.Sale(purchaseid=sale.purchaseid, purchased_at=mapping.parse_date("01/12/2026-10:00"),
                         items=[mapping.Item(itemid=sale.items[0].itemid, sku="MUG-STD", status="REQUESTED",
                                             price=sale.items[0].price)])
    jobs.store_sales(shop, [stale])
    db.session.commit()
    row = db.session.scalar(sa.select(RakutenItem))
    assert row.status == "ACCEPTED" and row.decision == "accepted"
    drain(clock)
    assert emu.accepted == [sale.items[0].itemid]


def test_cancelled_in_the_oms_before_acceptance_refuses_each_item(app, emu, rakuten_shop, catalog, clock):
    catalog({"MUG-STD": 0})  # out of stock: waits in backorder, not accepted
    shop = rakuten_shop()
    sale = emu.add_sale([("MUG-STD", "9.50"), ("MUG-STD", "9.50")])
    jobs.sync_orders(shop.id)
    drain(clock)
    order = order_of(sale.purchaseid)
    assert order.status == OrderStatus.ON_HOLD and emu.accepted == []
    order_flow.cancel(order, reason="rupture de stock")
    db.session.commit()
    drain(clock)
    assert emu.refused == [i.itemid for i in sale.items]
    assert {i.status for i in sale.items} == {"REFUSED"}


def test_cancelled_in_the_oms_after_acceptance_cancels_each_item(app, emu, rakuten_shop, catalog, clock):
    catalog({"MUG-STD": 3})
    shop = rakuten_shop()
    sale = emu.add_sale([("MUG-STD", "9.50")])
    jobs.sync_orders(shop.id)
    drain(clock)
    order = order_of(sale.purchaseid)
    order_flow.cancel(order, reason="client injoignable")
    db.session.commit()
    drain(clock)
    assert sale.items[0].status == "CANCELLED"
    cancel = next(q for q in emu.queries if q.get("action") == "cancelitem")
    assert cancel["itemid"] == sale.items[0].itemid and cancel["comment"]


def test_pickup_point_and_sales_rakuten_ships_itself(app, emu, rakuten_shop, catalog, clock):
    catalog({"MUG-STD": 3, "TSH-BLA-M": 3})
    shop = rakuten_shop()
    relay = {"id": "024680", "network": "Mondial Relay", "name": "Tabac de la Gare", "address1": "3 place de la Gare",
             "zipcode": "69007", "city": "Lyon", "countryalpha2": "FR"}
    relayed = emu.add_sale([("MUG-STD", "9.50")], pickup=relay)
    shipped_by_rakuten = emu.add_sale([("TSH-BLA-M", "19.90")], full_rsl=True)
    answer = jobs.client_for(shop).new_sales()
    sales = {s.purchaseid: s for s in mapping.sales_of(answer.response)}
    norm = mapping.normalize(sales[relayed.purchaseid])
    assert norm.pickup_point.id == "024680" and norm.pickup_point.network == "mondialrelay"
    assert norm.pickup_point.address.city == "Lyon" and "pickup" in norm.tags
    jobs.sync_orders(shop.id)
    drain(clock)
    order = order_of(shipped_by_rakuten.purchaseid)
    assert order.fulfillment_channel == FulfillmentChannel.MARKETPLACE
    mine = order_of(relayed.purchaseid)
    assert mine.fulfillment_channel == FulfillmentChannel.MERCHANT and mine.status == OrderStatus.ALLOCATED


def test_an_unknown_item_state_is_shown_not_a_crash(app, emu, rakuten_shop, catalog, clock, client, login):
    catalog({"MUG-STD": 3})
    shop = rakuten_shop()
    sale = emu.add_sale([("MUG-STD", "9.50")])
    jobs.sync_orders(shop.id)
    drain(clock)
    sale.items[0].status = "AWAITING_CUSTOMS"
    jobs.sync_orders(shop.id)
    order = order_of(sale.purchaseid)
    assert order.status == OrderStatus.ALLOCATED
    assert any("AWAITING_CUSTOMS" in e.message for e in order.events)
    login(client)
    page = client.get(f"/apps/rakuten/shops/{shop.id}")
    assert page.status_code == 200 and "AWAITING_CUSTOMS" in page.get_data(as_text=True)


def test_tracking_for_an_unknown_carrier_without_url_is_a_clear_error(app, emu, rakuten_shop, catalog, clock):
    catalog({"MUG-STD": 3})
    shop = rakuten_shop()
    sale = emu.add_sale([("MUG-STD", "9.50")])
    jobs.sync_orders(shop.id)
    drain(clock)
    order = order_of(sale.purchaseid)
    shipment = Shipment(order_id=order.id, carrier="manual", service="Coursier", tracking_number="X1")
    order_flow.ship(order, shipment)
    db.session.commit()
    import pytest

    with pytest.raises(jobs.RakutenError) as err:
        jobs.push_tracking(shipment.id)
    assert "adresse de suivi" in str(err.value) and not err.value.retryable
    assert sale.items[0].tracking == {}
