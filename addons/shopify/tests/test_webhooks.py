"""Webhooks on the emulator: signature, redelivery, ordering, orders of every kind, products,
uninstall and the compliance topics; several stores on one stock."""
from __future__ import annotations

import json
import time
from decimal import Decimal

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import func, select

from addons.shopify import jobs, sandbox
from addons.shopify.models import ShopifyLocation, ShopifyPrivacyRequest, ShopifyWebhookInbox
from addons.shopify.oauth import webhook_hmac
from core import orders as order_flow
from core.extensions import db
from core.models import (
    ConnectionStatus,
    Customer,
    Order,
    OrderStatus,
    OutboxJob,
    Shop,
    StockLevel,
    Variant,
    VariantBinding,
    Warehouse,
)
from tests.pipeline_helpers import warehouse

from .helpers import WEBHOOK_URL, connect, oms_order, stock, variant_by_sku

SKU = "TCB-BLA-M"


def _inbox_count(**where) -> int:
    stmt = select(func.count()).select_from(ShopifyWebhookInbox)
    for key, value in where.items():
        stmt = stmt.where(getattr(ShopifyWebhookInbox, key) == value)
    return db.session.scalar(stmt)


@pytest.fixture
def paris(org):
    wh = warehouse(org.id, "PAR")
    db.session.commit()
    return wh


@pytest.fixture
def shop(shop_factory, org, emu, base_url, paris, run_jobs) -> Shop:
    """A connected shop, its products imported and 10 units of each in stock."""
    shop = connect(shop_factory("shopify", "Maison Lumière"), emu, base_url)
    jobs.sync_shop(shop.id)
    for variant in db.session.scalars(select(Variant).where(Variant.organization_id == org.id)):
        stock(variant, paris, 10)
    jobs.push_stock(shop.id)
    db.session.commit()
    run_jobs()
    return db.session.get(Shop, shop.id)


# ----------------------------------------------------------------------------- signature
def test_a_wrong_or_missing_signature_is_refused_and_nothing_is_stored(client, shop, emu):
    body = json.dumps({"id": 1, "line_items": []}).encode()
    base = {"X-Shopify-Topic": "orders/create", "X-Shopify-Shop-Domain": emu.domain,
            "X-Shopify-Webhook-Id": "b1", "Content-Type": "application/json"}

    forged = client.post("/apps/shopify/webhooks", data=body,
                         headers={**base, "X-Shopify-Hmac-Sha256": webhook_hmac(body, "not-the-secret")})
    missing = client.post("/apps/shopify/webhooks", data=body, headers=base)
    tampered = client.post("/apps/shopify/webhooks", data=body + b" ",
                           headers={**base, "X-Shopify-Hmac-Sha256": webhook_hmac(body, sandbox.DEMO_API_SECRET)})
    other_shop = client.post("/apps/shopify/webhooks", data=body, headers={
        **base, "X-Shopify-Shop-Domain": "autre.myshopify.com",
        "X-Shopify-Hmac-Sha256": webhook_hmac(body, sandbox.DEMO_API_SECRET)})

    assert [forged.status_code, missing.status_code, tampered.status_code, other_shop.status_code] == [401] * 4
    assert _inbox_count() == 0
    assert db.session.scalar(select(func.count()).select_from(OutboxJob)
                             .where(OutboxJob.func == "addons.shopify.jobs.process_webhooks")) == 0
    good = client.post("/apps/shopify/webhooks", data=body,
                       headers={**base, "X-Shopify-Hmac-Sha256": webhook_hmac(body, sandbox.DEMO_API_SECRET)})
    assert good.status_code == 200 and _inbox_count() == 1


# ----------------------------------------------------------------------------- delivery semantics
def test_a_redelivery_is_answered_but_not_processed_twice(shop, emu, run_jobs):
    placed = emu.place_order([(SKU, 1)])
    first = emu.deliveries[-1]

    again = emu.redeliver(first.webhook_id)

    assert first.status == again.status == 200
    assert _inbox_count(webhook_id=first.webhook_id) == 1
    run_jobs()
    order = oms_order(shop, placed)
    assert order.status == OrderStatus.ALLOCATED
    assert db.session.scalar(select(func.count()).select_from(Order).where(Order.shop_id == shop.id)) == 1
    assert [e.kind for e in order.events].count("imported") == 1


