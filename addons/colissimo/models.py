"""Colissimo tables."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.models import Order, Shipment, UTCDateTime, utcnow


class ColissimoParcel(db.Model):
    """The Colissimo side of an OMS shipment: the product, the parcel number, the CN23, and
    the last news La Poste gave."""

    __tablename__ = "colissimo_parcel"
    __table_args__ = (Index("ix_colissimo_parcel_shop_state", "shop_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"))
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipment.id", ondelete="CASCADE"), unique=True)
    product_code: Mapped[str | None] = mapped_column(String(8))
    pickup_point_id: Mapped[str | None] = mapped_column(String(16))
    parcel_number: Mapped[str | None] = mapped_column(String(32), index=True)
    #: pending | created | failed | voided
    state: Mapped[str] = mapped_column(String(16), default="pending")
    cn23: Mapped[bytes | None] = mapped_column(db.LargeBinary)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    event_code: Mapped[str | None] = mapped_column(String(8))
    status_message: Mapped[str | None] = mapped_column(String(200))
    status_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    shipment: Mapped[Shipment] = relationship()


class ColissimoReturn(db.Model):
    """A return label (CORE in France, CORI from abroad) made for an order's customer."""

    __tablename__ = "colissimo_return"

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id", ondelete="CASCADE"), index=True)
    product_code: Mapped[str] = mapped_column(String(8))
    parcel_number: Mapped[str] = mapped_column(String(32))
    label: Mapped[bytes] = mapped_column(db.LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    order: Mapped[Order] = relationship()
