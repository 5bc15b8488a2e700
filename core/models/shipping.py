"""Shipments and returns."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..money import Amount
from .base import StrEnum, TranslatableText, UTCDateTime, _enum, utcnow
from .orders import Order, OrderLine, PaymentStatus
from .stock import Warehouse


class ShipmentStatus(StrEnum):
    DRAFT = "draft"
    LABEL_CREATED = "label_created"
    SHIPPED = "shipped"
    IN_TRANSIT = "in_transit"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    EXCEPTION = "exception"


class Shipment(db.Model):
    #: the hourly tracking job looks for parcels on their way that left in the last 30 days
    __table_args__ = (Index("ix_shipment_status_shipped", "status", "shipped_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id"), index=True)
    warehouse_id: Mapped[int | None] = mapped_column(ForeignKey("warehouse.id"))
    carrier: Mapped[str] = mapped_column(String(64), default="manual")
    service: Mapped[str | None] = mapped_column(String(120))
    tracking_number: Mapped[str | None] = mapped_column(String(128))
    tracking_url: Mapped[str | None] = mapped_column(String(500))
    label: Mapped[bytes | None] = mapped_column(LargeBinary)
    label_format: Mapped[str | None] = mapped_column(String(16))
    external_id: Mapped[str | None] = mapped_column(String(128))
    status: Mapped[ShipmentStatus] = mapped_column(_enum(ShipmentStatus), default=ShipmentStatus.DRAFT)
    weight_grams: Mapped[int | None] = mapped_column(Integer)
    cost: Mapped[Decimal | None] = mapped_column(Amount)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: why the carrier has not produced the label yet (refused data, carrier unreachable)
    label_error: Mapped[str | None] = mapped_column(Text)
    #: when the carrier last told about the parcel (webhook or poll): core asks again after a while
    carrier_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: label requests made so far, each committed before the carrier is called: the carrier
    #: add-on knows a request may already have reached the carrier (and looks it up first)
    label_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: when the running label request started (a lease: another one waits until it is stale)
    label_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    order: Mapped[Order] = relationship(back_populates="shipments")
    lines: Mapped[list["ShipmentLine"]] = relationship(back_populates="shipment", cascade="all, delete-orphan")


class ShipmentLine(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipment.id", ondelete="CASCADE"), index=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_line.id"))
    quantity: Mapped[int] = mapped_column(Integer)

    shipment: Mapped[Shipment] = relationship(back_populates="lines")
    order_line: Mapped[OrderLine] = relationship()


class ReturnStatus(StrEnum):
    OPEN = "open"
    RECEIVED = "received"
    INSPECTED = "inspected"
    RESTOCKED = "restocked"
    WRITTEN_OFF = "written_off"
    CLOSED = "closed"


class ReturnReason(StrEnum):
    SIZE = "size"
    DEFECT = "defect"
    NOT_AS_DESCRIBED = "not_as_described"
    CHANGED_MIND = "changed_mind"
    WRONG_ITEM = "wrong_item"


class Return(db.Model):
    """A return (RMA ``RMA-<id>``) of some units of an order: received, inspected, then
    restocked or written off; the refund is recorded beside it. A channel's own return is
    imported once per ``(shop_id, external_id)``."""

    __table_args__ = (UniqueConstraint("shop_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id"), index=True)
    status: Mapped[ReturnStatus] = mapped_column(_enum(ReturnStatus), default=ReturnStatus.OPEN)
    reason: Mapped[ReturnReason] = mapped_column(_enum(ReturnReason))
    refund_status: Mapped[PaymentStatus | None] = mapped_column(_enum(PaymentStatus))
    note: Mapped[str] = mapped_column(TranslatableText, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: the channel that reported it (None: opened by the merchant) and its id there
    shop_id: Mapped[int | None] = mapped_column(ForeignKey("shop.id", ondelete="SET NULL"))
    external_id: Mapped[str | None] = mapped_column(String(128))
    #: what was refunded to the customer, in ``currency`` (the order's)
    refund_amount: Mapped[Decimal | None] = mapped_column(Amount)
    currency: Mapped[str | None] = mapped_column(String(3))
    #: where restocked units went back
    restock_warehouse_id: Mapped[int | None] = mapped_column(ForeignKey("warehouse.id", ondelete="SET NULL"))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    inspected_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refunded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    order: Mapped[Order] = relationship()
    lines: Mapped[list["ReturnLine"]] = relationship(back_populates="ret", cascade="all, delete-orphan",
                                                     order_by="ReturnLine.id")
    restock_warehouse: Mapped[Warehouse | None] = relationship()

    @property
    def rma(self) -> str:
        return f"RMA-{self.id}"


class ReturnLine(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("return.id", ondelete="CASCADE"), index=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_line.id"))
    quantity: Mapped[int] = mapped_column(Integer)

    ret: Mapped[Return] = relationship(back_populates="lines")
    order_line: Mapped[OrderLine] = relationship()


class CarrierRule(db.Model):
    """Which carrier a parcel gets, tried in ``position`` order (``core.shipping_rules``): the
    first active rule whose conditions all hold names a carrier add-on, or ``cheapest``."""

    __tablename__ = "carrier_rule"
    __table_args__ = (Index("ix_carrier_rule_org_position", "organization_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    carrier: Mapped[str] = mapped_column(String(64))  # a carrier add-on's name, or "cheapest"
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)  # channel add-on names
    service_levels: Mapped[list[str]] = mapped_column(JSON, default=list)  # standard | express | prime
    #: "" any, "domestic" (the sender's country), "eu" (EU but not domestic), "non_eu"
    destination: Mapped[str] = mapped_column(String(16), default="")
    countries: Mapped[list[str]] = mapped_column(JSON, default=list)  # ISO 3166-1 alpha-2
    min_weight_grams: Mapped[int | None] = mapped_column(Integer)
    max_weight_grams: Mapped[int | None] = mapped_column(Integer)
    min_value: Mapped[Decimal | None] = mapped_column(Amount)
    max_value: Mapped[Decimal | None] = mapped_column(Amount)
    sku_tag: Mapped[str | None] = mapped_column(String(64))  # a product tag of an item in the parcel