def test_out_of_order_updates_keep_the_newest(shop, emu, inbound, run_jobs):
    placed = emu.place_order([(SKU, 1)])
    run_jobs()
    inbound.paused = True
    t0 = emu.time()
    emu.touch_order(placed["id"], tags="cadeau", at=t0 + 60)
    emu.touch_order(placed["id"], tags="cadeau, urgent", at=t0 + 120)
    inbound.paused = False
    older, newer = inbound.held

    for url, body, headers in (newer, older):  # Shopify does not guarantee the order
        assert inbound(url, body, headers) == 200
    run_jobs()

    order = oms_order(shop, placed)
    assert order.tags == ["cadeau", "urgent"]
    assert order.external_updated_at.timestamp() == pytest.approx(t0 + 120, abs=1)


# ----------------------------------------------------------------------------- orders
def test_unknown_sku_holds_the_order(shop, emu, run_jobs):
    placed = emu.place_order([("CARTE-CADEAU-50", 1), (SKU, 1)])
    run_jobs()
    order = oms_order(shop, placed)
    assert order.status == OrderStatus.ON_HOLD and order.hold_code == "unknown_sku"
    assert "CARTE-CADEAU-50" in order.hold_reason


def test_cancellation_on_shopify_releases_the_stock(shop, emu, paris, run_jobs):
    tee = variant_by_sku(shop.organization_id, SKU)
    placed = emu.place_order([(SKU, 2)])
    run_jobs()
    assert oms_order(shop, placed).status == OrderStatus.ALLOCATED
    assert emu.available(SKU) == 8

    emu.cancel_order(placed["id"])
    run_jobs()

    order = oms_order(shop, placed)
    assert order.status == OrderStatus.CANCELLED and order.lines[0].reserved_quantity == 0
    level = db.session.scalar(select(StockLevel).where(StockLevel.variant_id == tee.id,
                                                       StockLevel.warehouse_id == paris.id))
    assert (level.on_hand, level.reserved) == (10, 0)
    assert emu.available(SKU) == 10
    assert db.session.scalar(select(func.count()).select_from(OutboxJob)
                             .where(OutboxJob.func == "addons.shopify.jobs.cancel_order")) == 0


def test_cancelling_in_the_oms_cancels_on_shopify(shop, emu, run_jobs):
    placed = emu.place_order([(SKU, 1)])
    run_jobs()
    order = oms_order(shop, placed)

    order_flow.cancel(order, reason="rupture fournisseur")
    db.session.commit()
    run_jobs()

    assert emu.orders[placed["admin_graphql_api_id"]]["cancelled_at"] is not None
    emu.flush()  # Shopify's own orders/cancelled comes back: nothing more happens
    run_jobs()
    assert oms_order(shop, placed).status == OrderStatus.CANCELLED


def test_pos_sale_takes_stock_from_the_store(shop, emu, run_jobs):
    retail = db.session.scalar(select(ShopifyLocation).where(ShopifyLocation.shop_id == shop.id,
                                                             ShopifyLocation.retail.is_(True)))
    store = db.session.get(Warehouse, retail.warehouse_id)
    tee = variant_by_sku(shop.organization_id, SKU)
    stock(tee, store, 5)
    jobs.push_stock(shop.id, [tee.id])
    db.session.commit()
    assert emu.available(SKU, retail.location_gid) == 5

    placed = emu.place_order([(SKU, 2)], pos_location=retail.location_gid, email="")
    run_jobs()

    order = oms_order(shop, placed)
    assert order.origin == "pos" and order.pos_location == store.code
    assert order.status == OrderStatus.DELIVERED
    level = db.session.scalar(select(StockLevel).where(StockLevel.variant_id == tee.id,
                                                       StockLevel.warehouse_id == store.id))
    assert level.on_hand == 3
    assert emu.available(SKU, retail.location_gid) == 3
    assert emu.available(SKU) == 10  # the online stock is untouched


