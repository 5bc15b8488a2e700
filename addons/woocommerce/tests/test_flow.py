"""The whole journey on the emulator: connect, webhooks, catalogue, a customer order, stock,
shipments and their tracking on the store."""
from __future__ import annotations

from sqlalchemy import func, select

from addons.woocommerce import sandbox
from addons.woocommerce.models import WoocommerceListing, WoocommerceState, WoocommerceWebhook
from addons.woocommerce.mapping import TOPICS
from core import orders as order_flow
from core.connectors.models import WebhookDelivery
from core.extensions import db
from core.models import ConnectionStatus, Order, OrderStatus, Shipment
from tests.pipeline_helpers import variant, warehouse


def catalogue(emu, org):
    paris = warehouse(org.id, "PAR")
    mug = variant(org.id, "MUG-1", {paris: 30})
    tee = variant(org.id, "TEE-M", {paris: 8})
    db.session.commit()
    emu.add_product("Mug émaillé", "MUG-1", stock=5, price="12.00")
    emu.add_product("T-shirt", "", None, "19.90", variations=[{"sku": "TEE-M", "stock": 2, "attributes": {"Taille": "M"}},
                                                           {"sku": "TEE-XL", "stock": 1, "attributes": {"Taille": "XL"}}])
    return mug, tee


def test_connect_order_stock_and_tracking(app, client, login, emu, org, woo_shop, run_jobs, inbound):
    mug, tee = catalogue(emu, org)
    shop = woo_shop("Ma boutique Woo")
    assert shop.status == ConnectionStatus.CONNECTED
    state = db.session.get(WoocommerceState, shop.id)
    assert state.wc_version == sandbox.WC_VERSION and state.has_tracking is True

    # the add-on created its webhooks; each ping was answered and stored nothing
    hooks = list(emu.webhooks.values())
    assert sorted(h["topic"] for h in hooks) == sorted(TOPICS)
    assert {h["delivery_url"] for h in hooks} == {f"http://oms.test/apps/woocommerce/webhooks/{shop.id}"}
    assert [s for _h, s in emu.pings] == [200] * len(TOPICS), emu.pings
    assert all(h["status"] == "active" for h in hooks)
    assert db.session.scalar(select(func.count()).select_from(WebhookDelivery)) == 0
    assert db.session.scalar(select(func.count()).select_from(WoocommerceWebhook)) == len(TOPICS)

    # the catalogue is matched by SKU; the variation nobody sells in the OMS is listed
    rows = {r.sku: r for r in db.session.scalars(select(WoocommerceListing))}
    assert rows["MUG-1"].variant_id == mug.id and rows["TEE-M"].variant_id == tee.id
    assert rows["TEE-XL"].variant_id is None
    login(client)
    page = client.get(f"/apps/woocommerce/shops/{shop.id}").get_data(as_text=True)
    assert 'data-sku="TEE-XL"' in page and "order.updated" in page

    # a customer orders: the webhook brings it in, allocated; the stock goes back to the store
    placed = emu.place_order([("MUG-1", 2), ("TEE-M", 1)], email="lea@exemple.fr", shipping_total="4.90")
    run_jobs()
    order = db.session.scalar(select(Order).where(Order.shop_id == shop.id, Order.external_id == str(placed["id"])))
    assert order.status == OrderStatus.ALLOCATED and order.number == str(placed["id"])
    assert order.email == "lea@exemple.fr" and str(order.shipping_total) == "4.90"
    assert order.shipping_address["city"] == "Lyon" and order.shipping_address["country"] == "FR"
    assert emu.stock_of("MUG-1") == 28 and emu.stock_of("TEE-M") == 7
    assert {path for path, _n in emu.batch_requests} >= {"/products/batch", f"/products/{rows['TEE-M'].product_id}"
                                                                            "/variations/batch"}

    # a first parcel with the mug: a Shipment Tracking entry, the order not completed yet
    mug_line = next(ln for ln in order.lines if ln.sku == "MUG-1")
    first = Shipment(carrier="colissimo", tracking_number="6A00000000001",
                     tracking_url="https://www.laposte.fr/outils/suivre-vos-envois?code=6A00000000001")
    order_flow.ship(order, first, [(mug_line, 2)])
    db.session.commit()
    run_jobs()
    entries = emu.trackings[placed["id"]]
    assert [(e["tracking_provider"], e["tracking_number"]) for e in entries] == [("Colissimo", "6A00000000001")]
    assert emu.orders[placed["id"]]["status"] == "processing"

    # the rest with an unknown carrier: "custom provider + link"; now completed
    order = db.session.get(Order, order.id)
    second = Shipment(carrier="coursier_local", tracking_number="CL-778", tracking_url="https://suivi.example/CL-778")
    order_flow.ship(order, second)
    db.session.commit()
    run_jobs()
    entries = emu.trackings[placed["id"]]
    assert entries[1]["tracking_provider"] == "coursier_local" and entries[1]["tracking_link"].endswith("CL-778")
    assert emu.orders[placed["id"]]["status"] == "completed"
    assert db.session.get(Order, order.id).status == OrderStatus.SHIPPED
    # the store's own order.updated (completed) came back: nothing changes, nothing is held
    assert db.session.scalar(select(func.count()).select_from(WebhookDelivery).where(
        WebhookDelivery.processed_at.is_(None))) == 0
    storefront = emu.app.test_client().get("/").get_data(as_text=True)
    assert "6A00000000001" in storefront and "CL-778" in storefront and "Terminée" in storefront


def test_without_shipment_tracking_a_customer_note_and_completed(app, emu, org, woo_shop, run_jobs):
    emu.has_tracking = False
    catalogue(emu, org)
    shop = woo_shop()
    assert db.session.get(WoocommerceState, shop.id).has_tracking is False
    placed = emu.place_order([("MUG-1", 1)])
    run_jobs()
    order = db.session.scalar(select(Order).where(Order.shop_id == shop.id))
    order_flow.ship(order, Shipment(carrier="chronopost", tracking_number="XY123456789FR",
                                    tracking_url="https://www.chronopost.fr/suivi?l=XY123456789FR"))
    db.session.commit()
    run_jobs()
    notes = emu.notes[placed["id"]]
    assert len(notes) == 1 and notes[0]["customer_note"] is True
    assert "Chronopost" in notes[0]["note"] and "XY123456789FR" in notes[0]["note"]
    assert emu.orders[placed["id"]]["status"] == "completed"
    assert emu.kit.calls.count(("POST", f"/wp-json/wc/v3/orders/{placed['id']}/notes")) == 1
