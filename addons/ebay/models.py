"""eBay's own tables (prefixed ``ebay_``), referencing core rows by foreign key."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.models import UTCDateTime, utcnow


class EbayAccount(db.Model):
    """What the add-on knows of a shop's eBay account: who it is, its notification
    destination and subscriptions, and the cursors of its reads."""

    __tablename__ = "ebay_account"

    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"), primary_key=True)
    username: Mapped[str | None] = mapped_column(String(64))
    user_id: Mapped[str | None] = mapped_column(String(64))
    destination_id: Mapped[str | None] = mapped_column(String(64))
    subscriptions: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    signing_key_id: Mapped[str | None] = mapped_column(String(64))
    listings_synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finances_cursor: Mapped[datetime | None] = mapped_column(UTCDateTime)
    returns_cursor: Mapped[datetime | None] = mapped_column(UTCDateTime)
    connected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class EbayOrder(db.Model):
    """An imported eBay order and what the OMS order does not keep (buyer's eBay name,
    legacy id for Post-Order, VAT eBay collected)."""

    __tablename__ = "ebay_order"
    __table_args__ = (UniqueConstraint("shop_id", "ebay_order_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"), index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("order.id", ondelete="SET NULL"), index=True)
    ebay_order_id: Mapped[str] = mapped_column(String(64))
    legacy_order_id: Mapped[str | None] = mapped_column(String(64))
    buyer_username: Mapped[str | None] = mapped_column(String(64), index=True)
    fulfillment_status: Mapped[str | None] = mapped_column(String(32))
    payment_status: Mapped[str | None] = mapped_column(String(32))
    cancel_state: Mapped[str | None] = mapped_column(String(32))
    collected_tax: Mapped[Decimal] = mapped_column(Numeric(12, 2), default=Decimal("0"))
    last_modified: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cancellation_sent: Mapped[str | None] = mapped_column(String(64))
    refund_id: Mapped[str | None] = mapped_column(String(64))
    fees_read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: ``paymentSummary.refunds`` (and line-level refunds) as last read: refundId, status, amount
    refunds: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)


class EbayListing(db.Model):
    """One SKU on eBay: its offers (Inventory API), or a listing made elsewhere (Seller Hub,
    Trading API) whose stock the add-on cannot set until it is migrated."""

    __tablename__ = "ebay_listing"
    __table_args__ = (UniqueConstraint("shop_id", "sku"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"), index=True)
    sku: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(255), default="")
    variant_id: Mapped[int | None] = mapped_column(ForeignKey("variant.id", ondelete="SET NULL"), index=True)
    offer_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    legacy_item_id: Mapped[str | None] = mapped_column(String(32))
    price: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    inventory_api: Mapped[bool] = mapped_column(Boolean, default=True)
    pushed_quantity: Mapped[int | None] = mapped_column(Integer)
    pushed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    push_error: Mapped[str | None] = mapped_column(Text)


class EbayStockPending(db.Model):
    """Variants whose quantity is to be pushed (coalesced: the job reads the figures then)."""

    __tablename__ = "ebay_stock_pending"

    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"), primary_key=True)
    variant_id: Mapped[int] = mapped_column(ForeignKey("variant.id", ondelete="CASCADE"), primary_key=True)


class EbayFulfillment(db.Model):
    """A shipment's tracking sent to eBay. ``state`` is ``sending`` from just before the call
    until eBay's answer: a job that finds ``sending`` reads eBay's fulfillments first, so an
    unanswered call is never sent twice."""

    __tablename__ = "ebay_fulfillment"

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"), index=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipment.id", ondelete="CASCADE"), unique=True)
    ebay_order_id: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default="sending")
    carrier_code: Mapped[str] = mapped_column(String(64), default="")
    tracking_number: Mapped[str] = mapped_column(String(64), default="")
    fulfillment_id: Mapped[str | None] = mapped_column(String(64))
    error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EbayAccountDeletion(db.Model):
    """A MARKETPLACE_ACCOUNT_DELETION received, and what was erased for it."""

    __tablename__ = "ebay_account_deletion"

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"), index=True)
    username: Mapped[str] = mapped_column(String(64), default="")
    user_id: Mapped[str] = mapped_column(String(64), default="")
    orders_anonymised: Mapped[int] = mapped_column(Integer, default=0)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EbayReturn(db.Model):
    """A return opened on eBay (Post-Order ``returnId``, ``kind`` ``return``) or a refund read
    on an order (``refundId``, ``kind`` ``refund``), kept as read even while its order is
    unknown to the OMS; ``return_id`` is the OMS return it became. A refund that belongs to
    an eBay return, or that the OMS issued, is kept with ``settled`` saying so and imports
    nothing."""

    __tablename__ = "ebay_return"
    __table_args__ = (UniqueConstraint("shop_id", "kind", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8), default="return")
    external_id: Mapped[str] = mapped_column(String(64))
    ebay_order_id: Mapped[str] = mapped_column(String(64), default="")
    order_id: Mapped[int | None] = mapped_column(ForeignKey("order.id", ondelete="SET NULL"), index=True)
    state: Mapped[str] = mapped_column(String(48), default="")
    reason: Mapped[str] = mapped_column(String(48), default="")
    item_id: Mapped[str] = mapped_column(String(32), default="")
    transaction_id: Mapped[str] = mapped_column(String(32), default="")
    quantity: Mapped[int] = mapped_column(Integer, default=0)
    refund_amount: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    return_id: Mapped[int | None] = mapped_column(ForeignKey("return.id", ondelete="SET NULL"))
    settled: Mapped[str | None] = mapped_column(String(80))
    noted: Mapped[bool] = mapped_column(Boolean, default=False)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    read_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    order = relationship("Order", lazy="joined")
