"""The Notification API: the endpoint challenge, ECDSA signatures on the raw body with the key
fetched by kid and kept an hour, redeliveries, out-of-order triggers, account deletion."""
from __future__ import annotations

import base64
import json

from sqlalchemy import func, select

from addons.ebay import jobs, signing
from addons.ebay.inbox import ERASED, public_keys
from addons.ebay.models import EbayAccountDeletion, EbayOrder
from core.connectors.models import WebhookDelivery
from core.extensions import db
from core.models import ConnectionStatus, Customer, Order, OrderStatus, Shop

from .spec_check import check_challenge


def _stored() -> int:
    return db.session.scalar(select(func.count()).select_from(WebhookDelivery))


def _post(client, shop, body, headers):
    return client.post(f"/apps/ebay/notifications/{shop.id}", data=body, headers=headers)


def test_endpoint_challenge(app, client, ebay_shop, emu):
    shop = ebay_shop()
    res = client.get(f"/apps/ebay/notifications/{shop.id}?challenge_code=a8628072-3d33-45ee-9004-bee86830a22d")
    assert res.status_code == 200 and check_challenge(res.get_json()) == []
    expected = signing.challenge_response("a8628072-3d33-45ee-9004-bee86830a22d",
                                          shop.addon_settings("ebay")["verification_token"],
                                          f"http://localhost/apps/ebay/notifications/{shop.id}")
    assert res.get_json() == {"challengeResponse": expected}
    assert client.get(f"/apps/ebay/notifications/{shop.id + 99}?challenge_code=x").status_code == 404


def test_bad_signatures_are_refused_and_store_nothing(app, client, ebay_shop, emu):
    shop = ebay_shop()
    body, headers = emu.signed("ORDER_CONFIRMATION", {"orderId": "12-34567-89012"})
    tampered = body.replace(b"12-34567-89012", b"12-34567-89013")
    assert _post(client, shop, tampered, headers).status_code == 401
    assert _post(client, shop, body, {"Content-Type": "application/json"}).status_code == 401
    forged = base64.b64encode(json.dumps({"alg": "ecdsa", "kid": emu.kid, "signature": base64.b64encode(b"x" * 70)
                                          .decode(), "digest": "SHA1"}).encode()).decode()
    assert _post(client, shop, body, {"X-EBAY-SIGNATURE": forged}).status_code == 401
    unknown_kid = base64.b64encode(json.dumps({"alg": "ecdsa", "kid": "nope", "signature": "AA==",
                                               "digest": "SHA1"}).encode()).decode()
    assert _post(client, shop, body, {"X-EBAY-SIGNATURE": unknown_kid}).status_code == 401
    assert _post(client, shop, b"garbage", {"X-EBAY-SIGNATURE": "not base64 json"}).status_code == 401
    assert _stored() == 0
    assert _post(client, shop, body, headers).status_code == 204
    assert _stored() == 1


def test_public_key_is_fetched_once_an_hour(app, client, ebay_shop, emu, clock):
    shop = ebay_shop()
    for n in range(3):
        body, headers = emu.signed("ORDER_CONFIRMATION", {"orderId": f"12-00000-0000{n}"})
        assert _post(client, shop, body, headers).status_code == 204
    assert emu.kit.calls.count(("GET", f"/commerce/notification/v1/public_key/{emu.kid}")) == 1
    clock.advance(3601)
    body, headers = emu.signed("ORDER_CONFIRMATION", {"orderId": "12-00000-00009"})
    assert _post(client, shop, body, headers).status_code == 204
    assert public_keys.fetches == 2
    assert emu.kit.calls.count(("GET", "/identity/v1/oauth2/token")) == 0
    assert sum(1 for c in emu.kit.calls if c == ("POST", "/identity/v1/oauth2/token")) == 1  # one app token


