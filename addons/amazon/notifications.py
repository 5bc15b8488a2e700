"""Near-real-time orders: the ``ORDER_CHANGE`` notification.

Amazon delivers ORDER_CHANGE to an Amazon SQS queue of the merchant (``createDestination``
is grantless, ``createSubscription`` uses the seller's token). A relay that reads the queue
(for example an AWS Lambda on the queue) posts each message body to the OMS at
``/apps/amazon/notifications/<shop id>`` with the shop's relay secret
(``X-OMS-Relay-Secret``). The connector kit's inbox (:class:`RelayInbox`) checks the secret
in constant time, reads the payload (``OrderChangeNotification.json``) and stores it keyed by
its ``NotificationId`` (a relay that forwards a message twice stores it once); the
processing job (:func:`handle`) queues a ``getOrder`` of that order: the notification
carries no address nor price. The periodic poll stays on as the fallback Amazon
recommends.
"""
from __future__ import annotations

import hashlib
import json
import hmac
import secrets
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select

from core.connectors.inbox import Headers, Refused, WebhookInbox
from core.connectors.models import WebhookDelivery
from core.extensions import db
from core.inputs import checked_json
from core.jobs import enqueue
from core.models import Shop, utcnow

from .client import AmazonError, SellingPartnerClient
from .models import AmazonSubscription
from .runtime import marketplaces
from core.i18n import _

ORDER_CHANGE = "ORDER_CHANGE"
CHANGE_TYPES = ["OrderStatusChange", "BuyerRequestedChange"]


class NotificationRefused(ValueError):
    """A delivery the OMS does not accept (wrong secret, not ORDER_CHANGE, other seller)."""


def new_relay_secret(shop: Shop) -> str | None:
    """Replace the shop's relay secret; the new one is returned (to be shown once), None
    without a subscription. The previous secret stops working at once."""
    row = db.session.get(AmazonSubscription, shop.id)
    if row is None:
        return None
    row.relay_secret = secrets.token_urlsafe(32)
    db.session.flush()
    return row.relay_secret


def subscribe(shop: Shop, client: SellingPartnerClient, queue_arn: str) -> AmazonSubscription:
    """Create (or find) the SQS destination and the ORDER_CHANGE subscription."""
    row = db.session.get(AmazonSubscription, shop.id)
    if row is None:
        row = AmazonSubscription(shop_id=shop.id, queue_arn=queue_arn, relay_secret=secrets.token_urlsafe(32))
        db.session.add(row)
    row.queue_arn = queue_arn
    destinations = client.call("getDestinations").body.get("payload") or []
    destination = next((d for d in destinations if ((d.get("resource") or {}).get("sqs") or {}).get("arn")
                        == queue_arn), None)
    if destination is None:
        destination = client.call("createDestination", json={
            "name": f"oms-shop-{shop.id}", "resourceSpecification": {"sqs": {"arn": queue_arn}}}).body["payload"]
    row.destination_id = destination["destinationId"]
    event_filter: dict[str, Any] = {"eventFilterType": ORDER_CHANGE, "orderChangeTypes": CHANGE_TYPES}
    if marketplaces(shop):
        event_filter["marketplaceIds"] = marketplaces(shop)
    try:
        sub = client.call("createSubscription", path={"notificationType": ORDER_CHANGE}, json={
            "payloadVersion": "1.0", "destinationId": row.destination_id,
            "processingDirective": {"eventFilter": event_filter}}).body["payload"]
    except AmazonError as exc:
        if exc.status != 409:  # already subscribed: read it
            raise
        sub = client.call("getSubscription", path={"notificationType": ORDER_CHANGE},
                          params={"payloadVersion": "1.0"}).body["payload"]
    row.subscription_id = sub["subscriptionId"]
    db.session.flush()
    return row


def parse(raw: bytes | str) -> dict[str, Any]:
    """The notification from a request body: the notification itself or an SQS message
    (``{"Body": "<notification>"}``) as a relay may forward it."""
    try:
        data = checked_json(raw)
        if isinstance(data, dict) and isinstance(data.get("Body"), str):
            data = checked_json(data["Body"])
    except (ValueError, TypeError):
        raise NotificationRefused("corps JSON illisible") from None
    if not isinstance(data, dict):
        raise NotificationRefused(_("une notification est un objet JSON"))
    return data


def order_change(notification: Mapping[str, Any]) -> Mapping[str, Any]:
    return (notification.get("Payload") or {}).get("OrderChangeNotification") or {}


class RelayInbox(WebhookInbox):
    """The relay's scheme: the URL names the shop, ``X-OMS-Relay-Secret`` carries the secret
    the OMS generated for it at subscription (compared in constant time), the delivery id is
    the notification's ``NotificationId``."""

    addon = "amazon"
    process_job = "addons.amazon.jobs.process_notifications"
    refused_status = 403
    store_raw = False  # an SQS message is unwrapped: the notification itself is kept

    def signature(self, headers: Headers) -> str | None:
        return headers("X-OMS-Relay-Secret")

    def verify(self, body: bytes, signature: str, secret: str) -> bool:
        return hmac.compare_digest(signature.encode(), secret.encode())

    def shop_secrets(self, shop: Shop) -> tuple[str, ...]:
        row = db.session.get(AmazonSubscription, shop.id)
        return (row.relay_secret,) if row is not None and row.relay_secret else ()

    def parse(self, body: bytes) -> dict[str, Any]:
        try:
            notification = parse(body)
        except NotificationRefused as exc:
            raise Refused(str(exc)) from None
        if notification.get("NotificationType") != ORDER_CHANGE:
            raise Refused(_("type de notification non pris en charge : %(get)s",
                            get=notification.get('NotificationType')))
        order_id = order_change(notification).get("AmazonOrderId")
        if not order_id or not isinstance(order_id, str):
            raise Refused("AmazonOrderId manquant")
        return notification

    def delivery_id(self, headers: Headers, payload: Mapping[str, Any]) -> str:
        given = (payload.get("NotificationMetadata") or {}).get("NotificationId")
        if isinstance(given, str) and given:
            return given
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()[:64]

    def topic(self, headers: Headers, payload: Mapping[str, Any]) -> str:
        return str(payload.get("NotificationType") or "")

    def columns(self, headers: Headers, payload: Mapping[str, Any]) -> dict[str, Any]:
        return {"resource_id": str(order_change(payload).get("AmazonOrderId"))[:64]}


INBOX = RelayInbox()


def handle(shop: Shop, row: WebhookDelivery) -> str:
    """Queue the import of a stored ORDER_CHANGE's order; returns what was done."""
    change = order_change(row.payload or {})
    order_id = str(change.get("AmazonOrderId"))
    seller = shop.addon_settings("amazon").get("selling_partner_id")
    if seller and change.get("SellerId") and change["SellerId"] != seller:
        return _("ignorée : notification d'un autre compte vendeur")
    mp = (change.get("Summary") or {}).get("MarketplaceId")
    if mp and marketplaces(shop) and mp not in marketplaces(shop):
        return _("ignorée : place de marché %(mp)s non importée", mp=mp)
    sub = db.session.get(AmazonSubscription, shop.id)
    if sub is not None:
        sub.received += 1
        sub.last_received_at = utcnow()
    enqueue("addons.amazon.jobs.fetch_order", shop.id, order_id, job_id=f"amazon-order-{shop.id}-{order_id}",
            unique=True, shop_id=shop.id)
    return _("import de %(order_id)s demandé", order_id=order_id)


def subscription(shop: Shop) -> AmazonSubscription | None:
    return db.session.scalar(select(AmazonSubscription).where(AmazonSubscription.shop_id == shop.id))
