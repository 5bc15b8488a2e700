"""Dropshipping tables: suppliers and the products they serve, the order lines routed to
them, the purchase orders they receive (with every send), the tracking they send back, and
the runs of their stock feeds."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.crypto import EncryptedJSON
from core.extensions import db
from core.models import Order, OrderLine, Shipment, Shop, UTCDateTime, Variant, Warehouse, utcnow
from core.money import UnitCost

ORDER_CHANNELS = ("email", "webhook")
MODES = ("dropship", "restock")


class PurchaseOrderStatus:
    """Where a purchase order stands (stored as a plain string)."""

    PENDING = "pending"  # waits for the supplier's next batch time
    QUEUED = "queued"  # its sending is queued
    SENT = "sent"  # the supplier received it
    FAILED = "failed"  # the last send failed (retried automatically, then by the merchant)
    CONFIRMED = "confirmed"  # the supplier confirmed it
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"  # every line left the supplier's warehouse
    CANCELLED = "cancelled"

    ALL = (PENDING, QUEUED, SENT, FAILED, CONFIRMED, PARTIALLY_SHIPPED, SHIPPED, CANCELLED)
    #: the supplier may still send tracking for it
    OPEN = (QUEUED, SENT, FAILED, CONFIRMED, PARTIALLY_SHIPPED, PENDING)


class DropshipSupplier(db.Model):
    """A supplier who ships some of the organization's products to its customers, and how
    it receives purchase orders (``email`` to ``email``, or ``webhook`` to ``webhook_url``
    signed with its own secret). Its stock lives in its own warehouse (kind ``supplier``)."""

    __tablename__ = "dropship_supplier"
    __table_args__ = (
        UniqueConstraint("organization_id", "name"),
        CheckConstraint("order_channel IN ('email', 'webhook')", name="order_channel"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(120))
    contact_name: Mapped[str | None] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    order_channel: Mapped[str] = mapped_column(String(16), default="email")
    webhook_url: Mapped[str | None] = mapped_column(String(500))
    #: ``{"webhook_secret": …}``, encrypted at rest
    secrets: Mapped[dict[str, Any] | None] = mapped_column(EncryptedJSON, default=dict)
    #: SHA-256 (hex) of the key the supplier's system sends as ``Authorization: Bearer``
    api_key_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    lead_time_days: Mapped[int] = mapped_column(Integer, default=2)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    warehouse_id: Mapped[int | None] = mapped_column(ForeignKey("warehouse.id", ondelete="SET NULL"))
    #: send purchase orders grouped at these local times ("08:00,14:00"); empty: at once
    batch_times: Mapped[str | None] = mapped_column(String(100))
    last_batch_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    feed_url: Mapped[str | None] = mapped_column(String(500))
    feed_interval_minutes: Mapped[int | None] = mapped_column(Integer)
    last_feed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    warehouse: Mapped[Warehouse | None] = relationship()
    products: Mapped[list["DropshipSupplierProduct"]] = relationship(
        back_populates="supplier", cascade="all, delete-orphan", order_by="DropshipSupplierProduct.supplier_sku")

    @property
    def webhook_secret(self) -> str:
        return str((self.secrets or {}).get("webhook_secret") or "")

    @webhook_secret.setter
    def webhook_secret(self, value: str) -> None:
        self.secrets = {**(self.secrets or {}), "webhook_secret": value}

    @property
    def stock_buffer(self) -> int:
        """Units of each SKU held back from the channels out of the supplier's published stock
        (its warehouse's sell buffer, see ``core.stock.set_sell_buffer``)."""
        return self.warehouse.sell_buffer if self.warehouse is not None else 0


class DropshipSupplierProduct(db.Model):
    """A variant a supplier provides: its reference and price there, the supplier's rank
    among the variant's suppliers (lowest ``priority`` first), and whether the supplier ships
    it to customers (``dropship``) or only restocks the merchant (``restock``).
    ``dropship_only`` variants are never served from own stock."""

    __tablename__ = "dropship_supplier_product"
    __table_args__ = (
        UniqueConstraint("supplier_id", "variant_id"),
        UniqueConstraint("supplier_id", "supplier_sku"),
        CheckConstraint("mode IN ('dropship', 'restock')", name="mode"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("dropship_supplier.id", ondelete="CASCADE"))
    variant_id: Mapped[int] = mapped_column(ForeignKey("variant.id", ondelete="CASCADE"), index=True)
    supplier_sku: Mapped[str] = mapped_column(String(64))
    unit_cost: Mapped[Decimal | None] = mapped_column(UnitCost)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    priority: Mapped[int] = mapped_column(Integer, default=10)
    mode: Mapped[str] = mapped_column(String(16), default="dropship")
    dropship_only: Mapped[bool] = mapped_column(Boolean, default=False)

    supplier: Mapped[DropshipSupplier] = relationship(back_populates="products")
    variant: Mapped[Variant] = relationship()


class DropshipPurchaseOrder(db.Model):
    """What one supplier must ship for one order: the customer's address and the lines,
    with the supplier's references and costs."""

    __tablename__ = "dropship_purchase_order"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"), index=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"))
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id", ondelete="CASCADE"), index=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("dropship_supplier.id", ondelete="CASCADE"), index=True)
    reference: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(20), default=PurchaseOrderStatus.QUEUED)
    ship_to: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    shop: Mapped[Shop] = relationship()
    order: Mapped[Order] = relationship()
    supplier: Mapped[DropshipSupplier] = relationship()
    lines: Mapped[list["DropshipLine"]] = relationship(back_populates="purchase_order",
                                                       order_by="DropshipLine.id")
    sends: Mapped[list["DropshipSend"]] = relationship(back_populates="purchase_order",
                                                       order_by="DropshipSend.id", cascade="all, delete-orphan")
    trackings: Mapped[list["DropshipTracking"]] = relationship(
        back_populates="purchase_order", order_by="DropshipTracking.id", cascade="all, delete-orphan")

    @property
    def total_cost(self) -> Decimal:
        return sum(((ln.unit_cost or Decimal("0")) * ln.quantity for ln in self.lines), Decimal("0"))


