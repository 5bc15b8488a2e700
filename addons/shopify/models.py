"""Shopify tables."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.models import UTCDateTime, utcnow


class ShopifyWebhookInbox(db.Model):
    """A webhook delivery as received, kept until processed.

    Shopify delivers at least once: ``(shop_id, webhook_id)`` (``X-Shopify-Webhook-Id``) is
    unique, so a redelivery is recognised and not processed twice. ``resource_id`` (the
    order or product id) and ``triggered_at`` (``X-Shopify-Triggered-At``) let the processing
    job put out-of-order deliveries back in order.
    """

    __tablename__ = "shopify_webhook_inbox"
    __table_args__ = (UniqueConstraint("shop_id", "webhook_id"),
                      Index("ix_shopify_webhook_inbox_pending", "shop_id", "processed_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"))
    webhook_id: Mapped[str] = mapped_column(String(64))
    topic: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resource_id: Mapped[str | None] = mapped_column(String(64))
    triggered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    api_version: Mapped[str | None] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)


class ShopifyShopState(db.Model):
    """What the add-on keeps per Shopify shop besides the merchant's settings: the domain
    (webhook routing), where Shopify sends webhooks, and the product-import cursor."""

    __tablename__ = "shopify_shop_state"

    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"), primary_key=True)
    domain: Mapped[str] = mapped_column(String(255), index=True)
    webhook_url: Mapped[str | None] = mapped_column(String(500))
    currency: Mapped[str | None] = mapped_column(String(3))
    products_synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    installed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    uninstalled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ShopifyLocation(db.Model):
    """A Shopify location of one shop and the OMS warehouse it stands for.

    A retail location (a store selling with Shopify POS) maps to a ``store`` warehouse: POS
    sales take their stock from it and its quantities are pushed to that location. The
    ``stock_target`` location (the one fulfilling online orders) receives the shop's
    sellable figure (stock pool and channel rule)."""

    __tablename__ = "shopify_location"
    __table_args__ = (UniqueConstraint("shop_id", "location_gid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"))
    location_gid: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(255), default="")
    retail: Mapped[bool] = mapped_column(Boolean, default=False)
    stock_target: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    warehouse_id: Mapped[int | None] = mapped_column(ForeignKey("warehouse.id", ondelete="SET NULL"))
    #: what Shopify says of it (``fulfillsOnlineOrders``, address), shown on the locations page
    online: Mapped[bool | None] = mapped_column(Boolean)
    city: Mapped[str | None] = mapped_column(String(120))
    country: Mapped[str | None] = mapped_column(String(2))
    #: "ne pas utiliser": no stock pushed to it, never the stock target
    ignored: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: mapped by the merchant (locations page): the syncs keep its role and warehouse
    configured: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ShopifyFulfillment(db.Model):
    """The Shopify fulfillment created for an OMS shipment (one per shipment and location),
    so a retried job never fulfils twice."""

    __tablename__ = "shopify_fulfillment"
    __table_args__ = (UniqueConstraint("shipment_id", "fulfillment_gid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"))
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipment.id", ondelete="CASCADE"), index=True)
    fulfillment_gid: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ShopifyPrivacyRequest(db.Model):
    """A compliance webhook handled for a shop: a customer's data request (``report`` lists
    what the OMS holds, for the merchant to send), a customer redaction or a shop redaction
    (``report`` counts what was erased)."""

    __tablename__ = "shopify_privacy_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"), index=True)
    topic: Mapped[str] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(64))
    customer_email: Mapped[str | None] = mapped_column(String(254))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    report: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
