"""Amazon tables (prefixed ``amazon_``), each referencing core rows by foreign key."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.crypto import EncryptedText
from core.extensions import db
from core.models import UTCDateTime, utcnow
from core.money import Amount


class AmazonMarketplace(db.Model):
    """A marketplace the shop's seller account can sell on, as Amazon last reported it
    (``getMarketplaceParticipations``); refreshed by each connection check."""

    __tablename__ = "amazon_marketplace"
    __table_args__ = (UniqueConstraint("shop_id", "marketplace_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"))
    marketplace_id: Mapped[str] = mapped_column(String(32))
    country_code: Mapped[str] = mapped_column(String(2))
    name: Mapped[str] = mapped_column(String(120))
    currency: Mapped[str] = mapped_column(String(3))
    participating: Mapped[bool] = mapped_column(Boolean, default=False)


class AmazonOrder(db.Model):
    """What the OMS keeps of an Amazon order besides core's ``Order``: the marketplace it was
    sold on (confirmShipment needs it), Amazon's own status and when its financial events
    are to be read."""

    __tablename__ = "amazon_order"
    __table_args__ = (UniqueConstraint("shop_id", "amazon_order_id"),
                      Index("ix_amazon_order_finance_due", "shop_id", "finance_due_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"))
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id", ondelete="CASCADE"), index=True)
    amazon_order_id: Mapped[str] = mapped_column(String(32))
    marketplace_id: Mapped[str | None] = mapped_column(String(32))
    fulfilled_by: Mapped[str] = mapped_column(String(16))  # MERCHANT | AMAZON
    status: Mapped[str] = mapped_column(String(32))  # fulfillmentStatus (v2026-01-01)
    last_updated: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: address and order-item ids known (searchOrders/getOrder), not just an orders-report row
    complete: Mapped[bool] = mapped_column(Boolean, default=True)
    #: last shipment of the order (confirmed by the OMS or reported by Amazon): the reads of
    #: its financial events are scheduled from it (see ``finances``)
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: next read of its financial events (fees, refunds); None: nothing more to read
    finance_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: when Amazon's fees for it were first found in its financial events
    fees_read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AmazonSyncState(db.Model):
    """The orders import in progress for a shop. ``Shop.sync_cursor`` holds the committed
    high-water mark (last-updated time); this row holds the window being read and where the
    reading stands (a searchOrders page token, or orders reports and the orders they list),
    so a run cut by a rate limit or an error resumes where it stopped."""

    __tablename__ = "amazon_sync_state"

    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"), primary_key=True)
    path: Mapped[str | None] = mapped_column(String(16))  # search | report (None: idle)
    window_after: Mapped[str | None] = mapped_column(String(32))
    window_before: Mapped[str | None] = mapped_column(String(32))
    next_token: Mapped[str | None] = mapped_column(Text)
    reports: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # marketplace -> report id / state
    details_pending: Mapped[list[str]] = mapped_column(JSON, default=list)  # orders needing getOrder
    decision: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # why this path (estimates)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class AmazonListing(db.Model):
    """One offer of the seller (SKU × marketplace) as the listings report and
    ``getListingsItem`` describe it, matched (or not) to an OMS variant by SKU."""

    __tablename__ = "amazon_listing"
    __table_args__ = (UniqueConstraint("shop_id", "sku", "marketplace_id"),
                      Index("ix_amazon_listing_shop_variant", "shop_id", "variant_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"))
    sku: Mapped[str] = mapped_column(String(128))
    marketplace_id: Mapped[str] = mapped_column(String(32))
    variant_id: Mapped[int | None] = mapped_column(ForeignKey("variant.id", ondelete="SET NULL"))
    asin: Mapped[str | None] = mapped_column(String(16))
    #: EAN, UPC or ISBN of the offer when the listings report gives one (``product-id``)
    barcode: Mapped[str | None] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(500), default="")
    price: Mapped[Decimal | None] = mapped_column(Amount)
    currency: Mapped[str | None] = mapped_column(String(3))
    images: Mapped[list[str]] = mapped_column(JSON, default=list)
    product_type: Mapped[str | None] = mapped_column(String(64))
    #: fulfillment channel codes of the offer: DEFAULT (seller, FBM) and/or AMAZON_EU… (FBA)
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    parent_sku: Mapped[str | None] = mapped_column(String(128))
    is_parent: Mapped[bool] = mapped_column(Boolean, default=False)
    variation_theme: Mapped[str | None] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(32), default="")
    amazon_quantity: Mapped[int | None] = mapped_column(Integer)
    pushed_quantity: Mapped[int | None] = mapped_column(Integer)
    pushed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    push_error: Mapped[str | None] = mapped_column(Text)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    @property
    def merchant_fulfilled(self) -> bool:
        return "DEFAULT" in (self.channels or [])


class AmazonCatalogImport(db.Model):
    """One listings import (listings report, then getListingsItem per SKU) and its result."""

    __tablename__ = "amazon_catalog_import"

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(16), default="running")  # running | done | failed
    reports: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # marketplace -> report id
    listings: Mapped[int] = mapped_column(Integer, default=0)
    matched: Mapped[int] = mapped_column(Integer, default=0)
    unmatched: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AmazonStockPending(db.Model):
    """Variants whose figure must be pushed to this Amazon shop (drained by the push job)."""

    __tablename__ = "amazon_stock_pending"

    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"), primary_key=True)
    variant_id: Mapped[int] = mapped_column(ForeignKey("variant.id", ondelete="CASCADE"), primary_key=True)


class AmazonFeed(db.Model):
    """A JSON_LISTINGS_FEED of quantities and what Amazon's processing report said."""

    __tablename__ = "amazon_feed"

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"), index=True)
    marketplace_id: Mapped[str] = mapped_column(String(32))
    feed_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="IN_QUEUE")
    messages: Mapped[int] = mapped_column(Integer, default=0)
    #: messageId -> {sku, quantity} of what was sent
    sent: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    issues: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AmazonSubscription(db.Model):
    """The shop's ORDER_CHANGE subscription: Amazon destination (SQS queue), subscription,
    and the secret the relay presents when it hands notifications to the OMS."""

    __tablename__ = "amazon_subscription"

    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"), primary_key=True)
    queue_arn: Mapped[str] = mapped_column(String(1000))
    destination_id: Mapped[str | None] = mapped_column(String(128))
    subscription_id: Mapped[str | None] = mapped_column(String(128))
    #: encrypted at rest; shown once, when the merchant generates it
    relay_secret: Mapped[str] = mapped_column(EncryptedText)
    received: Mapped[int] = mapped_column(Integer, default=0)
    last_received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
