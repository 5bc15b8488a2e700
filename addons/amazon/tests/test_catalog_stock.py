"""Catalog Amazon → OMS, stock OMS → Amazon (patch and feed), FBA stock Amazon → OMS."""
from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from addons.amazon import jobs, stock_sync
from addons.amazon.models import AmazonCatalogImport, AmazonFeed, AmazonListing
from addons.amazon.runtime import client_for
from addons.amazon.sandbox import DE, FBA_CHANNEL, FR, make_order, seed_demo
from core import stock
from core.extensions import db
from core.jobs import run_pending
from core.models import FulfillmentChannel, Order, StockLevel, VariantBinding, Warehouse, utcnow

DEMO_SKUS = {"TCB-BLA-S": 7, "TCB-BLA-M": 4, "TCB-NOI-M": 3, "BPF-STD": 2, "TBL-NAT": 9, "CAP-STD": 6}


def drain() -> int:
    ran = 0
    while (n := run_pending(now=utcnow() + timedelta(days=2))):
        ran += n
    return ran


def listings(shop) -> dict[tuple[str, str], AmazonListing]:
    return {(ln.sku, ln.marketplace_id): ln for ln in db.session.scalars(
        sa.select(AmazonListing).where(AmazonListing.shop_id == shop.id))}


def fba_level(shop, variant) -> int:
    wh = db.session.scalar(sa.select(Warehouse).where(Warehouse.shop_id == shop.id))
    lvl = db.session.scalar(sa.select(StockLevel).where(StockLevel.variant_id == variant.id,
                                                        StockLevel.warehouse_id == wh.id))
    return lvl.on_hand if lvl else 0


def test_listings_import_matches_by_sku_and_reports_the_rest(app, emu, amazon_shop, catalog, client, login):
    seed_demo(emu)
    variants = catalog(DEMO_SKUS)
    shop = amazon_shop(marketplaces=[FR])

    assert drain() >= 1  # the import queued by the first successful connection test
    db.session.expire_all()

    run = db.session.scalar(sa.select(AmazonCatalogImport).where(AmazonCatalogImport.shop_id == shop.id))
    assert run.state == "done" and run.matched == 6 and run.unmatched == 1
    got = listings(shop)
    shirt = got[("TCB-BLA-M", FR)]
    assert shirt.variant_id == variants["TCB-BLA-M"].id and shirt.asin and shirt.asin.startswith("B0")
    assert shirt.product_type == "SHIRT" and str(shirt.price) == "19.90" and shirt.currency == "EUR"
    assert shirt.images and shirt.parent_sku == "TCB-PARENT"
    assert set(shirt.channels) == {"DEFAULT", FBA_CHANNEL}  # sold both FBM and FBA
    assert got[("TCB-PARENT", FR)].is_parent and got[("TCB-PARENT", FR)].variation_theme
    assert got[("AMZ-LOT3-BOUGIES", FR)].variant_id is None
    binding = db.session.scalar(sa.select(VariantBinding).where(VariantBinding.shop_id == shop.id,
                                                                VariantBinding.variant_id == variants["TCB-BLA-S"].id))
    assert binding.external_id == "TCB-BLA-S" and binding.data["asin"] == got[("TCB-BLA-S", FR)].asin

    login(client)
    assert client.get("/apps/amazon/").headers["Location"].endswith(f"/apps/amazon/shops/{shop.id}")
    assert 'href="/apps/amazon/"' in client.get("/integrations/").get_data(as_text=True)  # "Ouvrir"
    page = client.get(f"/apps/amazon/shops/{shop.id}").get_data(as_text=True)
    assert 'data-sku="AMZ-LOT3-BOUGIES"' in page and "Lot de 3 bougies" in page
    assert 'data-sku="TCB-BLA-S"' not in page.split('id="unmatched"')[1].split("</table>")[0]


def _connected_with_listings(emu, amazon_shop, catalog, marketplaces=(FR,)):
    seed_demo(emu)
    variants = catalog(DEMO_SKUS)
    shop = amazon_shop(marketplaces=list(marketplaces))
    drain()
    db.session.expire_all()
    return shop, variants


def test_a_stock_change_is_patched_for_fbm_offers_only(app, emu, amazon_shop, catalog, org):
    shop, variants = _connected_with_listings(emu, amazon_shop, catalog)
    emu.patches.clear()
    wh = db.session.scalar(sa.select(Warehouse).where(Warehouse.code == "PAR"))

    stock.adjust(org.id, variants["TCB-BLA-M"].id, wh.id, 5, reason="réception", user_id=None)
    stock.adjust(org.id, variants["BPF-STD"].id, wh.id, 5, reason="réception", user_id=None)
    db.session.commit()
    drain()  # core's coalesced push → hook → push job

    assert [(sku, body["patches"][0]["value"][0]["quantity"]) for sku, body in emu.patches] == [("TCB-BLA-M", 9)]
    assert emu.patches[0][1]["patches"][0]["op"] == "merge"  # the FBA entry of the same SKU is kept
    assert emu.listings["TCB-BLA-M"].channels == {"DEFAULT": 9, FBA_CHANNEL: 25}
    assert listings(shop)[("TCB-BLA-M", FR)].pushed_quantity == 9
    # BPF-STD is FBA only: never pushed as FBM stock


