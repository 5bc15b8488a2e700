"""Supplier stock feeds: uploaded or fetched on a schedule, bad rows reported per row while
good rows are kept, the supplier warehouse filled, its stock sold by the channels through a
stock pool with its own buffer, and orders waiting for it resumed."""
from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

from flask import Flask, Response
from sqlalchemy import select

from addons.dropship import jobs
from addons.dropship.feeds import apply_feed
from addons.dropship.models import DropshipFeedRun, DropshipPurchaseOrder
from core.extensions import db
from core.models import (
    ChannelStockRule,
    OrderStatus,
    StockLevel,
    StockMovement,
    StockPool,
    StockPoolWarehouse,
    utcnow,
)
from tests.pipeline_helpers import variant

from .conftest import link, place, run_jobs


def on_hand(variant_id: int, warehouse_id: int) -> int | None:
    return db.session.scalar(select(StockLevel.on_hand).where(StockLevel.variant_id == variant_id,
                                                              StockLevel.warehouse_id == warehouse_id))


def test_uploaded_feed_keeps_good_rows_and_reports_bad_ones(app, client, login, post_form, shop, org,
                                                            make_supplier):
    supplier, _ = make_supplier()
    lamp, vase, tee = variant(org.id, "LAMPE"), variant(org.id, "VASE"), variant(org.id, "TEE")
    link(supplier, lamp, "DUP-LAMP-01", "12.50")
    link(supplier, vase, "DUP-VASE-02", "8.00")
    link(supplier, tee, "DUP-TEE-03", "4.00")
    login(client)
    content = ("sku;quantity;cost\n"
               "DUP-LAMP-01;14;11,90\n"
               "INCONNU-9;3;\n"
               "DUP-VASE-02;beaucoup;\n"
               "\n"
               "DUP-LAMP-01;2;\n"
               "VASE;6;\n"  # the merchant's own SKU is understood too
               "DUP-TEE-03;5;gratuit\n"
               ";4;\n").encode("cp1252")

    res = post_form(f"/apps/dropship/suppliers/{supplier.id}/feed", page="/apps/dropship/feeds",
                    data={"file": (io.BytesIO(content), "stock.csv")}, content_type="multipart/form-data",
                    follow_redirects=True)

    assert res.status_code == 200
    run = db.session.scalar(select(DropshipFeedRun))
    assert (run.source, run.ok_rows, run.error) == ("upload", 2, None)
    assert run.errors == [
        {"line": 3, "reason": "SKU INCONNU-9 inconnu chez Atelier Dupont : associez-le d'abord à un produit"},
        {"line": 4, "reason": "quantité invalide : « beaucoup »"},
        {"line": 6, "reason": "SKU DUP-LAMP-01 déjà lu ligne 2"},
        {"line": 8, "reason": "coût invalide : « gratuit »"},
        {"line": 9, "reason": "SKU manquant"},
    ]
    assert on_hand(lamp.id, supplier.warehouse_id) == 14 and on_hand(vase.id, supplier.warehouse_id) == 6
    assert on_hand(tee.id, supplier.warehouse_id) is None
    assert supplier.products[0].unit_cost == Decimal("11.9000")
    assert {m.reason for m in db.session.scalars(select(StockMovement))} == {"flux fournisseur"}
    page = client.get("/apps/dropship/feeds").get_data(as_text=True)
    assert "Ligne 4 : quantité invalide : « beaucoup »" in page

    unreadable = post_form(f"/apps/dropship/suppliers/{supplier.id}/feed", page="/apps/dropship/feeds",
                           data={"file": (io.BytesIO(b"reference,stock\nX,1\n"), "stock.csv")},
                           content_type="multipart/form-data", follow_redirects=True)
    assert "colonne manquante : supplier_sku ou sku" in unreadable.get_data(as_text=True)


def test_supplier_stock_is_sold_through_a_pool_with_its_buffer(app, shop, own_wh, org, make_supplier, channel):
    supplier, _ = make_supplier()
    lamp = variant(org.id, "LAMPE", {own_wh: 1})
    link(supplier, lamp, "DUP-LAMP-01")
    pool = StockPool(organization_id=org.id, name="Boutique + fournisseur")
    db.session.add(pool)
    db.session.flush()
    db.session.add_all([StockPoolWarehouse(stock_pool_id=pool.id, warehouse_id=own_wh.id),
                        StockPoolWarehouse(stock_pool_id=pool.id, warehouse_id=supplier.warehouse_id),
                        ChannelStockRule(organization_id=org.id, shop_id=shop.id, buffer=2)])
    shop.stock_pool_id = pool.id
    db.session.commit()

    apply_feed(supplier, b"supplier_sku,quantity\nDUP-LAMP-01,10\n", source="upload")
    db.session.commit()
    run_jobs()
    assert channel.STOCK[(shop.id, "LAMPE")] == 1 + 10 - 2

    apply_feed(supplier, b"supplier_sku,quantity\nDUP-LAMP-01,4\n", source="upload")
    db.session.commit()
    run_jobs()
    assert on_hand(lamp.id, supplier.warehouse_id) == 4
    assert channel.STOCK[(shop.id, "LAMPE")] == 1 + 4 - 2

    # a sale beyond own stock: the supplier (whose stock the channel sells) ships it
    order = place(shop, "F1", [("LAMPE", 3)])
    assert order.status == OrderStatus.ALLOCATED and order.lines[0].source.value == "dropship"
    assert on_hand(lamp.id, supplier.warehouse_id) == 1