def test_markets_keep_both_currencies_and_the_foreign_address(shop, emu, run_jobs):
    placed = emu.place_order([(SKU, 2)], presentment_currency="CHF", rate="0.94", shipping=("DHL Express", "12.00"),
                             address={"country_code": "CH", "country": "Switzerland", "city": "Genève",
                                      "zip": "1201", "province_code": "GE"})
    run_jobs()
    order = oms_order(shop, placed)
    assert order.currency == "EUR" and order.total == Decimal("51.80")
    assert order.presentment_currency == "CHF" and order.presentment_total == Decimal("48.69")
    assert order.shipping_address["country"] == "CH" and order.shipping_address["region"] == "GE"
    assert order.service_level.value == "express"


# ----------------------------------------------------------------------------- products
def test_product_changes_follow_the_conflict_rule(shop, emu, run_jobs):
    tee = variant_by_sku(shop.organization_id, SKU)
    product_gid = emu.variant_by_sku(SKU)["product"]

    # Shopify stamps updatedAt in whole seconds: the edit comes a second after the import,
    # as any merchant edit does (within the same second it would read as already imported)
    time.sleep(1.05)
    emu.update_variant(SKU, price="24.90", hs_code="6109100099")
    emu.update_product(product_gid, title="T-shirt coton bio (nouvelle coupe)")
    run_jobs()

    db.session.expire_all()
    tee = db.session.get(Variant, tee.id)
    assert tee.price == Decimal("24.90") and tee.hs_code == "6109100099"
    assert tee.product.title == "T-shirt coton bio (nouvelle coupe)"
    assert tee.sku == SKU  # the OMS keeps its SKU

    calls = len(emu.operations)
    emu.redeliver(next(d.webhook_id for d in emu.deliveries if d.topic == "products/update"))
    run_jobs()
    assert len(emu.operations) == calls  # a late delivery: nothing newer to read

    emu.delete_product(product_gid)
    run_jobs()
    assert db.session.scalar(select(func.count()).select_from(VariantBinding)
                             .where(VariantBinding.variant_id == tee.id)) == 0
    assert db.session.get(Variant, tee.id) is not None  # the OMS keeps its catalogue


# ----------------------------------------------------------------------------- app and compliance
def test_uninstall_disconnects_the_shop(shop, emu, run_jobs):
    emu.uninstall()
    run_jobs()
    db.session.expire_all()
    shop = db.session.get(Shop, shop.id)
    assert shop.status == ConnectionStatus.DISCONNECTED and shop.credentials == {}
    assert "désinstallée" in shop.last_error
    assert shop.addon_row("shopify").status == ConnectionStatus.DISCONNECTED


def test_data_request_and_redaction(client, login, shop, emu, run_jobs):
    placed = emu.place_order([(SKU, 1)], email="camille@exemple.fr", customer=("Camille", "Durand"))
    other = emu.place_order([(SKU, 1)], email="autre@exemple.fr")
    run_jobs()
    customer = {"id": placed["customer"]["id"], "email": "camille@exemple.fr", "phone": None}

    emu.send_compliance("customers/data_request", {"shop_id": 1, "shop_domain": emu.domain, "customer": customer,
                                                   "orders_requested": [placed["id"]], "data_request": {"id": 9}})
    run_jobs()
    request = db.session.scalar(select(ShopifyPrivacyRequest).where(
        ShopifyPrivacyRequest.topic == "customers/data_request"))
    assert request.customer_email == "camille@exemple.fr"
    assert [o["number"] for o in request.report["orders"]] == [placed["name"]]
    assert request.report["orders"][0]["shipping_address"]["line1"] == "12 rue des Lilas"
    login(client)
    page = client.get(f"/apps/shopify/privacy/{request.id}").get_data(as_text=True)
    assert placed["name"] in page and "camille@exemple.fr" in page

    emu.send_compliance("customers/redact", {"shop_id": 1, "shop_domain": emu.domain, "customer": customer,
                                             "orders_to_redact": [placed["id"]]})
    run_jobs()
    order = oms_order(shop, placed)
    assert order.email is None and order.shipping_address == {"country": "FR"} and order.customer_id is None
    assert db.session.scalar(select(func.count()).select_from(Customer)
                             .where(Customer.email == "camille@exemple.fr")) == 0
    assert _inbox_count(resource_id=str(placed["id"])) == 0
    assert oms_order(shop, other).email == "autre@exemple.fr"

    emu.send_compliance("shop/redact", {"shop_id": 1, "shop_domain": emu.domain})
    run_jobs()
    assert oms_order(shop, other).email is None
    assert db.session.scalar(select(func.count()).select_from(ShopifyPrivacyRequest)
                             .where(ShopifyPrivacyRequest.topic == "customers/data_request")) == 0


