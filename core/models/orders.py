"""Orders, their lines, customers and history."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..money import Amount, Money
from .base import StrEnum, TranslatableText, UTCDateTime, _enum, utcnow
from .catalog import Variant
from .shops import Shop
from .stock import Warehouse


class OrderStatus(StrEnum):
    NEW = "new"  # nouvelle
    ON_HOLD = "on_hold"  # en attente
    ALLOCATED = "allocated"  # allouée
    PICKING = "picking"  # en préparation
    PACKED = "packed"  # emballée
    SHIPPED = "shipped"  # expédiée
    DELIVERED = "delivered"  # livrée
    CANCELLED = "cancelled"  # annulée
    RETURNED = "returned"  # retournée


class PaymentStatus(StrEnum):
    PENDING = "pending"
    AUTHORIZED = "authorized"
    PAID = "paid"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    VOIDED = "voided"


class ServiceLevel(StrEnum):
    STANDARD = "standard"
    EXPRESS = "express"
    PRIME = "prime"


class FulfillmentChannel(StrEnum):
    MERCHANT = "merchant"  # FBM: the merchant picks, packs, ships
    MARKETPLACE = "marketplace"  # FBA: the marketplace ships ("expédié par Amazon")


class Customer(db.Model):
    __table_args__ = (Index("ix_customer_org_email", "organization_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    email: Mapped[str | None] = mapped_column(String(254))
    name: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Order(db.Model):
    """A customer order from one shop; ``(shop_id, external_id)`` is unique, so a
    re-import updates instead of duplicating."""

    __table_args__ = (
        UniqueConstraint("shop_id", "external_id"),
        Index("ix_order_org_status", "organization_id", "status"),
        Index("ix_order_org_created", "organization_id", "created_at"),
        Index("ix_order_org_placed", "organization_id", "placed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id"))
    external_id: Mapped[str] = mapped_column(String(128))
    number: Mapped[str] = mapped_column(String(64))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    shipping_address: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    billing_address: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    presentment_currency: Mapped[str | None] = mapped_column(String(3))
    subtotal: Mapped[Decimal] = mapped_column(Amount, default=Decimal("0"))
    shipping_total: Mapped[Decimal] = mapped_column(Amount, default=Decimal("0"))
    tax_total: Mapped[Decimal] = mapped_column(Amount, default=Decimal("0"))
    discount_total: Mapped[Decimal] = mapped_column(Amount, default=Decimal("0"))
    total: Mapped[Decimal] = mapped_column(Amount, default=Decimal("0"))
    presentment_total: Mapped[Decimal | None] = mapped_column(Amount)
    payment_status: Mapped[PaymentStatus] = mapped_column(_enum(PaymentStatus), default=PaymentStatus.PENDING)
    service_level: Mapped[ServiceLevel] = mapped_column(_enum(ServiceLevel), default=ServiceLevel.STANDARD)
    fulfillment_channel: Mapped[FulfillmentChannel] = mapped_column(
        _enum(FulfillmentChannel), default=FulfillmentChannel.MERCHANT)
    status: Mapped[OrderStatus] = mapped_column(_enum(OrderStatus), default=OrderStatus.NEW)
    hold_reason: Mapped[str | None] = mapped_column(TranslatableText)
    #: why the order waits: unknown_sku | backorder | no_source | manual (None when not held)
    hold_code: Mapped[str | None] = mapped_column(String(32))
    #: online (web, marketplace) or pos (sold and handed over in a store)
    origin: Mapped[str] = mapped_column(String(16), default="online")
    #: for POS sales: the store's warehouse code
    pos_location: Mapped[str | None] = mapped_column(String(64))
    #: the relay point or locker the parcel goes to (``core.pickup``): id, network, name,
    #: address, opening hours, and who chose it (the channel or the merchant); None: home
    pickup_point: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    #: received past the plan's monthly limit (kept and processed; the UI shows the limit)
    over_quota: Mapped[bool] = mapped_column(Boolean, default=False)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    external_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    #: preparation time: first item picked (or checked at packing), packed, last parcel shipped
    picking_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    packed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    shop: Mapped[Shop] = relationship()
    customer: Mapped[Customer | None] = relationship()
    lines: Mapped[list["OrderLine"]] = relationship(back_populates="order", order_by="OrderLine.id",
                                                    cascade="all, delete-orphan")
    events: Mapped[list["OrderEvent"]] = relationship(back_populates="order", order_by="OrderEvent.id",
                                                      cascade="all, delete-orphan")
    shipments: Mapped[list["Shipment"]] = relationship(back_populates="order", order_by="Shipment.id")

    @property
    def total_money(self) -> Money:
        return Money(self.total, self.currency)


class LineSource(StrEnum):
    WAREHOUSE = "warehouse"
    MARKETPLACE = "marketplace"
    DROPSHIP = "dropship"
    POS = "pos"


class OrderLine(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id", ondelete="CASCADE"), index=True)
    external_id: Mapped[str | None] = mapped_column(String(128))
    variant_id: Mapped[int | None] = mapped_column(ForeignKey("variant.id"), index=True)
    sku: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(255), default="")
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[Decimal] = mapped_column(Amount, default=Decimal("0"))
    tax: Mapped[Decimal] = mapped_column(Amount, default=Decimal("0"))
    discount: Mapped[Decimal] = mapped_column(Amount, default=Decimal("0"))
    source: Mapped[LineSource | None] = mapped_column(_enum(LineSource))
    warehouse_id: Mapped[int | None] = mapped_column(ForeignKey("warehouse.id"))
    reserved_quantity: Mapped[int] = mapped_column(Integer, default=0)

    order: Mapped[Order] = relationship(back_populates="lines")
    variant: Mapped[Variant | None] = relationship()
    warehouse: Mapped[Warehouse | None] = relationship()

    @property
    def line_total(self) -> Decimal:
        return self.unit_price * self.quantity - self.discount


class OrderEvent(db.Model):
    """One entry of an order's history: what came from where, when, what changed."""

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(40))
    source: Mapped[str] = mapped_column(String(64), default="core")
    message: Mapped[str] = mapped_column(TranslatableText, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    order: Mapped[Order] = relationship(back_populates="events")
