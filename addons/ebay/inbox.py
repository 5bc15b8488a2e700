"""eBay's notifications (Commerce Notification API) on core's inbox.

eBay posts each notification to the shop's destination, ``/apps/ebay/notifications/<shop id>``
(the URL names the shop). ``X-EBAY-SIGNATURE`` is checked on the raw body with eBay's ECDSA
public key, fetched by its ``kid`` with an application token and kept about an hour (eBay asks
not to fetch it for every notification); a missing or bad signature is a 401 and nothing is
stored. The delivery is stored once keyed by ``notification.notificationId`` (a redelivery
stores nothing), answered at once, and processed by ``jobs.process_notifications``:

* ``ORDER_CONFIRMATION`` (one per line item): a trigger to read the order with getOrder;
* ``MARKETPLACE_ACCOUNT_DELETION`` (mandatory for every eBay app): the buyer's personal data
  erased from the shop's orders (name, e-mail, phone, addresses), or the shop disconnected and
  its tokens erased when the account is the seller's own.
"""
from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from flask import current_app
from sqlalchemy import select

from core import orders as order_flow
from core.connectors.inbox import Headers, WebhookInbox
from core.extensions import db
from core.models import ConnectionStatus, Customer, Order, Shop

from . import signing
from .client import EbayError
from .models import EbayAccountDeletion, EbayOrder
from core.i18n import _

KEY_TTL = 3600.0
ERASED = "Acheteur eBay supprimé"


class PublicKeys:
    """eBay's notification keys by kid, kept :data:`KEY_TTL` seconds."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._keys: dict[tuple[str, str], tuple[dict[str, str], float]] = {}
        self.fetches = 0

    def get(self, shop: Shop, kid: str) -> dict[str, str] | None:
        from .connection import client_for, clock, hosts

        now = clock().time()
        key = (hosts(shop).api, kid)
        with self._lock:
            found = self._keys.get(key)
            if found and found[1] > now:
                return found[0]
        try:
            value = client_for(shop).get_public_key(kid)
        except EbayError as exc:
            current_app.logger.warning("eBay public key %s: %s", kid, exc.message_en)
            return None
        with self._lock:
            self._keys[key] = (value, now + KEY_TTL)
            self.fetches += 1
        return value

    def clear(self) -> None:
        with self._lock:
            self._keys.clear()
            self.fetches = 0


public_keys = PublicKeys()


class EbayInbox(WebhookInbox):
    addon = "ebay"
    process_job = "addons.ebay.jobs.process_notifications"

    def signature(self, headers: Headers) -> str | None:
        return headers("X-EBAY-SIGNATURE")

    def shop_secrets(self, shop: Shop) -> tuple[str, ...]:
        # not a secret: eBay signs with its own key; the "secret" names the shop whose app
        # token fetches that key
        return (f"shop:{shop.id}",)

    def verify(self, body: bytes, signature: str, secret: str) -> bool:
        header = signing.read_signature_header(signature)
        if header is None or not secret.startswith("shop:"):
            return False
        shop = db.session.get(Shop, int(secret.split(":", 1)[1]))
        if shop is None:
            return False
        key = public_keys.get(shop, header["kid"])
        return key is not None and signing.verify_notification(body, header, key)

    def delivery_id(self, headers: Headers, payload: Mapping[str, Any]) -> str:
        return str((payload.get("notification") or {}).get("notificationId") or "")

    def topic(self, headers: Headers, payload: Mapping[str, Any]) -> str:
        return str((payload.get("metadata") or {}).get("topic") or "")


INBOX = EbayInbox()


def handle(shop: Shop, row: Any) -> str:
    """One stored notification, in its own transaction."""
    payload = row.payload if isinstance(row.payload, dict) else {}
    if isinstance(row.payload, str):
        import json

        payload = json.loads(row.payload)
    data = (payload.get("notification") or {}).get("data") or {}
    if row.topic == "ORDER_CONFIRMATION":
        return order_confirmed(shop, str(data.get("orderId") or ""))
    if row.topic == "MARKETPLACE_ACCOUNT_DELETION":
        return erase_account(shop, str(data.get("username") or ""), str(data.get("userId") or ""))
    return _("ignorée")


def order_confirmed(shop: Shop, ebay_order_id: str) -> str:
    """A trigger: the order is read once (eBay sends one notification per line item)."""
    from .jobs import record_orders
    from .connection import client_for

    if not ebay_order_id:
        return _("sans commande")
    known = db.session.scalar(select(EbayOrder).where(EbayOrder.shop_id == shop.id,
                                                      EbayOrder.ebay_order_id == ebay_order_id))
    if known is not None and known.order_id is not None:
        return _("déjà importée")
    record_orders(shop, [client_for(shop).get_order(ebay_order_id)], source="webhook")
    return _("commande importée")


def erase_account(shop: Shop, username: str, user_id: str) -> str:
    """MARKETPLACE_ACCOUNT_DELETION: really erase what the OMS holds of that eBay user."""
    from .connection import account_for, mark

    account = account_for(shop)
    count = 0
    if username and account.username and username.lower() == account.username.lower() \
            or (user_id and account.user_id and user_id == account.user_id):
        shop.credentials = {}
        mark(shop, ConnectionStatus.DISCONNECTED, "Le compte eBay a été supprimé chez eBay : ses jetons ont été "
             "effacés.")
    elif username:
        rows = list(db.session.scalars(select(EbayOrder).where(EbayOrder.shop_id == shop.id,
                                                               EbayOrder.buyer_username == username)))
        for link in rows:
            order = db.session.get(Order, link.order_id) if link.order_id else None
            if order is not None:
                country = (order.shipping_address or {}).get("country", "")
                order.email, order.phone = None, None
                order.shipping_address = {"name": ERASED, "country": country}
                order.billing_address = {"name": ERASED, "country": country}
                if order.customer_id:
                    customer = db.session.get(Customer, order.customer_id)
                    if customer is not None:
                        customer.name, customer.email, customer.phone = ERASED, None, None
                order_flow.record(order, "channel", _("données de l'acheteur effacées à la demande d'eBay "
                                                      "(suppression du compte)"), source="ebay")
                count += 1
            link.buyer_username = None
    db.session.add(EbayAccountDeletion(shop_id=shop.id, username="", user_id="", orders_anonymised=count))
    return _("%(count)s commande(s) anonymisée(s)", count=count)
