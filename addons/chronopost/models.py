"""Chronopost tables."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.models import UTCDateTime, utcnow


class ChronopostSkybill(db.Model):
    """The Chronopost side of an OMS shipment: its waybill (``skybill``) and last event.
    ``state`` is ``sent`` while a label request is out: one whose answer was lost is not sent
    again on its own; the merchant checks his Chronopost account first."""

    __tablename__ = "chronopost_skybill"

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"), index=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipment.id", ondelete="CASCADE"), unique=True)
    #: sent | created | failed | lost | cancelled
    state: Mapped[str] = mapped_column(String(16), default="sent")
    skybill: Mapped[str | None] = mapped_column(String(32))
    product_code: Mapped[str] = mapped_column(String(4), default="01")
    event_code: Mapped[str | None] = mapped_column(String(8))
    last_error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
