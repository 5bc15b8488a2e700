"""Stock out: one STO01 file a minute per instance with the final figures (never OF24),
its status read (STO02), the errors per SKU (STO03), a 429 with or without Retry-After;
the emulator's OF24 and PRI01 behaviours."""
from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from addons.mirakl.jobs import push_stock
from addons.mirakl.models import MiraklStockImport
from core import stock
from core.extensions import db
from core.models import StockLevel

from .conftest import run_jobs


def _adjust(catalog, sku, delta):
    level = db.session.scalar(select(StockLevel).where(StockLevel.variant_id == catalog[sku].id))
    stock.adjust(catalog[sku].organization_id, catalog[sku].id, level.warehouse_id, delta, reason="inventaire", user_id=None)
    db.session.commit()
    stock.push_changes(catalog[sku].organization_id)  # core's fan-out job: the hook marks the variants
    db.session.commit()


def test_changes_coalesced_into_one_file_a_minute(app, make_shop, emu, clock, catalog):
    make_shop("carrefour")
    for delta in (1, 1, -1, 2):
        _adjust(catalog, "MUG-1", delta)
    _adjust(catalog, "TEE-1", 4)
    run_jobs(clock)
    files = [c for c in emu.kit.calls if c == ("POST", "/carrefour/api/offers/stock/imports")]
    assert len(files) == 1
    offers = emu.instances["carrefour"].offers
    assert offers["MUG-1"]["quantity"] == 13 and offers["TEE-1"]["quantity"] == 5
    assert not [c for c in emu.kit.calls if c == ("POST", "/carrefour/api/offers")]  # never OF24
    assert offers["MUG-1"]["description"] == "Un bel article"  # nothing else touched


def test_a_second_change_within_the_minute_waits_for_the_next_file(app, make_shop, emu, clock, catalog):
    shop = make_shop("carrefour")
    _adjust(catalog, "MUG-1", 1)
    assert "envoyée" in push_stock(shop.id)
    _adjust(catalog, "MUG-1", 1)
    assert push_stock(shop.id).startswith("regroupé")
    assert len([c for c in emu.kit.calls if c[1].endswith("/stock/imports")]) == 1
    run_jobs(clock)
    assert len([c for c in emu.kit.calls if c[1].endswith("/stock/imports")]) == 2
    assert emu.instances["carrefour"].offers["MUG-1"]["quantity"] == 12


def test_errors_reported_per_sku(app, make_shop, emu, clock, catalog):
    shop = make_shop("carrefour")
    del emu.instances["carrefour"].offers["TEE-1"]  # no offer for that SKU on the marketplace
    _adjust(catalog, "MUG-1", 1)
    _adjust(catalog, "TEE-1", 1)
    run_jobs(clock)
    imp = db.session.scalar(select(MiraklStockImport).where(MiraklStockImport.shop_id == shop.id))
    assert imp.status == "COMPLETE" and imp.lines_in_success == 1
    assert imp.errors == {"TEE-1": "The offer does not exist"}
    assert ("GET", f"/carrefour/api/offers/stock/imports/{imp.import_id}/error_report") in emu.kit.calls


def test_status_polled_no_faster_than_every_15_seconds(app, make_shop, emu, clock, catalog):
    emu.import_delay = 300.0  # five minutes of WAITING and RUNNING
    shop = make_shop("carrefour")
    _adjust(catalog, "MUG-1", 1)
    run_jobs(clock)
    stamps = emu.status_reads
    assert len(stamps) >= 3
    assert all(b - a >= 15 for a, b in zip(stamps, stamps[1:]))
    imp = db.session.scalar(select(MiraklStockImport).where(MiraklStockImport.shop_id == shop.id))
    assert imp.status == "COMPLETE"


@pytest.mark.parametrize("retry_after", [True, False])
def test_rate_limited_import_is_sent_again_later(app, make_shop, emu, clock, catalog, retry_after):
    emu.retry_after = retry_after
    shop = make_shop("carrefour")
    emu.instances["carrefour"].last_stock_import = clock.time()  # someone else imported a moment ago
    _adjust(catalog, "MUG-1", 1)
    assert "nouvel envoi" in push_stock(shop.id)
    run_jobs(clock)
    assert emu.instances["carrefour"].offers["MUG-1"]["quantity"] == 11
    statuses = [i.status for i in db.session.scalars(select(MiraklStockImport).order_by(MiraklStockImport.id))]
    assert statuses == ["RATE_LIMITED", "COMPLETE"]


def test_emulator_of24_resets_fields_and_pri01_replaces_prices(app, emu, base_url):
    key = {"Authorization": emu.instances["boulanger"].key}
    emu.add_offer("boulanger", "TV-1", quantity=5, price="499.00", description="Téléviseur", leadtime_to_ship=2)
    res = httpx.post(f"{base_url}/boulanger/api/offers", headers=key, json={"offers": [
        {"shop_sku": "TV-1", "product_id": "TV-1", "product_id_type": "SHOP_SKU", "price": 479.0,
         "state_code": "11", "update_delete": "update"}]})
    assert res.status_code == 201
    offer = emu.instances["boulanger"].offers["TV-1"]
    assert offer["quantity"] == 0 and offer["description"] is None and offer["leadtime_to_ship"] is None
    csv_text = "offer-sku;price;discount-price\nTV-1;469.00;\n"
    res = httpx.post(f"{base_url}/boulanger/api/offers/pricing/imports", headers=key,
                     files={"file": ("prices.csv", csv_text.encode(), "text/csv")})
    assert res.status_code == 201
    assert offer["prices"] == [{"price": "469.00", "discount_price": None, "channel_code": None}]
