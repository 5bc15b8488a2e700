"""The demo (`make run`) end to end for dropshipping: the live Shopify shop's first customer
buys a stocked T-shirt and the supplier's vase; the order is split, the supplier's system
receives its purchase order, the supplier types the tracking on its page, and the customer's
shop shows the parcel with its tracking."""
from __future__ import annotations

import html
import re
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import select

from addons.dropship.models import DropshipPurchaseOrder, PurchaseOrderStatus
from core.demo import DEMO_PASSWORD, DEMO_USERS, load_demo
from core.extensions import db
from core.jobs import run_pending
from core.models import ConnectionStatus, LineSource, Order, OrderStatus, Shop, StockLevel, utcnow


@pytest.fixture
def addons():
    return ["shopify", "dropship"]


@pytest.fixture
def app_config():
    return {"SANDBOXES": True, "ADDON_MODULES": {}}


def run_jobs(rounds: int = 20) -> None:
    for _ in range(rounds):
        if not run_pending(now=utcnow() + timedelta(minutes=5)):
            break
    db.session.expire_all()


def csrf(page: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)


def test_a_demo_dropship_order_reaches_the_supplier_and_its_tracking_the_customer(app, serve_wsgi):
    url = serve_wsgi(app)
    app.config["PUBLIC_URL"] = url
    load_demo()
    db.session.commit()
    run_jobs()  # connection tests, stock pushed to the shop
    shopify_shop = db.session.scalar(select(Shop).where(Shop.addon == "shopify"))
    dropship = shopify_shop.addon_row("dropship")
    assert dropship.active and dropship.status == ConnectionStatus.CONNECTED  # webhook supplier: no SMTP needed

    emulators = app.extensions["oms_sandbox_apps"]
    customers = emulators["shopify"].extensions["shopify_customers"]
    customers.stop()
    placed = customers.place_one()  # the opening customer: first and newest products
    assert [li["sku"] for li in placed["line_items"]] == ["TCB-BLA-S", "VEG-SAB"]
    run_jobs()

    order = db.session.scalar(select(Order).where(Order.external_id == str(placed["id"])))
    assert order.status == OrderStatus.ALLOCATED
    sources = {line.sku: line.source for line in order.lines}
    assert sources == {"TCB-BLA-S": LineSource.WAREHOUSE, "VEG-SAB": LineSource.DROPSHIP}
    po = db.session.scalar(select(DropshipPurchaseOrder).where(DropshipPurchaseOrder.order_id == order.id))
    assert po.status == PurchaseOrderStatus.SENT
    received = emulators["dropship"].config["RECEIVED"]
    sent = [p for d in received for p in d["body"]["purchase_orders"] if p["reference"] == po.reference]
    assert len(sent) == 1 and [line["sku"] for line in sent[0]["lines"]] == ["VEG-SAB"]
    supplier_stock = db.session.scalar(select(StockLevel).where(StockLevel.warehouse_id == po.supplier.warehouse_id))
    assert (supplier_stock.on_hand, supplier_stock.reserved) == (39, 0)  # ordered from the supplier

    # the merchant finds the supplier's link on the purchase order; the supplier needs no account
    merchant = httpx.Client(base_url=url, follow_redirects=True, timeout=30)
    login = merchant.get("/login").text
    merchant.post("/login", data={"csrf_token": csrf(login), "email": DEMO_USERS[0][0], "password": DEMO_PASSWORD})
    page = merchant.get(f"/apps/dropship/purchase-orders/{po.id}").text
    link = html.unescape(re.search(r'(http://[^"<\s]+/apps/dropship/supplier/[^"<\s]+)', page).group(1))
    supplier = httpx.Client(follow_redirects=True, timeout=30)
    form = supplier.get(link)
    assert form.status_code == 200 and po.reference in form.text
    answer = supplier.post(link, data={"csrf_token": csrf(form.text), "carrier": "Colissimo",
                                       "tracking_number": "6A98765432101",
                                       "tracking_url": "https://www.laposte.fr/outils/suivre-vos-envois?code=6A98765432101"})
    assert "le client reçoit le suivi" in html.unescape(answer.text)
    run_jobs()

    emu = emulators["shopify"].extensions["shopify"]
    remote = emu.orders[placed["admin_graphql_api_id"]]
    assert remote["fulfillment_status"] == "partial"  # the T-shirt is still to pick in Paris
    assert [f["tracking_number"] for f in remote["fulfillments"]] == ["6A98765432101"]
    storefront = httpx.get(f"{url}/sandbox/shopify/", timeout=30).text
    row = storefront[storefront.index(f'data-order="{placed["name"]}"'):]
    row = row[:row.index("</tr>")]
    assert "Expédiée en partie" in row and "6A98765432101" in row
