"""Orders Amazon → OMS: windows and pages, FBA and FBM, updates, marketplaces, the backlog
path, 429 storms, notifications and a revoked authorisation."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from addons.amazon import jobs, sync
from addons.amazon.client import token_cache
from addons.amazon.clock import iso
from addons.amazon.models import AmazonOrder, AmazonSyncState
from addons.amazon.sandbox import DE, FR, UK, make_order
from core.extensions import db
from core.jobs import run_pending
from core.syncs import schedule_due_syncs
from core.models import (
    ConnectionStatus,
    FulfillmentChannel,
    LineSource,
    Order,
    OrderStatus,
    PaymentStatus,
    ServiceLevel,
    StockLevel,
    Warehouse,
    WarehouseKind,
    utcnow,
)

from .conftest import T0

HOUR = 3600


def orders_of(shop) -> dict[str, Order]:
    return {o.external_id: o for o in db.session.scalars(sa.select(Order).where(Order.shop_id == shop.id))}


def level(variant, code: str = "PAR") -> StockLevel:
    return db.session.scalar(sa.select(StockLevel).join(Warehouse, Warehouse.id == StockLevel.warehouse_id)
                             .where(StockLevel.variant_id == variant.id, Warehouse.code == code))


def drain() -> int:
    ran = 0
    while (n := run_pending(now=utcnow() + timedelta(days=2))):
        ran += n
    return ran


def test_fba_and_fbm_orders_of_three_marketplaces_in_one_import(app, emu, amazon_shop, catalog):
    variants = catalog({"TCB-BLA-S": 10, "BPF-STD": 5})
    shop = amazon_shop()
    emu.add_order(make_order("402-0000001-0000001", marketplace=FR, items=[("TCB-BLA-S", 2, "19.90")],
                             created=T0.timestamp() - 3 * HOUR, prime=True, level="NEXT_DAY", buyer="Camille Dubois"))
    emu.add_order(make_order("302-0000002-0000002", marketplace=DE, fulfilled_by="AMAZON", status="SHIPPED",
                             items=[("BPF-STD", 1, "24.00")], created=T0.timestamp() - 2 * HOUR))
    emu.add_order(make_order("202-0000003-0000003", marketplace=UK, status="PENDING",
                             items=[("TCB-BLA-S", 1, "17.10")], created=T0.timestamp() - HOUR, level="EXPEDITED"))

    message = jobs.sync_orders(shop.id)
    db.session.commit()

    assert message.startswith("3 commande(s) créée(s)")
    got = orders_of(shop)
    fbm, fba, pending = got["402-0000001-0000001"], got["302-0000002-0000002"], got["202-0000003-0000003"]
    assert fbm.fulfillment_channel == FulfillmentChannel.MERCHANT and fbm.status == OrderStatus.ALLOCATED
    assert fbm.service_level == ServiceLevel.PRIME and fbm.payment_status == PaymentStatus.PAID
    assert fbm.total == Decimal("39.80") and fbm.currency == "EUR" and "Amazon.fr" in fbm.tags
    assert fbm.shipping_address["name"] == "Camille Dubois" and fbm.shipping_address["country"] == "FR"
    assert fbm.lines[0].external_id and fbm.lines[0].reserved_quantity == 2
    assert fba.fulfillment_channel == FulfillmentChannel.MARKETPLACE and fba.status == OrderStatus.SHIPPED
    fba_wh = db.session.scalar(sa.select(Warehouse).where(Warehouse.shop_id == shop.id))
    assert fba_wh.kind == WarehouseKind.MARKETPLACE
    assert fba.lines[0].source == LineSource.MARKETPLACE and fba.lines[0].warehouse_id == fba_wh.id
    assert pending.payment_status == PaymentStatus.PENDING and pending.currency == "GBP"
    assert pending.service_level == ServiceLevel.EXPRESS
    assert pending.lines[0].reserved_quantity == 1  # pending: stock reserved, not picked
    # FR and UK draw on the one central stock
    assert level(variants["TCB-BLA-S"]).reserved == 3
    assert level(variants["BPF-STD"]).reserved == 0
    facts = {r.amazon_order_id: r.marketplace_id for r in db.session.scalars(sa.select(AmazonOrder))}
    assert facts == {"402-0000001-0000001": FR, "302-0000002-0000002": DE, "202-0000003-0000003": UK}
    assert shop.sync_cursor == iso(T0 - timedelta(minutes=2))
    assert emu.operations["searchOrders"] == 1

    # the next run reads from the cursor (with overlap): nothing new, nothing twice
    emu.clock.advance(15 * 60)
    assert jobs.sync_orders(shop.id).startswith("0 commande(s) créée(s), 0 mise(s) à jour")
    db.session.commit()
    assert len(orders_of(shop)) == 3


@pytest.fixture
def small_pages(monkeypatch):
    """Pages of 10 orders: the paging logic is the same, the tests stay fast."""
    monkeypatch.setattr(sync, "PAGE_SIZE", 10)


def test_many_pages_are_followed(app, emu, amazon_shop, catalog, small_pages):
    catalog({"TCB-BLA-S": 1000})
    shop = amazon_shop()
    for n in range(25):
        emu.add_order(make_order(f"402-{n:07d}-0000000", marketplace=FR, items=[("TCB-BLA-S", 1, "19.90")],
                                 created=T0.timestamp() - 20 * HOUR + n * 60))

    jobs.sync_orders(shop.id)
    db.session.commit()

    assert len(orders_of(shop)) == 25
    assert emu.operations["searchOrders"] == 3
    state = db.session.get(AmazonSyncState, shop.id)
    assert state.path is None and state.decision["chosen"] == "search"


def test_an_order_updated_then_cancelled_after_import(app, emu, amazon_shop, catalog, clock):
    variants = catalog({"TCB-BLA-S": 10})
    shop = amazon_shop()
    emu.add_order(make_order("402-1111111-1111111", marketplace=FR, status="PENDING",
                             items=[("TCB-BLA-S", 2, "19.90")], created=T0.timestamp() - HOUR))
    jobs.sync_orders(shop.id)
    db.session.commit()
    order = orders_of(shop)["402-1111111-1111111"]
    assert order.payment_status == PaymentStatus.PENDING and not order.shipping_address.get("line1")

    clock.advance(10 * 60)
    emu.update_order("402-1111111-1111111", status="UNSHIPPED")  # payment authorised: address known
    clock.advance(15 * 60)
    jobs.sync_orders(shop.id)
    db.session.commit()
    db.session.refresh(order)
    assert order.payment_status == PaymentStatus.PAID and order.shipping_address["line1"] == "3 place Bellecour"
    assert level(variants["TCB-BLA-S"]).reserved == 2

    emu.update_order("402-1111111-1111111", status="CANCELLED")
    clock.advance(15 * 60)
    jobs.sync_orders(shop.id)
    db.session.commit()
    db.session.refresh(order)
    assert order.status == OrderStatus.CANCELLED
    assert level(variants["TCB-BLA-S"]).reserved == 0  # released
    assert len(orders_of(shop)) == 1


def test_large_backlog_takes_the_report_path_when_faster(app, emu, amazon_shop, catalog, monkeypatch):
    catalog({"TCB-BLA-S": 1000, "BPF-STD": 1000})
    monkeypatch.setattr(sync, "PAGE_SIZE", 5)  # 120 orders are then 24 pages of searchOrders
    shop = amazon_shop(import_days=30)
    for n in range(120):
        merchant = n % 10 == 0
        status = "UNSHIPPED" if merchant else ("CANCELLED" if n % 10 == 5 else "SHIPPED")
        created = T0.timestamp() - 30 * 24 * HOUR + 300 + n * 6 * HOUR
        emu.add_order(make_order(f"{402 + n % 3}-{n:07d}-0000001", marketplace=(FR, DE, UK)[n % 3],
                                 fulfilled_by="MERCHANT" if merchant else "AMAZON", status=status,
                                 items=[("TCB-BLA-S" if merchant else "BPF-STD", 1, "10.00")], created=created))

    jobs.sync_orders(shop.id)
    db.session.commit()

    state = db.session.get(AmazonSyncState, shop.id)
    assert state.decision["chosen"] == "report"
    assert state.decision["search_seconds"] > state.decision["report_seconds"]
    got = orders_of(shop)
    assert len(got) == 120
    assert emu.operations["createReport"] == 3  # one orders report per marketplace
    # getOrder only for the open FBM orders the first searchOrders page did not bring
    assert emu.operations["searchOrders"] == 1 and emu.operations["getOrder"] == 11
    open_fbm = [o for o in got.values() if o.fulfillment_channel == FulfillmentChannel.MERCHANT]
    assert all(o.shipping_address.get("line1") and all(ln.external_id for ln in o.lines) for o in open_fbm)
    cancelled = [o for o in got.values() if o.status == OrderStatus.CANCELLED]
    assert len(cancelled) == 12
    assert shop.sync_cursor == state.window_before and state.path is None


def test_decision_follows_the_documented_rates(app, emu, amazon_shop):
    shop = amazon_shop()
    from addons.amazon.runtime import client_for

    client = client_for(shop)
    after = T0 - timedelta(days=30)
    page = [make_order(f"402-{n:07d}-0000000", marketplace=FR, status="SHIPPED", fulfilled_by="AMAZON",
                       items=[("X", 1, "1.00")], created=after + timedelta(minutes=4 * n)) for n in range(100)]
    # 100 orders in 400 minutes of a 30-day window: about 10,800 orders
    big = sync.decide(client, page, after, T0, 3)
    assert 10_000 < big["estimated_orders"] < 11_500
    assert big["chosen"] == "report"
    # about 110 pages, 20 at once (burst), the rest one per 1/0.0056 s
    assert big["search_seconds"] == pytest.approx((110 - 1 - 20) / 0.0056, rel=0.03)
    assert big["report_seconds"] == pytest.approx(sync.REPORT_PROCESSING_ESTIMATE, rel=0.01)
    small = sync.decide(client, page[:100], after, after + timedelta(minutes=600), 3)
    assert small["estimated_orders"] < 200 and small["chosen"] == "search"


def test_a_429_storm_is_weathered_without_losing_data(app, emu, amazon_shop, catalog, clock, small_pages):
    catalog({"TCB-BLA-S": 1000})
    shop = amazon_shop()
    for n in range(23):
        emu.add_order(make_order(f"402-{n:07d}-0000002", marketplace=FR, items=[("TCB-BLA-S", 1, "19.90")],
                                 created=T0.timestamp() - 10 * HOUR + n * 60))
    emu.fail_next("searchOrders", 429, 429, 503, 429, 500, 429)
    from addons.amazon.client import CallStats

    stats = CallStats()
    app.config["AMAZON_STATS"] = stats

    jobs.sync_orders(shop.id)
    db.session.commit()

    assert len(orders_of(shop)) == 23
    assert stats.throttled["searchOrders"] == 4 and stats.server_errors == 2
    # three pages, six refused calls, and the window that catches up with the time lost in backoff
    assert stats.calls["searchOrders"] == 3 + 6 + 1
    assert clock.slept > 15 * 60  # backed off on the simulated clock


def test_too_many_429s_fail_the_job_but_lose_nothing_and_keep_the_sync_on(app, emu, amazon_shop, catalog,
                                                                          small_pages):
    catalog({"TCB-BLA-S": 1000})
    shop = amazon_shop()
    for n in range(15):
        emu.add_order(make_order(f"402-{n:07d}-0000003", marketplace=FR, items=[("TCB-BLA-S", 1, "19.90")],
                                 created=T0.timestamp() - 10 * HOUR + n * 60))
    app.config["AMAZON_MAX_RETRIES"] = 2
    emu.fail_next("searchOrders", 429, 429, 429, after=1)  # the second page meets a longer storm

    with pytest.raises(jobs.AmazonError, match="429"):
        jobs.sync_orders(shop.id)
    db.session.rollback()

    state = db.session.get(AmazonSyncState, shop.id)
    assert len(orders_of(shop)) == 10 and state.next_token  # the first page and where it stopped
    assert shop.sync_cursor is None  # the cursor moves only once the window is committed
    assert shop.status == ConnectionStatus.CONNECTED and shop.addon_row("amazon").status == ConnectionStatus.CONNECTED

    app.config["AMAZON_MAX_RETRIES"] = 8
    jobs.sync_orders(shop.id)  # the next run goes on from the saved page
    db.session.commit()
    assert len(orders_of(shop)) == 15 and shop.sync_cursor == state.window_before


def test_order_change_notifications_are_processed(app, emu, amazon_shop, catalog, client, spec_book, clock):
    variants = catalog({"TCB-BLA-S": 10})
    shop = amazon_shop(notification_queue_arn="arn:aws:sqs:eu-west-1:123456789012:oms-amazon")
    emu.add_order(make_order("402-2222222-2222222", marketplace=FR, items=[("TCB-BLA-S", 1, "19.90")],
                             created=T0.timestamp() - HOUR))
    jobs.sync_orders(shop.id)
    assert jobs.subscribe_notifications(shop.id, "arn:aws:sqs:eu-west-1:123456789012:oms-amazon")
    db.session.commit()
    assert emu.operations["createDestination"] == 1 and emu.operations["createSubscription"] == 1
    from addons.amazon.models import AmazonSubscription

    secret = db.session.get(AmazonSubscription, shop.id).relay_secret
    # subscribing again finds the destination and the subscription
    jobs.subscribe_notifications(shop.id, "arn:aws:sqs:eu-west-1:123456789012:oms-amazon")
    assert emu.operations["createDestination"] == 1

    clock.advance(60)
    emu.update_order("402-2222222-2222222", status="CANCELLED")
    emu.add_order(make_order("402-3333333-3333333", marketplace=FR, items=[("TCB-BLA-S", 3, "19.90")],
                             created=clock.time()))
    assert len(emu.deliveries) == 2
    for note in emu.deliveries:
        assert spec_book.check_notification(note) == []

    url = f"/apps/amazon/notifications/{shop.id}"
    assert client.post(url, json=emu.deliveries[0], headers={"X-OMS-Relay-Secret": "wrong"}).status_code == 403
    for note in emu.deliveries:  # as an SQS message, the way a relay forwards it
        res = client.post(url, json={"Body": __import__("json").dumps(note)}, headers={"X-OMS-Relay-Secret": secret})
        assert res.status_code == 202, res.get_data(as_text=True)
    assert drain() >= 2
    got = orders_of(shop)
    assert got["402-2222222-2222222"].status == OrderStatus.CANCELLED
    assert got["402-3333333-3333333"].status == OrderStatus.ALLOCATED
    assert level(variants["TCB-BLA-S"]).reserved == 3


def test_revoked_refresh_token_shows_on_the_catalog_card(app, emu, amazon_shop, client, login):
    shop = amazon_shop()
    login(client)
    emu.refresh_token = "Atzr|reauthorised"  # the merchant revoked the app in Seller Central
    token_cache.clear()

    with pytest.raises(jobs.AmazonError, match="invalid_grant"):
        jobs.sync_orders(shop.id)

    db.session.expire_all()
    row = shop.addon_row("amazon")
    assert row.status == ConnectionStatus.ERROR
    assert "refresh token a été refusé (invalid_grant)" in row.last_error
    assert shop.status == ConnectionStatus.CONNECTED  # the sync stays on: it recovers with a new token
    page = client.get("/integrations/").get_data(as_text=True)
    assert 'data-addon="amazon" data-status="error"' in page
    assert "autorisez à nouveau l&#39;application dans Seller Central" in page
    assert schedule_due_syncs(utcnow() + timedelta(hours=2)) == 1
