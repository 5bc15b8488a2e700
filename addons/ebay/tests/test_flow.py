"""The whole journey on the emulator: consent on eBay, listings, stock, an order notified,
allocated, shipped, and the tracking on eBay's order."""
from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy import func, select

from addons.ebay import jobs, sandbox
from addons.ebay.models import EbayAccount, EbayFulfillment, EbayListing, EbayOrder
from core import orders as order_flow
from core.connectors.models import WebhookDelivery
from core.extensions import db
from core.models import ConnectionStatus, Order, OrderStatus, Shipment, Shop

from .conftest import configure
from .spec_check import check_notification

ENDPOINT = "http://localhost/apps/ebay/notifications/{}"


def consent(client, post_form, shop, base_url, emu, *, decision: str = "agree"):
    """"Installer sur eBay" → eBay's consent page → the RuName's accept URL (the callback)."""
    configure_url = f"/integrations/ebay/shops/{shop.id}/configure"
    res = post_form(f"/apps/ebay/shops/{shop.id}/install", page=configure_url)
    assert res.status_code == 303, res.get_data(as_text=True)[:300]
    target = res.headers["Location"]
    assert target.startswith(f"{base_url}/oauth2/authorize?")
    query = parse_qs(urlsplit(target).query)
    assert query["redirect_uri"] == [sandbox.DEMO_RU_NAME] and query["response_type"] == ["code"]
    assert "https://api.ebay.com/oauth/api_scope/sell.fulfillment" in query["scope"][0].split()
    page = httpx.get(target)
    assert page.status_code == 200 and "J&#39;accepte" in page.text or "J'accepte" in page.text
    form = {k: v[0] for k, v in query.items()}
    back = httpx.post(f"{base_url}/oauth2/consent", data={**form, "decision": decision}, follow_redirects=False)
    assert back.status_code == 302
    callback = urlsplit(back.headers["Location"])
    assert callback.path == "/apps/ebay/oauth/callback"
    return client.get(f"{callback.path}?{callback.query}")