# ----------------------------------------------------------------------------- several stores
def _second_store(n: int, make_emulator, shop_factory):
    """Another Shopify shop of the organization, with its own app credentials, selling the
    same T-shirt."""
    key, secret, token = f"app{n}" + "0" * 28, f"shpss_store{n}", f"shpat_store{n}"
    emu, url = make_emulator(domain=f"boutique-{n}.myshopify.com", apps={key: secret}, tokens={token: key},
                             catalog=None)
    online = emu.add_location("Entrepôt", online=True)
    emu.add_product("T-shirt coton bio", [{"sku": SKU, "price": "19.90", "stock": {online: 0},
                                           "options": {"Taille": "M", "Couleur": "Blanc"}}])
    shop = connect(shop_factory("shopify", f"Boutique {n}"), emu, url, api_key=key, api_secret=secret,
                   access_token=token)
    return shop, emu


def test_five_stores_each_get_their_own_orders(shop, emu, make_emulator, shop_factory, run_jobs):
    stores = [(shop, emu)] + [_second_store(n, make_emulator, shop_factory) for n in range(2, 6)]
    for s, e in stores[1:]:
        jobs.sync_shop(s.id)
    placed = [e.place_order([(SKU, 1)]) for _s, e in stores]
    run_jobs()
    for (s, _e), p in zip(stores, placed):
        order = oms_order(s, p)
        assert order.status == OrderStatus.ALLOCATED
    # same product imported once, bound in every store
    tee = variant_by_sku(shop.organization_id, SKU)
    assert db.session.scalar(select(func.count()).select_from(VariantBinding)
                             .where(VariantBinding.variant_id == tee.id)) == 5
    # every store shows the shared figure: 10 − 5 reserved
    assert [e.available(SKU) for _s, e in stores] == [5] * 5


def test_two_stores_on_one_pool_never_oversell(shop, emu, paris, make_emulator, shop_factory, run_jobs):
    second, emu2 = _second_store(2, make_emulator, shop_factory)
    jobs.sync_shop(second.id)
    tee = variant_by_sku(shop.organization_id, SKU)
    stock(tee, paris, 1)
    jobs.push_stock(shop.id)
    jobs.push_stock(second.id)
    db.session.commit()
    assert emu.available(SKU) == emu2.available(SKU) == 1

    a = emu.place_order([(SKU, 1)])
    b = emu2.place_order([(SKU, 1)])
    run_jobs()

    statuses = sorted([oms_order(shop, a).status.value, oms_order(second, b).status.value])
    assert statuses == ["allocated", "on_hold"]
    level = db.session.scalar(select(StockLevel).where(StockLevel.variant_id == tee.id,
                                                       StockLevel.warehouse_id == paris.id))
    assert (level.on_hand, level.reserved) == (1, 1)
    assert emu.available(SKU) == emu2.available(SKU) == 0


def test_webhook_url_is_the_subscribed_one(shop, emu):
    assert {s["uri"] for s in emu.subscriptions.values()} == {WEBHOOK_URL}


