"""WooCommerce's own tables (prefixed ``woocommerce_``), referencing core rows by foreign key."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.models import UTCDateTime, utcnow


class WoocommerceState(db.Model):
    """What the add-on learnt about a shop's store: its version, whether Shipment Tracking is
    there, the batch limit the store stated, the last webhook check."""

    __tablename__ = "woocommerce_state"

    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"), primary_key=True)
    wc_version: Mapped[str | None] = mapped_column(String(32))
    has_tracking: Mapped[bool | None] = mapped_column(Boolean)
    batch_limit: Mapped[int] = mapped_column(Integer, default=100)
    webhooks_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    webhooks_note: Mapped[str | None] = mapped_column(Text)
    catalog_synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WoocommerceWebhook(db.Model):
    """A webhook the add-on created on the store (one per topic)."""

    __tablename__ = "woocommerce_webhook"
    __table_args__ = (UniqueConstraint("shop_id", "topic"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"), index=True)
    topic: Mapped[str] = mapped_column(String(64))
    remote_id: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="active")
    reenabled: Mapped[int] = mapped_column(Integer, default=0)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WoocommerceListing(db.Model):
    """A product or variation of the store (``variation_id`` 0 for a simple product), matched
    to an OMS variant by SKU, then barcode (``global_unique_id``)."""

    __tablename__ = "woocommerce_listing"
    __table_args__ = (UniqueConstraint("shop_id", "product_id", "variation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(Integer)
    variation_id: Mapped[int] = mapped_column(Integer, default=0)
    sku: Mapped[str] = mapped_column(String(255), default="", index=True)
    barcode: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(500), default="")
    variant_id: Mapped[int | None] = mapped_column(ForeignKey("variant.id", ondelete="SET NULL"), index=True)
    stock_quantity: Mapped[int | None] = mapped_column(Integer)
    pushed_quantity: Mapped[int | None] = mapped_column(Integer)
    pushed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    push_error: Mapped[str | None] = mapped_column(Text)


class WoocommerceTracking(db.Model):
    """A shipment told to the store (a Shipment Tracking entry or a customer note): never twice."""

    __tablename__ = "woocommerce_tracking"
    __table_args__ = (UniqueConstraint("shop_id", "shipment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"), index=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipment.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # tracking | note
    remote_id: Mapped[str] = mapped_column(String(64), default="")
    completed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