def test_redelivery_is_stored_once_and_out_of_order_triggers_read_once(app, client, ebay_shop, emu, catalog,
                                                                         run_jobs):
    catalog({"CAP-STD": 10, "BPF-STD": 10})
    shop = ebay_shop()
    order = emu.place_order([("CAP-STD", 1), ("BPF-STD", 1)], notify=False)
    first, h1 = emu.signed("ORDER_CONFIRMATION", {"orderId": order["orderId"]}, notification_id="n-1")
    second, h2 = emu.signed("ORDER_CONFIRMATION", {"orderId": order["orderId"]}, notification_id="n-2")
    again, h3 = emu.signed("ORDER_CONFIRMATION", {"orderId": order["orderId"]}, notification_id="n-1", attempt=2)
    for body, headers in ((second, h2), (first, h1), (again, h3)):
        assert _post(client, shop, body, headers).status_code == 204
    assert _stored() == 2
    run_jobs()
    assert db.session.scalar(select(func.count()).select_from(Order)) == 1
    assert emu.kit.calls.count(("GET", f"/sell/fulfillment/v1/order/{order['orderId']}")) == 1
    assert db.session.scalar(select(func.count()).select_from(WebhookDelivery)
                             .where(WebhookDelivery.processed_at.is_(None))) == 0


def test_account_deletion_erases_the_buyer(app, client, ebay_shop, emu, catalog, run_jobs):
    catalog({"CAP-STD": 10})
    shop = ebay_shop()
    mine = emu.place_order([("CAP-STD", 1)], buyer="Léa Martin", email="lea@exemple.fr", notify=False)
    other = emu.place_order([("CAP-STD", 1)], buyer="Hugo Blanc", notify=False)
    jobs.sync_orders(shop.id)
    username = mine["buyer"]["username"]
    body, headers = emu.signed("MARKETPLACE_ACCOUNT_DELETION", {"username": username, "userId": "ma8vp1jySJC",
                                                                "eiasToken": "nY+sHZ2PrBmdj6wVnY+sEZ2PrA2dj6"})
    assert _post(client, shop, body, headers).status_code == 204
    run_jobs()
    erased = db.session.scalar(select(Order).where(Order.external_id == mine["orderId"]))
    assert erased.email is None and erased.shipping_address == {"name": ERASED, "country": "FR"}
    assert erased.billing_address["name"] == ERASED
    customer = db.session.get(Customer, erased.customer_id) if erased.customer_id else None
    assert customer is None or (customer.name == ERASED and customer.email is None)
    assert "Léa" not in json.dumps(erased.shipping_address)
    kept = db.session.scalar(select(Order).where(Order.external_id == other["orderId"]))
    assert kept.shipping_address["name"] == "Hugo Blanc"
    assert db.session.scalar(select(EbayOrder.buyer_username).where(EbayOrder.ebay_order_id == mine["orderId"])) is None
    deletion = db.session.scalar(select(EbayAccountDeletion))
    assert deletion.orders_anonymised == 1 and deletion.username == ""  # nothing of the user kept


def test_seller_account_deletion_disconnects_the_shop(app, client, ebay_shop, emu, run_jobs):
    from core import services

    shop = ebay_shop()
    assert services.test_connection(shop, "ebay").ok
    db.session.commit()
    body, headers = emu.signed("MARKETPLACE_ACCOUNT_DELETION", {"username": emu.username, "userId": emu.user_id,
                                                                "eiasToken": "x"})
    assert _post(client, shop, body, headers).status_code == 204
    run_jobs()
    shop = db.session.get(Shop, shop.id)
    assert shop.status == ConnectionStatus.DISCONNECTED and shop.credentials == {}


def test_a_notification_for_an_unknown_or_disabled_shop_is_refused(app, client, ebay_shop, emu):
    shop = ebay_shop()
    body, headers = emu.signed("ORDER_CONFIRMATION", {"orderId": "12-34567-89012"})
    assert client.post(f"/apps/ebay/notifications/{shop.id + 50}", data=body, headers=headers).status_code == 404
    shop.addon = "manual"  # no longer an eBay shop
    db.session.commit()
    assert _post(client, shop, body, headers).status_code == 404
    assert _stored() == 0
    assert OrderStatus  # imported for readers of this module
