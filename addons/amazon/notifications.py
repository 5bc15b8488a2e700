"""Near-real-time orders: the ``ORDER_CHANGE`` notification.

Amazon delivers ORDER_CHANGE to an Amazon SQS queue of the merchant (``createDestination``
is grantless, ``createSubscription`` uses the seller's token). A relay that reads the queue
(for example an AWS Lambda on the queue) posts each message body to the OMS at
``/apps/amazon/notifications/<shop id>`` with the shop's relay secret. The OMS checks the
payload (``OrderChangeNotification.json``) and queues a ``getOrder`` of that order: the
notification carries no address nor price. The periodic poll stays on as the fallback
Amazon recommends.
"""
from __future__ import annotations

import hmac
import secrets
from typing import Any

from sqlalchemy import select

from core.extensions import db
from core.inputs import checked_json
from core.jobs import enqueue
from core.models import Shop, utcnow

from .client import AmazonError, SellingPartnerClient
from .models import AmazonSubscription
from .runtime import marketplaces

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
        raise NotificationRefused("une notification est un objet JSON")
    return data


def accept(shop: Shop, secret: str, notification: dict[str, Any]) -> str:
    """Check a delivered ORDER_CHANGE and queue the import of its order; returns the order id."""
    row = db.session.get(AmazonSubscription, shop.id)
    if row is None or not secret or not hmac.compare_digest(row.relay_secret, secret):
        raise NotificationRefused("secret de relais inconnu pour cette boutique")
    if notification.get("NotificationType") != ORDER_CHANGE:
        raise NotificationRefused(f"type de notification non pris en charge : {notification.get('NotificationType')}")
    change = (notification.get("Payload") or {}).get("OrderChangeNotification") or {}
    order_id = change.get("AmazonOrderId")
    if not order_id or not isinstance(order_id, str):
        raise NotificationRefused("AmazonOrderId manquant")
    seller = shop.addon_settings("amazon").get("selling_partner_id")
    if seller and change.get("SellerId") and change["SellerId"] != seller:
        raise NotificationRefused("notification d'un autre compte vendeur")
    mp = (change.get("Summary") or {}).get("MarketplaceId")
    if mp and marketplaces(shop) and mp not in marketplaces(shop):
        return order_id  # a marketplace this shop does not import
    row.received += 1
    row.last_received_at = utcnow()
    enqueue("addons.amazon.jobs.fetch_order", shop.id, order_id, job_id=f"amazon-order-{shop.id}-{order_id}",
            unique=True, shop_id=shop.id)
    return order_id


def subscription(shop: Shop) -> AmazonSubscription | None:
    return db.session.scalar(select(AmazonSubscription).where(AmazonSubscription.shop_id == shop.id))
