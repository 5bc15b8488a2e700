"""Stock out: one coalesced inventory file per shop, counted done only when Rakuten's import
report says so, SKU by SKU; SKUs Rakuten does not know are reported and left out; Rakuten's
advice of 10 files an hour is kept; the nightly comparison fixes what differs."""
from __future__ import annotations

import sqlalchemy as sa

from addons.rakuten import jobs, mapping
from addons.rakuten.models import RakutenOffer, RakutenStockImport, RakutenStockPending
from addons.rakuten.sandbox import FILES_PER_HOUR
from datetime import timedelta

from core import stock
from core.extensions import db
from core.jobs import run_pending
from core.models import ChannelStockRule, OutboxJob, StockLevel, utcnow

from .test_flow import drain


def offer(sku: str) -> RakutenOffer:
    return db.session.scalar(sa.select(RakutenOffer).where(RakutenOffer.sku == sku))


def test_a_push_counts_only_once_the_report_says_so_and_errors_are_per_sku(app, emu, rakuten_shop, catalog, clock):
    variants = catalog({"MUG-STD": 4, "TSH-BLA-M": 7, "NOT-ON-RAKUTEN": 2})
    emu.adverts.update({"MUG-STD": 0, "TSH-BLA-M": 0})
    shop = rakuten_shop()
    jobs.mark_pending(shop, [v.id for v in variants.values()])
    db.session.commit()
    assert "3 référence(s) envoyée(s)" in jobs.push_stock(shop.id)
    imp = db.session.scalar(sa.select(RakutenStockImport))
    assert imp.state == "waiting" and imp.sent == {"MUG-STD": 4, "TSH-BLA-M": 7, "NOT-ON-RAKUTEN": 2}
    # Rakuten still processing: nothing counts yet
    out = jobs.check_import(imp.id)
    assert "traite le fichier" in out and imp.state == "waiting"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RakutenOffer)) == 0
    assert emu.adverts["MUG-STD"] == 0

    clock.advance(61)
    out = jobs.check_import(imp.id)
    assert "2 référence(s) à jour, 1 en erreur" in out
    assert imp.state == "done" and imp.ok_lines == 2 and imp.error_lines == 1
    assert offer("MUG-STD").pushed_quantity == 4 and offer("TSH-BLA-M").pushed_quantity == 7
    bad = offer("NOT-ON-RAKUTEN")
    assert bad.pushed_quantity is None and bad.unknown and "ADVERT_NOT_FOUND" in bad.push_error
    assert emu.adverts == {"MUG-STD": 4, "TSH-BLA-M": 7}

    # the next push leaves the unknown SKU out; the retry button sends it again
    jobs.mark_pending(shop, [v.id for v in variants.values()])
    db.session.commit()
    jobs.push_stock(shop.id)
    assert "NOT-ON-RAKUTEN" not in db.session.scalars(sa.select(RakutenStockImport)
                                                      .order_by(RakutenStockImport.id.desc())).first().sent
    clock.advance(61)
    drain(clock)
    assert "1 référence(s) renvoyée(s)" in jobs.retry_import_errors(shop.id)
    drain(clock)
    last = db.session.scalars(sa.select(RakutenStockImport).order_by(RakutenStockImport.id.desc())).first()
    assert last.sent == {"NOT-ON-RAKUTEN": 2}


def test_stock_changes_are_coalesced_into_one_file_with_the_channel_rule(app, emu, rakuten_shop, catalog, clock,
                                                                          org):
    variants = catalog({"MUG-STD": 10})
    emu.adverts["MUG-STD"] = 0
    shop = rakuten_shop()
    drain(clock)  # the first comparison at connection sends the figure
    assert offer("MUG-STD").pushed_quantity == 10
    files = len(emu.files)
    db.session.add(ChannelStockRule(organization_id=org.id, shop_id=shop.id, buffer=2, percentage=50, maximum=3))
    wh = db.session.scalar(sa.select(StockLevel.warehouse_id).where(StockLevel.variant_id == variants["MUG-STD"].id))
    for delta in (-1, -1, -2):  # three movements in a row: one push with the final figure
        stock.adjust(org.id, variants["MUG-STD"].id, wh, delta, reason="inventaire", user_id=None)
        db.session.commit()
    drain(clock)
    assert len(emu.files) == files + 1
    assert offer("MUG-STD").pushed_quantity == 2 and emu.adverts["MUG-STD"] == 2  # (6 - 2) × 50 %


def test_ten_files_an_hour_at_most_then_the_push_waits(app, emu, rakuten_shop, catalog, clock):
    variants = catalog({"MUG-STD": 10})
    emu.adverts["MUG-STD"] = 0
    shop = rakuten_shop()
    drain(clock)
    for qty in range(FILES_PER_HOUR + 2):
        jobs.mark_pending(shop, [variants["MUG-STD"].id])
        db.session.commit()
        out = jobs.push_stock(shop.id)
        if "limite" in out:
            break
        clock.advance(61)
        imp = db.session.scalars(sa.select(RakutenStockImport).order_by(RakutenStockImport.id.desc())).first()
        jobs.check_import(imp.id)
    assert "limite les envois" in out
    # nothing lost: the variant is still to send, and a push is queued for later
    assert db.session.scalar(sa.select(RakutenStockPending.variant_id)) == variants["MUG-STD"].id
    job = db.session.scalar(sa.select(OutboxJob).where(OutboxJob.func == "addons.rakuten.jobs.push_stock",
                                                       OutboxJob.state == "pending"))
    assert job is not None and job.run_after > utcnow()
    clock.advance(3600)
    assert run_pending(now=utcnow() + timedelta(hours=2)) >= 1
    assert db.session.scalar(sa.select(RakutenStockPending.variant_id)) is None


def test_the_nightly_comparison_sends_only_what_differs(app, emu, rakuten_shop, catalog, clock, org):
    variants = catalog({"MUG-STD": 4, "TSH-BLA-M": 7})
    emu.adverts.update({"MUG-STD": 0, "TSH-BLA-M": 0})
    shop = rakuten_shop()
    drain(clock)
    assert offer("MUG-STD").pushed_quantity == 4 and offer("TSH-BLA-M").pushed_quantity == 7
    level = db.session.scalar(sa.select(StockLevel).where(StockLevel.variant_id == variants["MUG-STD"].id))
    level.on_hand = 1  # changed behind the OMS's back (no movement): only the comparison sees it
    db.session.commit()
    assert "1 référence(s)" in jobs.reconcile_stock(shop.id)
    drain(clock)
    last = db.session.scalars(sa.select(RakutenStockImport).order_by(RakutenStockImport.id.desc())).first()
    assert last.sent == {"MUG-STD": 1} and emu.adverts["MUG-STD"] == 1
    assert jobs.reconcile_all() == 1


def test_the_inventory_file_is_what_the_schema_says(specs):
    body = mapping.inventory_file({"A-1": 3, "B-2": -4})
    assert specs.check_xml(body) == []
    assert b"<key>qty</key><value>0</value>" in body  # never a negative figure