class DropshipLine(db.Model):
    """An order line routed to a supplier, with the supplier's reference and cost frozen at
    routing. It joins its supplier's purchase order once the order is allocated."""

    __tablename__ = "dropship_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_line.id", ondelete="CASCADE"), unique=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("dropship_supplier.id", ondelete="CASCADE"), index=True)
    supplier_product_id: Mapped[int | None] = mapped_column(
        ForeignKey("dropship_supplier_product.id", ondelete="SET NULL"))
    purchase_order_id: Mapped[int | None] = mapped_column(
        ForeignKey("dropship_purchase_order.id", ondelete="SET NULL"), index=True)
    sku: Mapped[str] = mapped_column(String(64))
    supplier_sku: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(255), default="")
    quantity: Mapped[int] = mapped_column(Integer)
    unit_cost: Mapped[Decimal | None] = mapped_column(UnitCost)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    routed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    order_line: Mapped[OrderLine] = relationship()
    supplier: Mapped[DropshipSupplier] = relationship()
    purchase_order: Mapped[DropshipPurchaseOrder | None] = relationship(back_populates="lines")


class DropshipSend(db.Model):
    """One attempt at sending a purchase order (alone or in a batch), and how it went."""

    __tablename__ = "dropship_send"

    id: Mapped[int] = mapped_column(primary_key=True)
    purchase_order_id: Mapped[int] = mapped_column(ForeignKey("dropship_purchase_order.id", ondelete="CASCADE"),
                                                   index=True)
    channel: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ok: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str | None] = mapped_column(Text)
    attempt: Mapped[int] = mapped_column(Integer, default=1)
    #: purchase orders sent together share it
    batch: Mapped[str | None] = mapped_column(String(64))

    purchase_order: Mapped[DropshipPurchaseOrder] = relationship(back_populates="sends")


class DropshipTracking(db.Model):
    """A parcel the supplier reported for a purchase order, and the core shipment it made."""

    __tablename__ = "dropship_tracking"
    __table_args__ = (UniqueConstraint("purchase_order_id", "tracking_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    purchase_order_id: Mapped[int] = mapped_column(ForeignKey("dropship_purchase_order.id", ondelete="CASCADE"))
    shipment_id: Mapped[int | None] = mapped_column(ForeignKey("shipment.id", ondelete="SET NULL"))
    carrier: Mapped[str] = mapped_column(String(120), default="")
    tracking_number: Mapped[str] = mapped_column(String(128))
    tracking_url: Mapped[str | None] = mapped_column(String(500))
    #: link (the supplier's page), csv, api, merchant
    source: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    purchase_order: Mapped[DropshipPurchaseOrder] = relationship(back_populates="trackings")
    shipment: Mapped[Shipment | None] = relationship()


class DropshipFeedRun(db.Model):
    """One reading of a supplier's stock feed: rows applied and rows refused (with their
    line number and reason), or why the whole feed could not be read."""

    __tablename__ = "dropship_feed_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("dropship_supplier.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: upload or url
    source: Mapped[str] = mapped_column(String(16))
    ok_rows: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    error: Mapped[str | None] = mapped_column(Text)

    supplier: Mapped[DropshipSupplier] = relationship()
