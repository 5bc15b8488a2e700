"""Cdiscount's own tables (prefixed with the add-on name), beside core's orders and shipments."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.models import UTCDateTime, utcnow
from core.money import Amount


class CdiscountOrder(db.Model):
    """An Octopia order as last read, and where the seller's decision on it stands."""

    __tablename__ = "cdiscount_order"
    __table_args__ = (UniqueConstraint("shop_id", "octopia_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id", ondelete="CASCADE"), unique=True)
    octopia_id: Mapped[str] = mapped_column(String(64))
    #: Octopia's state as it says it (a state added later is kept as is)
    status: Mapped[str] = mapped_column(String(40))
    supply_mode: Mapped[str] = mapped_column(String(20), default="Seller")
    sales_channel: Mapped[str] = mapped_column(String(20), default="")
    #: accept | refuse, once core decided
    decision: Mapped[str | None] = mapped_column(String(10))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    #: pending | sending (the call left; no answer yet) | done
    decision_state: Mapped[str | None] = mapped_column(String(10))
    decision_calls: Mapped[int] = mapped_column(Integer, default=0)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: a cancellation request sent from the OMS: sending | done
    cancel_state: Mapped[str | None] = mapped_column(String(10))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class CdiscountParcel(db.Model):
    """One OMS shipment told to Octopia as a parcel."""

    __tablename__ = "cdiscount_parcel"

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"), index=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipment.id", ondelete="CASCADE"), unique=True)
    parcel_number: Mapped[str] = mapped_column(String(128))
    carrier_name: Mapped[str] = mapped_column(String(80), default="")
    #: sending (the call left; no answer yet) | done | skipped
    state: Mapped[str] = mapped_column(String(10), default="sending")
    calls: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CdiscountOffer(db.Model):
    """An offer of the seller on Cdiscount: as Octopia's catalogue last showed it (``GET
    /offers``), the OMS variant behind it (none while the merchant has not fixed it), and the
    stock and price last sent (``PUT /offers``), with whether new figures wait.

    A row made by a stock change before the catalogue was read has no ``seller_sku``: the
    variant's own SKU is sent; the catalogue's reading adopts the row."""

    __tablename__ = "cdiscount_offer"
    __table_args__ = (UniqueConstraint("shop_id", "seller_sku"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"), index=True)
    variant_id: Mapped[int | None] = mapped_column(ForeignKey("variant.id", ondelete="CASCADE"), index=True)
    #: the seller's reference of the offer on Octopia (``sellerExternalReference``)
    seller_sku: Mapped[str | None] = mapped_column(String(128))
    #: Octopia's own id of the offer (seller, product, condition, channel)
    offer_id: Mapped[str | None] = mapped_column(String(128))
    gtin: Mapped[str | None] = mapped_column(String(32))
    title: Mapped[str | None] = mapped_column(String(255))
    #: as Octopia shows them: the price integrated (taxes included), the quantity, Active / Inactive
    remote_price: Mapped[Decimal | None] = mapped_column(Amount)
    remote_stock: Mapped[int | None] = mapped_column(Integer)
    offer_state: Mapped[str | None] = mapped_column(String(20))
    seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pending: Mapped[bool] = mapped_column(Boolean, default=True)
    stock: Mapped[int | None] = mapped_column(Integer)
    price: Mapped[Decimal | None] = mapped_column(Amount)
    pushed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CdiscountState(db.Model):
    """Where the shop's reading of Octopia's financial operations stands (its poll cursor)."""

    __tablename__ = "cdiscount_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"), unique=True)
    finance_cursor: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finance_read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CdiscountOperation(db.Model):
    """One financial operation of Octopia (a sale, a commission, a refund…) as last read: the
    order's fees are the sum of its fee operations, a refund becomes an OMS return."""

    __tablename__ = "cdiscount_operation"
    __table_args__ = (UniqueConstraint("shop_id", "operation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"), index=True)
    operation_id: Mapped[str] = mapped_column(String(64))
    #: Octopia's order id (``operationReference``); the OMS order once it is known
    reference: Mapped[str] = mapped_column(String(64), index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("order.id", ondelete="CASCADE"), index=True)
    event_type: Mapped[str] = mapped_column(String(40))
    #: signed from the seller's side (a commission is negative)
    amount: Mapped[Decimal] = mapped_column(Amount)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    payment_state: Mapped[str | None] = mapped_column(String(20))
    #: the operation as Octopia answered it (JSON), for a refund read before its order
    data: Mapped[str | None] = mapped_column(Text)
    #: a refund imported as an OMS return
    imported: Mapped[bool] = mapped_column(Boolean, default=False)
    read_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
