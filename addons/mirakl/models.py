"""Mirakl tables (prefixed ``mirakl_``), each referencing core rows by foreign key."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.models import UTCDateTime, utcnow


class MiraklOrder(db.Model):
    """What the OMS keeps of a Mirakl order besides core's ``Order``: Mirakl's own state
    (any value, a new one kept as it comes), its line ids (OR21 needs every one), the
    shipping deadline, and the decision sent."""

    __tablename__ = "mirakl_order"
    __table_args__ = (UniqueConstraint("shop_id", "mirakl_order_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"), index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("order.id", ondelete="SET NULL"), index=True)
    mirakl_order_id: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(64))
    line_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    shipping_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime)
    address_known: Mapped[bool] = mapped_column(Boolean, default=False)
    pickup_point_id: Mapped[str | None] = mapped_column(String(64))
    #: "accept" / "refuse" once asked by the OMS; sent_at once Mirakl took it
    decision: Mapped[str | None] = mapped_column(String(16))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decision_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: units of each line cancelled or refused on Mirakl and already taken off the OMS order
    cancelled_units: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class MiraklShopState(db.Model):
    """One shop's Mirakl bookkeeping: variants whose stock waits to be pushed (coalesced),
    the instance's carriers (SH21, read once a day) and reason codes (RE02)."""

    __tablename__ = "mirakl_shop_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"), unique=True)
    pending_variants: Mapped[list[Any]] = mapped_column(JSON, default=list)
    carriers: Mapped[list[Any]] = mapped_column(JSON, default=list)
    carriers_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reasons: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    reasons_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_stock_import_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class MiraklStockImport(db.Model):
    """One STO01 stock file sent, its status (STO02) and the errors per SKU (STO03)."""

    __tablename__ = "mirakl_stock_import"

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"), index=True)
    import_id: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(32), default="SENDING")
    quantities: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    errors: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    lines_in_success: Mapped[int] = mapped_column(Integer, default=0)
    lines_in_error: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class MiraklShipment(db.Model):
    """What was told to Mirakl of one OMS shipment: tracking (OR23 or ST01) and OR24."""

    __tablename__ = "mirakl_shipment"

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"), index=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipment.id", ondelete="CASCADE"), unique=True)
    mirakl_order_id: Mapped[str] = mapped_column(String(64))
    carrier_code: Mapped[str | None] = mapped_column(String(64))
    tracking_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    shipped_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    mirakl_shipment_id: Mapped[str | None] = mapped_column(String(64))


class MiraklRefund(db.Model):
    """One OMS refund sent to Mirakl (OR28), once: the attempt is on record before the call,
    with the refund ids the lines already carried, so a lost answer is settled by reading the
    order (a new refund on the lines means Mirakl took it)."""

    __tablename__ = "mirakl_refund"

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"), index=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("return.id", ondelete="CASCADE"), unique=True)
    mirakl_order_id: Mapped[str] = mapped_column(String(64))
    amount: Mapped[str] = mapped_column(String(32))
    known_refund_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)
    refund_ids: Mapped[list[Any]] = mapped_column(JSON, default=list)
    attempted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class MiraklOffer(db.Model):
    """One offer of the shop on the operator (OF21), matched to a variant by shop SKU, then
    EAN, then the product's SKU; unmatched ones are shown with the listing fixes."""

    __tablename__ = "mirakl_offer"
    __table_args__ = (UniqueConstraint("shop_id", "shop_sku"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"), index=True)
    variant_id: Mapped[int | None] = mapped_column(ForeignKey("variant.id", ondelete="SET NULL"), index=True)
    shop_sku: Mapped[str] = mapped_column(String(128))
    offer_id: Mapped[str | None] = mapped_column(String(32))
    product_sku: Mapped[str | None] = mapped_column(String(128))
    ean: Mapped[str | None] = mapped_column(String(32))
    title: Mapped[str | None] = mapped_column(String(255))
    price: Mapped[str | None] = mapped_column(String(32))
    quantity: Mapped[int] = mapped_column(Integer, default=0)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MiraklReturn(db.Model):
    """A customer's return on Mirakl (RT11), kept from its request: accepted or refused by the
    merchant (RT21, once: the decision is on record before the call, and a lost answer is
    settled by reading the return), then imported into the OMS once its units are back."""

    __tablename__ = "mirakl_return"
    __table_args__ = (UniqueConstraint("shop_id", "return_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"), index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("order.id", ondelete="SET NULL"), index=True)
    return_id: Mapped[str] = mapped_column(String(64))
    mirakl_order_id: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(64))
    reason_code: Mapped[str | None] = mapped_column(String(64))
    #: [[order_line_id, quantity], …]
    lines: Mapped[list[Any]] = mapped_column(JSON, default=list)
    requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: "accept" / "refuse", with the rejection reason, once the merchant (or the automatic
    #: acceptance) decided; sent_at once Mirakl took it
    decision: Mapped[str | None] = mapped_column(String(16))
    rejection_reason: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: what Mirakl answered for this return when it did not take the decision
    error: Mapped[str | None] = mapped_column(Text)
    imported_return_id: Mapped[int | None] = mapped_column(ForeignKey("return.id", ondelete="SET NULL"))