def test_many_skus_go_by_feed_and_a_rejected_sku_is_reported(app, emu, amazon_shop, catalog, monkeypatch, client,
                                                             login):
    shop, variants = _connected_with_listings(emu, amazon_shop, catalog, marketplaces=(FR, DE))
    emu.listings["TBL-NAT"].missing = ["batteries_required"]
    monkeypatch.setattr(stock_sync, "FEED_PROCESSING_ESTIMATE", 0.0)  # a feed is then always faster

    message = jobs.reconcile_stock(shop.id)
    db.session.commit()

    assert "JSON_LISTINGS_FEED" in message
    feeds = db.session.scalars(sa.select(AmazonFeed).where(AmazonFeed.shop_id == shop.id)).all()
    assert {f.marketplace_id for f in feeds} == {FR, DE} and all(f.status == "DONE" for f in feeds)
    assert emu.operations["createFeed"] == 2 and emu.operations["patchListingsItem"] == 0
    got = listings(shop)
    assert got[("TBL-NAT", FR)].push_error and "batteries_required" in got[("TBL-NAT", FR)].push_error
    assert got[("TCB-BLA-S", FR)].pushed_quantity == 7 and got[("TCB-BLA-S", FR)].push_error is None
    assert emu.listings["TCB-BLA-S"].channels["DEFAULT"] == 7
    fr_feed = next(f for f in feeds if f.marketplace_id == FR)
    assert fr_feed.summary["messagesInvalid"] == 1 and fr_feed.issues[0]["sku"] == "TBL-NAT"

    login(client)
    page = client.get(f"/apps/amazon/shops/{shop.id}").get_data(as_text=True)
    assert 'id="rejected"' in page and "batteries_required" in page and 'data-sku="TBL-NAT"' in page


def test_push_method_follows_the_documented_rates(app, emu, amazon_shop):
    shop = amazon_shop()
    client = client_for(shop)
    assert stock_sync.choose_method(client, 5, 1) == "patch"
    assert stock_sync.choose_method(client, 1000, 1) == "patch"  # 199 s of patches < a feed
    assert stock_sync.choose_method(client, 5000, 1) == "feed"


def test_fba_stock_is_read_into_the_fba_warehouse_and_fba_orders_use_it(app, emu, amazon_shop, catalog, org):
    shop, variants = _connected_with_listings(emu, amazon_shop, catalog)
    for n in range(60):  # more than one page of inventory summaries
        emu.fba[f"FBA-ONLY-{n:02d}"] = 1

    assert "FBA : 3 SKU" in jobs.reconcile_stock(shop.id)
    db.session.commit()
    assert fba_level(shop, variants["TCB-BLA-M"]) == 25 and fba_level(shop, variants["CAP-STD"]) == 18
    assert emu.operations["getInventorySummaries"] == 2
    # FBA units are not offered as FBM stock
    assert stock.available_to_sell(shop, [variants["TCB-BLA-M"].id])[variants["TCB-BLA-M"].id] == 4

    jobs.sync_orders(shop.id)  # the demo account's own orders first
    db.session.commit()
    par = db.session.scalar(sa.select(Warehouse).where(Warehouse.code == "PAR"))

    def own_reserved() -> int:
        return db.session.scalar(sa.select(StockLevel.reserved).where(
            StockLevel.variant_id == variants["TCB-BLA-M"].id, StockLevel.warehouse_id == par.id))

    fba_before, own_before = fba_level(shop, variants["TCB-BLA-M"]), own_reserved()
    now = emu.clock.time()
    emu.add_order(make_order("302-4444444-4444444", marketplace=FR, fulfilled_by="AMAZON", status="UNSHIPPED",
                             items=[("TCB-BLA-M", 2, "19.90")], created=now - 60))
    emu.add_order(make_order("402-5555555-5555555", marketplace=FR, items=[("TCB-BLA-M", 1, "19.90")],
                             created=now - 30))
    emu.clock.advance(15 * 60)
    jobs.sync_orders(shop.id)
    db.session.commit()
    orders = {o.external_id: o for o in db.session.scalars(sa.select(Order))}
    assert orders["302-4444444-4444444"].fulfillment_channel == FulfillmentChannel.MARKETPLACE
    assert fba_level(shop, variants["TCB-BLA-M"]) == fba_before - 2  # shipped by Amazon from FBA stock
    assert own_reserved() == own_before + 1  # the FBM order reserves own stock

    # the next FBA read puts Amazon's figure back
    emu.fba["TCB-BLA-M"] = 22
    jobs.refresh_fba(shop.id)
    db.session.commit()
    assert fba_level(shop, variants["TCB-BLA-M"]) == 22


def test_a_feed_still_processing_is_followed_by_a_job(app, emu, amazon_shop, catalog, monkeypatch):
    shop, variants = _connected_with_listings(emu, amazon_shop, catalog, marketplaces=(FR, DE))
    monkeypatch.setattr(stock_sync, "FEED_PROCESSING_ESTIMATE", 0.0)
    app.config["AMAZON_MAX_RATE_WAIT"] = 10  # a worker waits at most 10 s: the 30 s poll goes to a job

    assert "en traitement chez Amazon" in jobs.reconcile_stock(shop.id)
    db.session.commit()
    feeds = db.session.scalars(sa.select(AmazonFeed).where(AmazonFeed.shop_id == shop.id)).all()
    assert len(feeds) == 2 and all(f.status != "DONE" and f.finished_at is None for f in feeds)

    emu.clock.advance(600)
    app.config["AMAZON_MAX_RATE_WAIT"] = 3600
    drain()
    db.session.expire_all()
    assert all(db.session.get(AmazonFeed, f.id).status == "DONE" for f in feeds)
    assert listings(shop)[("TCB-BLA-S", FR)].pushed_quantity == 7
    assert listings(shop)[("TCB-BLA-S", DE)].pushed_quantity == 7
