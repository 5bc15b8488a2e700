"""Orders in: the poll (GMT dates, pages, cursor), webhooks (signature, redelivery, order of
arrival, deletion), statuses, unknown SKUs, cancellations both ways, pick-up points."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from addons.woocommerce import client as client_module
from addons.woocommerce import mapping, sandbox
from addons.woocommerce.jobs import sync_orders
from addons.woocommerce.client import WooError
from core import orders as order_flow
from core.connectors import NO_RETRY
from core.connectors.models import WebhookDelivery
from core.extensions import db
from core.models import Order, OrderStatus
from tests.pipeline_helpers import variant, warehouse


@pytest.fixture
def stocked(app, org):
    paris = warehouse(org.id, "PAR")
    variant(org.id, "MUG-1", {paris: 10})
    db.session.commit()


def orders_of(shop) -> list[Order]:
    return db.session.scalars(select(Order).where(Order.shop_id == shop.id).order_by(Order.id)).all()


def deliveries() -> int:
    return db.session.scalar(select(func.count()).select_from(WebhookDelivery))


def test_the_poll_reads_gmt_dates_every_page_and_moves_the_cursor_last(app, emu, stocked, woo_shop, monkeypatch):
    monkeypatch.setattr(client_module, "RETRY", NO_RETRY)
    emu.page_size_cap = 100
    shop = woo_shop()
    emu.webhooks.clear()  # no webhooks: the poll alone
    for _ in range(205):
        emu.place_order([("MUG-1", 1)], status="pending")
    sync_orders(shop.id)
    assert len(orders_of(shop)) == 205
    gets = [r for r in emu.kit.calls if r == ("GET", "/wp-json/wc/v3/orders")]
    assert len(gets) == 3  # 100 + 100 + 5, X-WP-TotalPages followed
    db.session.refresh(shop)
    cursor = datetime.fromisoformat(shop.sync_cursor)
    assert all(o.status == OrderStatus.ALLOCATED for o in orders_of(shop)[:10])

    # the second run asks since the cursor minus the overlap, in GMT, 100 a page
    calls_before = len(emu.kit.calls)
    sync_orders(shop.id)
    url = emu.last_orders_query
    query = parse_qs(urlsplit(url).query)
    assert query["dates_are_gmt"] == ["true"] and query["per_page"] == ["100"]
    assert query["modified_after"] == [mapping.gmt_param(cursor - timedelta(minutes=10))]
    assert len(emu.kit.calls) > calls_before and len(orders_of(shop)) == 205


def test_an_outage_on_the_second_page_keeps_the_first_and_the_cursor(app, emu, stocked, woo_shop, monkeypatch):
    monkeypatch.setattr(client_module, "RETRY", NO_RETRY)
    shop = woo_shop()
    emu.webhooks.clear()
    for _ in range(150):
        emu.place_order([("MUG-1", 1)], status="pending")
    emu.kit.fail_next(503, times=5, path="/wp-json/wc/v3/orders", after=1)
    with pytest.raises(WooError) as raised:
        sync_orders(shop.id)
    assert raised.value.retryable and raised.value.status == 503
    db.session.rollback()
    db.session.refresh(shop)
    assert shop.sync_cursor is None and len(orders_of(shop)) == 100
    emu.kit.reset()
    sync_orders(shop.id)
    assert len(orders_of(shop)) == 150


def test_a_429_storm_is_waited_out_on_the_remotes_retry_after(app, emu, stocked, woo_shop, clock):
    shop = woo_shop()
    emu.webhooks.clear()
    emu.place_order([("MUG-1", 1)])
    emu.kit.fail_next(429, times=3, retry_after=4, path="/wp-json/wc/v3/orders")
    slept = len(clock.slept)
    sync_orders(shop.id)
    assert clock.slept[slept:] == [4.0, 4.0, 4.0]
    assert len(orders_of(shop)) == 1


def test_without_dates_are_gmt_a_paris_store_would_skip_orders(app, emu):
    """The emulator's store runs on Paris time: ``modified_after`` without ``dates_are_gmt``
    is read as local time, so a UTC cursor misses the last hour (the documented skew)."""
    emu.add_product("Mug", "MUG-1")
    emu.place_order([("MUG-1", 1)])
    since = mapping.gmt_param(datetime.now(timezone.utc) - timedelta(minutes=30))
    client = emu.app.test_client()
    auth = {"consumer_key": sandbox.DEMO_KEY, "consumer_secret": sandbox.DEMO_SECRET}
    local = client.get("/wp-json/wc/v3/orders", query_string={**auth, "modified_after": since})
    gmt = client.get("/wp-json/wc/v3/orders", query_string={**auth, "modified_after": since, "dates_are_gmt": "true"})
    assert len(gmt.get_json()) == 1
    assert len(local.get_json()) == 1  # local dates are an hour ahead: still after
    earlier = client.get("/wp-json/wc/v3/orders", query_string={
        **auth, "modified_after": mapping.gmt_param(datetime.now(timezone.utc) + timedelta(minutes=30))})
    assert len(earlier.get_json()) == 1  # the skew: an order of 30 min ago "after" now + 30 min
    later = client.get("/wp-json/wc/v3/orders", query_string={
        **auth, "modified_after": mapping.gmt_param(datetime.now(timezone.utc) + timedelta(minutes=30)),
        "dates_are_gmt": "true"})
    assert later.get_json() == []


def test_statuses_are_mapped_and_unknown_ones_kept(app, emu, stocked, woo_shop, run_jobs):
    shop = woo_shop()
    cases = {"on-hold": (OrderStatus.ALLOCATED, "pending"), "cancelled": (OrderStatus.CANCELLED, "voided"),
             "wc-shipped-custom": (OrderStatus.ALLOCATED, "pending")}
    placed = {status: emu.place_order([("MUG-1", 1)], status=status) for status in cases}
    run_jobs()
    for status, (expected, payment) in cases.items():
        order = db.session.scalar(select(Order).where(Order.external_id == str(placed[status]["id"])))
        assert order.status == expected, status
        assert order.payment_status.value == payment, status
    custom = db.session.scalar(select(Order).where(Order.external_id == str(placed["wc-shipped-custom"]["id"])))
    assert "woocommerce:wc-shipped-custom" in custom.tags
    for status in ("pending", "processing", "on-hold", "completed", "cancelled", "refunded", "failed", "trash"):
        assert status in mapping.STATUSES


def test_a_redelivery_is_stored_once_and_an_older_update_changes_nothing(app, client, emu, stocked, woo_shop,
                                                                         run_jobs, clock):
    shop = woo_shop()
    placed = emu.place_order([("MUG-1", 1)])
    emu.flush()
    first = emu.deliveries[-1]
    url = f"/apps/woocommerce/webhooks/{shop.id}"
    assert client.post(url, data=first["body"], headers=first["headers"]).status_code == 200  # same delivery id
    assert deliveries() == 1
    run_jobs()
    # an update, then the older creation delivered late with a new delivery id: stale
    clock.advance(60)
    emu.update_order(placed["id"], status="on-hold")
    emu.flush()
    run_jobs()
    late = dict(first["headers"], **{"X-WC-Webhook-Delivery-ID": "f" * 32})
    assert client.post(url, data=first["body"], headers=late).status_code == 200
    run_jobs()
    order = orders_of(shop)[0]
    assert order.payment_status.value == "pending"  # the on-hold update stands
    assert len(orders_of(shop)) == 1


def test_a_wrong_signature_or_an_unknown_shop_stores_nothing(app, client, emu, stocked, woo_shop):
    shop = woo_shop()
    emu.place_order([("MUG-1", 1)])
    inbound_sender = emu.sender
    emu.sender = lambda url, body, headers: 0  # keep the delivery for the test
    emu.flush()
    emu.sender = inbound_sender
    sent = emu.deliveries[-1]
    forged = dict(sent["headers"], **{"X-WC-Webhook-Signature": sandbox.sign(sent["body"], "not-the-secret")})
    res = client.post(f"/apps/woocommerce/webhooks/{shop.id}", data=sent["body"], headers=forged)
    assert res.status_code == 401 and deliveries() == 0
    unsigned = {k: v for k, v in sent["headers"].items() if k != "X-WC-Webhook-Signature"}
    assert client.post(f"/apps/woocommerce/webhooks/{shop.id}", data=sent["body"],
                       headers=unsigned).status_code == 401
    assert client.post(f"/apps/woocommerce/webhooks/{shop.id + 999}", data=sent["body"],
                       headers=sent["headers"]).status_code == 404
    tampered = sent["body"].replace(b'"MUG-1"', b'"MUG-2"')
    assert client.post(f"/apps/woocommerce/webhooks/{shop.id}", data=tampered,
                       headers=sent["headers"]).status_code == 401
    assert deliveries() == 0 and orders_of(shop) == []


def test_an_unknown_sku_is_held_with_its_reason(app, emu, stocked, woo_shop, run_jobs):
    shop = woo_shop()
    emu.place_order([("MUG-1", 1), ("INCONNU-9", 1)])
    run_jobs()
    order = orders_of(shop)[0]
    assert order.status == OrderStatus.ON_HOLD and "INCONNU-9" in (order.hold_reason or "")


def test_cancellations_both_ways(app, emu, org, stocked, woo_shop, run_jobs, clock):
    shop = woo_shop()
    # cancelled on the store: the reservation is released, nothing sent back
    a = emu.place_order([("MUG-1", 3)])
    run_jobs()
    clock.advance(60)
    emu.update_order(a["id"], status="cancelled")
    run_jobs()
    first = db.session.scalar(select(Order).where(Order.external_id == str(a["id"])))
    assert first.status == OrderStatus.CANCELLED and first.lines[0].reserved_quantity == 0
    assert ("PUT", f"/wp-json/wc/v3/orders/{a['id']}") not in emu.kit.calls
    # deleted on the store (order.deleted carries only the id): cancelled in the OMS
    b = emu.place_order([("MUG-1", 1)])
    run_jobs()
    emu.delete_order(b["id"])
    run_jobs()
    assert db.session.scalar(select(Order).where(Order.external_id == str(b["id"]))).status == OrderStatus.CANCELLED
    # cancelled in the OMS: cancelled on the store (its stock comes back there)
    c = emu.place_order([("MUG-1", 2)])
    run_jobs()
    third = db.session.scalar(select(Order).where(Order.external_id == str(c["id"])))
    order_flow.cancel(third, reason="client injoignable")
    db.session.commit()
    run_jobs()
    assert emu.orders[c["id"]]["status"] == "cancelled"
    assert emu.kit.calls.count(("PUT", f"/wp-json/wc/v3/orders/{c['id']}")) == 1


def test_a_local_pickup_fills_the_pickup_point(app, emu, stocked, woo_shop, run_jobs):
    woo_shop()
    placed = emu.place_order([("MUG-1", 1)], pickup=("Boutique du Marais", "3 rue des Archives, 75004 Paris"))
    point = mapping.pickup_point(placed)
    assert point is not None and point.name == "Boutique du Marais"
    assert point.address.line1 == "3 rue des Archives, 75004 Paris" and point.network == "woocommerce_pickup"
    normalized = mapping.normalize(placed)
    assert normalized.pickup_point == point and normalized.shipping_address.city == "Lyon"
