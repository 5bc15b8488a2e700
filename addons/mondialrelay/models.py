"""Mondial Relay tables."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.models import UTCDateTime, utcnow


class MondialRelayShipment(db.Model):
    """The Mondial Relay side of an OMS shipment. ``state`` is ``sent`` from the moment a
    creation request leaves until its answer is stored: a request whose answer was lost is
    never sent again on its own (Mondial Relay has no look-up by reference), the merchant
    checks the Connect portal and confirms."""

    __tablename__ = "mondialrelay_shipment"

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"), index=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipment.id", ondelete="CASCADE"), unique=True)
    #: sent | created | failed | lost (answer lost: the merchant decides) | cancelled
    state: Mapped[str] = mapped_column(String(16), default="sent")
    number: Mapped[str | None] = mapped_column(String(32))
    delivery_mode: Mapped[str] = mapped_column(String(8), default="24R")
    relay_id: Mapped[str | None] = mapped_column(String(16))
    label_url: Mapped[str | None] = mapped_column(String(500))
    stat: Mapped[str | None] = mapped_column(String(8))  # last tracking STAT (80-83)
    last_error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
