"""The progress of Amazon's long imports on the shop page: the first order backlog (pages
of searchOrders, or the orders report) and the listings import."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from addons.amazon import sync
from addons.amazon.sandbox import DE, FR, UK, make_order, seed_demo
from core import syncs
from core.extensions import db
from core.jobs import enqueue
from core.models import SyncLog

from .conftest import T0
from .test_catalog_stock import drain

HOUR = 3600


@pytest.fixture
def steps(monkeypatch) -> list[tuple[str, int, int | None]]:
    """Every figure the imports write, in order (unit, done, total)."""
    seen: list[tuple[str, int, int | None]] = []
    write = syncs.Progress._write

    def record(self):
        write(self)
        if self.entry_id is not None:
            seen.append((self.unit, self.done, self.total))

    monkeypatch.setattr(syncs.Progress, "_write", record)
    return seen


def _entry(shop, unit: str) -> SyncLog:
    db.session.expire_all()
    return db.session.scalar(sa.select(SyncLog).where(SyncLog.shop_id == shop.id, SyncLog.progress_unit == unit)
                             .order_by(SyncLog.id.desc()))


def _sync(shop) -> None:
    enqueue("addons.amazon.jobs.sync_orders", shop.id, shop_id=shop.id)
    db.session.commit()
    drain()


def test_the_first_backlog_tells_its_progress_page_by_page(app, emu, amazon_shop, catalog, client, login,
                                                           monkeypatch, steps):
    monkeypatch.setattr(sync, "PAGE_SIZE", 10)
    catalog({"TCB-BLA-S": 1000})
    shop = amazon_shop(marketplaces=[FR])
    for n in range(25):
        emu.add_order(make_order(f"402-{n:07d}-0000000", marketplace=FR, items=[("TCB-BLA-S", 1, "19.90")],
                                 created=T0.timestamp() - 20 * HOUR + n * 60))
    _sync(shop)

    entry = _entry(shop, "orders")
    assert (entry.progress_done, entry.progress_total, entry.progress_errors) == (25, 25, [])
    orders = [(d, t) for unit, d, t in steps if unit == "orders"]
    assert [d for d, _t in orders] == [0, 10, 20, 25, 25]
    assert orders[0][1] is None and orders[1][1] >= 10  # unknown, then the estimate, then exact
    assert orders[-1] == (25, 25)
    login(client)
    page = client.get(f"/apps/amazon/shops/{shop.id}").get_data(as_text=True)
    orders = page.split('id="orders"')[1].split("</section>")[0]
    assert "25 / 25 commandes importées" in orders and "Import des commandes" in orders
    # the next syncs (not a backlog) leave the figures of the first import alone
    _sync(shop)
    assert _entry(shop, "orders").id == entry.id


def test_the_report_path_counts_every_order_of_the_reports(app, emu, amazon_shop, catalog, monkeypatch, steps):
    catalog({"TCB-BLA-S": 1000, "BPF-STD": 1000})
    monkeypatch.setattr(sync, "PAGE_SIZE", 5)
    shop = amazon_shop(import_days=30)
    for n in range(120):
        merchant = n % 10 == 0
        emu.add_order(make_order(f"{402 + n % 3}-{n:07d}-0000001", marketplace=(FR, DE, UK)[n % 3],
                                 fulfilled_by="MERCHANT" if merchant else "AMAZON",
                                 status="UNSHIPPED" if merchant else "SHIPPED",
                                 items=[("TCB-BLA-S" if merchant else "BPF-STD", 1, "10.00")],
                                 created=T0.timestamp() - 30 * 24 * HOUR + 300 + n * 6 * HOUR))
    _sync(shop)

    entry = _entry(shop, "orders")
    assert (entry.progress_done, entry.progress_total) == (120, 120)
    orders = [(d, t) for unit, d, t in steps if unit == "orders"]
    assert len(orders) > 5 and all(t is None or d <= t for d, t in orders)


def test_the_listings_import_tells_its_progress(app, emu, amazon_shop, catalog, client, login):
    seed_demo(emu)
    catalog({"TCB-BLA-S": 7})
    shop = amazon_shop(marketplaces=[FR])
    drain()  # the import queued by the first successful connection test

    entry = _entry(shop, "listings")
    assert entry.progress_total and entry.progress_done == entry.progress_total
    login(client)
    page = client.get(f"/apps/amazon/shops/{shop.id}").get_data(as_text=True)
    section = page.split('id="listings"')[1].split("</section>")[0]
    assert f"{entry.progress_total} / {entry.progress_total} annonces importées" in section