def test_order_deliveries_are_ingested_together_and_a_bad_one_fails_alone(shop, emu, inbound, monkeypatch):
    from addons.shopify import inbox

    sizes: list[int] = []
    real = inbox.ingest_many

    def counted(s, batch, **kwargs):
        sizes.append(len(batch))
        return real(s, batch, **kwargs)

    monkeypatch.setattr(inbox, "ingest_many", counted)
    inbound.paused = True
    first = emu.place_order([(SKU, 1)])
    emu.emit("orders/create", {**first, "id": 4242, "admin_graphql_api_id": "gid://shopify/Order/4242",
                               "line_items": [{"id": 1, "quantity": "beaucoup", "sku": SKU}]})
    second = emu.place_order([(SKU, 2)])
    inbound.paused = False
    for url, body, headers in inbound.held:
        assert inbound(url, body, headers) == 200
    inbound.held.clear()
    with pytest.raises(RuntimeError, match="1 livraison"):  # the bad one, retried later
        jobs.process_webhooks(shop.id)

    assert 3 not in sizes  # the run with the bad one failed as a whole: its deliveries went one by one
    assert oms_order(shop, first).status == oms_order(shop, second).status == OrderStatus.ALLOCATED
    bad = db.session.scalar(select(ShopifyWebhookInbox).where(ShopifyWebhookInbox.resource_id == "4242"))
    assert bad.processed_at is None and bad.attempts >= 1 and bad.last_error

    sizes.clear()
    inbound.paused = True
    later = [emu.place_order([(SKU, 1)]) for _ in range(3)]
    inbound.paused = False
    for url, body, headers in inbound.held:
        assert inbound(url, body, headers) == 200
    with pytest.raises(RuntimeError, match="1 livraison"):
        jobs.process_webhooks(shop.id)
    assert sizes == [3]  # the good run, ingested in one batch
    assert all(oms_order(shop, p).status == OrderStatus.ALLOCATED for p in later)
    assert db.session.scalar(select(func.count()).select_from(Order).where(Order.shop_id == shop.id)) == 5
    level = db.session.scalar(select(StockLevel).where(StockLevel.variant_id == variant_by_sku(
        shop.organization_id, SKU).id))
    assert level.reserved == 6


@pytest.mark.redis
def test_a_delivery_for_a_run_already_waiting_in_rq_adds_no_job(app, shop, emu, redis_conn):
    """On PostgreSQL with jobs in RQ, the delivery is committed before anything else: while the
    shop's processing run waits in RQ (queued, not started), a delivery adds no outbox row and
    that one run imports every delivery; once a run has started, a new delivery queues its
    own run (it waits in the outbox while the first one runs)."""
    import uuid

    from rq import SimpleWorker
    from rq.job import Job

    from core.jobs import rq_queue

    app.config.update(JOBS_MODE="rq", RQ_QUEUE_PREFIX=f"t{uuid.uuid4().hex[:8]}")
    app.extensions["oms_redis"] = redis_conn
    try:
        def process_jobs() -> int:
            return db.session.scalar(select(func.count()).select_from(OutboxJob).where(
                OutboxJob.func == "addons.shopify.jobs.process_webhooks"))

        placed = [emu.place_order([(SKU, 1)])]
        q = rq_queue()
        assert process_jobs() == 0 and q.count == 1  # relayed at the request's commit
        job_id = q.job_ids[0]
        written: list[str] = []

        def note(_conn, _cursor, statement, *_args):
            written.append(statement)

        sa_event.listen(db.engine, "before_cursor_execute", note)
        try:
            placed += [emu.place_order([(SKU, 1)]), emu.place_order([(SKU, 2)])]
        finally:
            sa_event.remove(db.engine, "before_cursor_execute", note)
        assert [d.status for d in emu.deliveries[-3:]] == [200, 200, 200]
        outbox_writes = [s for s in written if s.startswith("INSERT INTO outbox_job")]
        if db.engine.dialect.name == "postgresql":  # the one insert, and nothing else
            assert not outbox_writes and sum(s.startswith("INSERT INTO shopify_webhook_inbox") for s in written) == 2
        assert process_jobs() == 0 and q.count == 1
        redis_conn.hset(Job.key_for(job_id), "status", "started")  # a worker took it
        placed.append(emu.place_order([(SKU, 1)]))
        assert process_jobs() == 1  # waits in the outbox: the running one may have read already
        redis_conn.hset(Job.key_for(job_id), "status", "queued")
        SimpleWorker([q], connection=redis_conn).work(burst=True, with_scheduler=False)
        db.session.expire_all()
        assert all(oms_order(shop, p).status == OrderStatus.ALLOCATED for p in placed)
    finally:
        app.extensions.pop("oms_redis", None)