def test_consent_import_order_stock_and_tracking(app, client, login, post_form, shop_factory, catalog, emu,
                                                 base_url, run_jobs):
    login(client)
    variants = catalog({"TCB-BLA-M": 30, "BPF-STD": 5, "TBL-TER": 3})
    shop = shop_factory("ebay", "Atelier Lumière eBay")
    configure(shop, sandbox.demo_settings(base_url))
    emu.accept_url = "http://localhost/apps/ebay/oauth/callback"

    res = consent(client, post_form, shop, base_url, emu)

    assert res.status_code == 302 and res.headers["Location"].endswith("/integrations/")
    shop = db.session.get(Shop, shop.id)
    db.session.refresh(shop)
    assert shop.status == ConnectionStatus.CONNECTED
    assert shop.credentials["refresh_token"] and shop.credentials["access_token"]
    assert emu.token_grants == ["authorization_code"]

    # the job after the consent: listings, the notification destination (challenge), stock
    run_jobs()
    listings = {ln.sku: ln for ln in db.session.scalars(select(EbayListing).where(EbayListing.shop_id == shop.id))}
    assert set(listings) == {"BPF-STD", "CAP-STD", "TBL-NAT", "TCB-BLA-M", "TCB-NOI-L"}
    assert listings["TCB-BLA-M"].variant_id == variants["TCB-BLA-M"].id and listings["CAP-STD"].variant_id is None
    account = db.session.get(EbayAccount, shop.id)
    assert set(account.subscriptions) == {"ORDER_CONFIRMATION", "MARKETPLACE_ACCOUNT_DELETION"}
    assert [d["deliveryConfig"]["endpoint"] for d in emu.state.destinations.values()] == [ENDPOINT.format(shop.id)]
    # the OMS is master of stock: item and offer both show the OMS figure
    assert emu.quantity("TCB-BLA-M") == (30, [30])
    assert emu.quantity("BPF-STD") == (5, [5])
    assert emu.quantity("CAP-STD") == (20, [20])  # no OMS product: left alone

    # a buyer checks out: one notification per line item, one order in the OMS
    order = emu.place_order([("TCB-BLA-M", 2), ("BPF-STD", 1)], buyer="Léa Martin", city="Paris", postal="75011")
    assert [d.status for d in emu.deliveries] == [204, 204]
    assert all(check_notification(d.body) == [] for d in emu.deliveries)
    run_jobs()
    oms = db.session.scalar(select(Order).where(Order.shop_id == shop.id, Order.external_id == order["orderId"]))
    assert oms.status == OrderStatus.ALLOCATED and oms.number == order["orderId"]
    assert sorted((ln.sku, ln.quantity, ln.reserved_quantity) for ln in oms.lines) == [
        ("BPF-STD", 1, 1), ("TCB-BLA-M", 2, 2)]
    assert oms.shipping_address["city"] == "Paris" and str(oms.total) == "68.70"
    assert emu.kit.calls.count(("GET", f"/sell/fulfillment/v1/order/{order['orderId']}")) == 1  # two triggers, one read
    assert db.session.scalar(select(func.count()).select_from(WebhookDelivery)
                             .where(WebhookDelivery.processed_at.is_(None))) == 0
    # stock pushed back after the reservation
    assert emu.quantity("TCB-BLA-M") == (28, [28]) and emu.quantity("BPF-STD") == (4, [4])

    # the parcel leaves: eBay's order shows the tracking, line by line
    lines = {ln.sku: ln for ln in oms.lines}
    first = Shipment(carrier="colissimo", tracking_number="6A 0000-0000 01")
    order_flow.ship(oms, first, [(lines["TCB-BLA-M"], 2)])
    db.session.commit()
    run_jobs()
    done = emu.state.fulfillments[order["orderId"]]
    assert done == [{"fulfillmentId": "6A0000000001", "shipmentTrackingNumber": "6A0000000001",
                     "shippingCarrierCode": "Colissimo", "shippedDate": done[0]["shippedDate"],
                     "lineItems": [{"lineItemId": lines["TCB-BLA-M"].external_id, "quantity": 2}]}]
    assert emu.state.orders[order["orderId"]]["orderFulfillmentStatus"] == "IN_PROGRESS"
    second = Shipment(carrier="mondial_relay", tracking_number="MR123456")
    order_flow.ship(db.session.get(Order, oms.id), second)
    db.session.commit()
    run_jobs()
    assert emu.state.orders[order["orderId"]]["orderFulfillmentStatus"] == "FULFILLED"
    assert [f["shippingCarrierCode"] for f in emu.state.fulfillments[order["orderId"]]] == ["Colissimo", "MondialRelay"]
    assert db.session.scalar(select(func.count()).select_from(EbayFulfillment).where(EbayFulfillment.state == "sent")) == 2

    # the next poll sees the order FULFILLED on eBay: nothing changes, nothing is sent twice
    jobs.sync_orders(shop.id)
    assert db.session.get(Order, oms.id).status == OrderStatus.SHIPPED
    assert len(emu.state.fulfillments[order["orderId"]]) == 2
    assert db.session.get(EbayOrder, db.session.scalar(select(EbayOrder.id))).fulfillment_status == "FULFILLED"

    # the merchant's page lists the account and a listing without an OMS product
    page = client.get("/apps/ebay/").get_data(as_text=True)
    assert "Atelier Lumière eBay" in page and "CAP-STD" in page and "aucun produit de l'OMS" in page
    assert sandbox.DEMO_CLIENT_SECRET not in client.get(f"/integrations/ebay/shops/{shop.id}/configure").get_data(
        as_text=True)


def test_declined_consent_leaves_the_shop_unconnected(app, client, login, post_form, shop_factory, emu, base_url):
    login(client)
    shop = shop_factory("ebay")
    configure(shop, sandbox.demo_settings(base_url))
    emu.accept_url = "http://localhost/apps/ebay/oauth/callback"

    res = consent(client, post_form, shop, base_url, emu, decision="decline")

    assert res.status_code == 400 and "refusée sur eBay" in res.get_data(as_text=True)
    db.session.refresh(shop)
    assert not shop.credentials.get("access_token") and shop.status != ConnectionStatus.CONNECTED
    assert emu.token_grants == []


def test_callback_with_a_forged_state_is_refused(app, client, login, shop_factory, emu, base_url):
    login(client)
    shop = shop_factory("ebay")
    configure(shop, sandbox.demo_settings(base_url))
    res = client.get("/apps/ebay/oauth/callback?state=forged&code=abc")
    assert res.status_code == 400 and "« state » invalide" in res.get_data(as_text=True)
    assert emu.token_grants == []