def test_the_suppliers_own_buffer_holds_units_of_its_feed_back_from_the_channels(
        app, client, login, post_form, shop, own_wh, org, make_supplier, channel):
    supplier, _ = make_supplier()
    lamp = variant(org.id, "LAMPE", {own_wh: 1})
    link(supplier, lamp, "DUP-LAMP-01")
    pool = StockPool(organization_id=org.id, name="Boutique + fournisseur", warehouses=[own_wh, supplier.warehouse])
    db.session.add(pool)
    db.session.flush()
    shop.stock_pool_id = pool.id
    db.session.commit()
    apply_feed(supplier, b"supplier_sku,quantity\nDUP-LAMP-01,10\n", source="upload")
    db.session.commit()
    run_jobs()
    assert channel.STOCK[(shop.id, "LAMPE")] == 1 + 10

    login(client)
    page = f"/apps/dropship/suppliers/{supplier.id}"
    assert 'name="stock_buffer"' in client.get(page).get_data(as_text=True)
    res = post_form(page, page=page, data={
        "name": supplier.name, "email": "commandes@example.com", "order_channel": "email", "lead_time_days": "2",
        "currency": "EUR", "active": "y", "stock_buffer": "3"})
    assert res.status_code == 302
    run_jobs()  # the changed buffer is pushed at once
    db.session.expire_all()
    assert supplier.stock_buffer == 3 and supplier.warehouse.sell_buffer == 3
    assert channel.STOCK[(shop.id, "LAMPE")] == 1 + 10 - 3
    assert on_hand(lamp.id, supplier.warehouse_id) == 10  # the supplier's figure itself is kept

    apply_feed(supplier, b"supplier_sku,quantity\nDUP-LAMP-01,2\n", source="upload")
    db.session.commit()
    run_jobs()
    assert channel.STOCK[(shop.id, "LAMPE")] == 1  # never below nothing from the supplier


def test_held_orders_resume_when_the_supplier_restocks(app, shop, org, make_supplier):
    supplier, _ = make_supplier()
    lamp = variant(org.id, "LAMPE")
    link(supplier, lamp, "DUP-LAMP-01", dropship_only=True)
    apply_feed(supplier, b"supplier_sku,quantity\nDUP-LAMP-01,0\n", source="upload")
    db.session.commit()
    order = place(shop, "F2", [("LAMPE", 2)])
    assert order.status == OrderStatus.ON_HOLD

    apply_feed(supplier, b"supplier_sku,quantity\nDUP-LAMP-01,5\n", source="upload")
    db.session.commit()
    run_jobs()

    db.session.refresh(order)
    assert order.status == OrderStatus.ALLOCATED
    assert db.session.scalar(select(DropshipPurchaseOrder.supplier_id)) == supplier.id


def feed_server(state: dict) -> Flask:
    remote = Flask("supplier-feed")

    @remote.get("/stock.csv")
    def stock_file():
        state["hits"] += 1
        if state.get("down"):
            return Response("maintenance", status=503)
        return Response(state["body"], mimetype="text/csv")

    return remote


def test_feed_url_is_read_on_its_schedule(app, org, make_supplier, serve_wsgi):
    state = {"hits": 0, "body": "supplier_sku,quantity\nDUP-LAMP-01,7\nDUP-X,1\n", "down": False}
    base = serve_wsgi(feed_server(state))
    supplier, _ = make_supplier(feed_url=f"{base}/stock.csv", feed_interval_minutes=60)
    lamp = variant(org.id, "LAMPE")
    link(supplier, lamp, "DUP-LAMP-01")
    now = utcnow()

    assert jobs.fetch_due_feeds(now=now) == 1
    db.session.commit()
    run_jobs()
    run = db.session.scalar(select(DropshipFeedRun))
    assert (run.source, run.ok_rows, [e["line"] for e in run.errors]) == ("url", 1, [3])
    assert on_hand(lamp.id, supplier.warehouse_id) == 7

    assert jobs.fetch_due_feeds(now=utcnow() + timedelta(minutes=30)) == 0
    state["down"] = True
    assert jobs.fetch_due_feeds(now=utcnow() + timedelta(minutes=61)) == 1
    db.session.commit()
    run_jobs()
    failed = db.session.scalars(select(DropshipFeedRun).order_by(DropshipFeedRun.id)).all()[-1]
    assert failed.error and "503" in failed.error and failed.ok_rows == 0
    assert on_hand(lamp.id, supplier.warehouse_id) == 7  # a failed read changes nothing
    state["down"] = False
    run_jobs(now=utcnow() + timedelta(minutes=5))  # the job's retry
    assert state["hits"] == 3
    assert db.session.scalars(select(DropshipFeedRun).order_by(DropshipFeedRun.id)).all()[-1].error is None
