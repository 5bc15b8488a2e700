"""Stock out (bulk_update_price_quantity, 25 per call, 207 per-SKU errors, listings made
outside the Inventory API) and tracking out (carrier codes, cleaned numbers, 32300 in French,
an unanswered call checked before it is repeated)."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from addons.ebay import jobs, mapping
from addons.ebay.models import EbayFulfillment, EbayListing
from core import orders as order_flow
from core import stock as core_stock
from core.extensions import db
from core.models import Order, Shipment, StockLevel
from core.types import StockChange


def test_carrier_codes_and_tracking_numbers():
    assert mapping.carrier_code("colissimo") == "Colissimo"
    assert mapping.carrier_code("Mondial Relay") == "MondialRelay"
    assert mapping.carrier_code("sendcloud", "Chronopost 13h") == "Chronopost"
    assert mapping.carrier_code("manual", None) == "Other"
    assert mapping.clean_tracking(" 6a 1234-5678 9 ") == "6A123456789"


def test_stock_goes_out_25_skus_per_call(app, ebay_shop, emu, catalog):
    skus = [f"SKU{n:03d}" for n in range(30)]
    for sku in skus:
        emu.add_listing(sku, f"Objet {sku}", "10.00", 1)
    catalog({sku: n + 2 for n, sku in enumerate(skus)})
    shop = ebay_shop()
    jobs.import_listings(shop.id)
    jobs.mark_pending(shop, [ln.variant_id for ln in db.session.scalars(select(EbayListing)) if ln.variant_id])
    db.session.commit()

    assert jobs.push_stock(shop.id).startswith("30 quantité(s) envoyée(s)")
    bulk = [body for m, p, body in emu.kit.requests if p == "/sell/inventory/v1/bulk_update_price_quantity"]
    assert [len(b["requests"]) for b in bulk] == [25, 5]
    assert emu.quantity("SKU007") == (9, [9])
    # nothing changed: nothing sent
    jobs.mark_pending(shop, [ln.variant_id for ln in db.session.scalars(select(EbayListing)) if ln.variant_id])
    db.session.commit()
    jobs.push_stock(shop.id)
    assert len([1 for m, p, b in emu.kit.requests if p == "/sell/inventory/v1/bulk_update_price_quantity"]) == 2


def test_the_hook_coalesces_changes_into_one_push(app, ebay_shop, emu, catalog, run_jobs):
    variants = catalog({"TCB-BLA-M": 4, "BPF-STD": 2})
    shop = ebay_shop()
    jobs.import_listings(shop.id)
    from core.addons import call

    for qty in (4, 3, 2):
        call(shop, "stock_available_changed", changes=[StockChange("TCB-BLA-M", variants["TCB-BLA-M"].id, qty)])
    call(shop, "stock_available_changed", changes=[StockChange("BPF-STD", variants["BPF-STD"].id, 2)])
    run_jobs()
    bulk = [b for m, p, b in emu.kit.requests if p == "/sell/inventory/v1/bulk_update_price_quantity"]
    assert len(bulk) == 1 and sorted(r["sku"] for r in bulk[0]["requests"]) == ["BPF-STD", "TCB-BLA-M"]
    assert emu.quantity("TCB-BLA-M") == (4, [4])


def test_207_per_sku_errors_and_listings_outside_the_inventory_api(app, ebay_shop, emu, catalog):
    variants = catalog({"TCB-BLA-M": 4, "TBL-TER": 6})
    shop = ebay_shop()
    jobs.import_listings(shop.id)
    # an order of the Seller Hub listing reveals it
    emu.place_order([("TBL-TER", 1)], notify=False)
    jobs.sync_orders(shop.id)
    foreign = db.session.scalar(select(EbayListing).where(EbayListing.sku == "TBL-TER"))
    assert foreign is not None and not foreign.inventory_api and foreign.legacy_item_id == "110556677881"
    assert "hors de l'API Inventory" in foreign.push_error
    # an item deleted on eBay since the import: 207, its error kept on its row
    del emu.state.items["TCB-BLA-M"]
    jobs.mark_pending(shop, [variants["TCB-BLA-M"].id, variants["TBL-TER"].id])
    db.session.commit()
    result = jobs.push_stock(shop.id)
    assert result == "0 quantité(s) envoyée(s), 1 refusée(s), 1 non gérée(s)"
    gone = db.session.scalar(select(EbayListing).where(EbayListing.sku == "TCB-BLA-M"))
    assert "n'existe pas dans l'API Inventory" in gone.push_error and "25702" in gone.push_error
    assert "stock non géré" in db.session.get(EbayListing, foreign.id).push_error

    # the merchant migrates it: bulkMigrateListing, then its stock is managed
    assert jobs.migrate_listings(shop.id) == "1 annonce(s) migrée(s) sur 2"
    assert "migration refusée par eBay" in db.session.get(EbayListing, gone.id).push_error
    foreign = db.session.get(EbayListing, foreign.id)
    assert foreign.inventory_api and foreign.offer_ids and foreign.push_error is None
    from .conftest import drain

    drain()
    assert emu.quantity("TBL-TER")[0] == core_stock.available_to_sell(shop, [variants["TBL-TER"].id])[
        variants["TBL-TER"].id]


def _imported_order(shop, emu, lines):
    order = emu.place_order(lines, notify=False)
    jobs.sync_orders(shop.id)
    return order, db.session.scalar(select(Order).where(Order.external_id == order["orderId"]))


def test_refused_tracking_is_explained_in_french(app, ebay_shop, emu, catalog, run_jobs):
    catalog({"CAP-STD": 10})
    shop = ebay_shop()
    order, oms = _imported_order(shop, emu, [("CAP-STD", 1)])
    order_flow.ship(oms, Shipment(carrier="colissimo", tracking_number="6A-1"))
    db.session.commit()
    run_jobs()
    row = db.session.scalar(select(EbayFulfillment))
    assert row.state == "error" and "numéro de suivi ou transporteur refusé" in row.error and "32300" in row.error
    oms = db.session.get(Order, oms.id)
    assert any("suivi non transmis à eBay" in e.message and "32300" in e.message for e in oms.events)
    assert order["orderId"] not in emu.state.fulfillments


def test_an_unanswered_tracking_call_is_checked_before_it_is_repeated(app, ebay_shop, emu, catalog):
    catalog({"CAP-STD": 10})
    shop = ebay_shop()
    order, oms = _imported_order(shop, emu, [("CAP-STD", 1)])
    shipment = Shipment(carrier="dpd", tracking_number="DPD0001")
    order_flow.ship(oms, shipment)
    db.session.commit()
    path = f"/sell/fulfillment/v1/order/{order['orderId']}/shipping_fulfillment"
    emu.kit.fail_next("timeout", hang=0.1, path=path)
    with pytest.raises(Exception):
        jobs.push_tracking(shipment.id)
    assert db.session.scalar(select(EbayFulfillment.state)) == "sending"
    # eBay had in fact recorded it (the answer was lost): the retry reads, finds it, sends nothing
    emu.state.fulfillments[order["orderId"]] = [{"fulfillmentId": "DPD0001", "shipmentTrackingNumber": "DPD0001",
                                                 "shippingCarrierCode": "DPD", "shippedDate": "2026-11-29T10:00:00.000Z",
                                                 "lineItems": [{"lineItemId": oms.lines[0].external_id, "quantity": 1}]}]
    posts = emu.kit.calls.count(("POST", path))
    assert jobs.push_tracking(shipment.id) == "DPD0001"
    assert emu.kit.calls.count(("POST", path)) == posts
    assert db.session.scalar(select(EbayFulfillment.state)) == "sent"
    assert db.session.scalar(select(func.count()).select_from(EbayFulfillment)) == 1
    assert StockLevel  # imported for readers
