"""DHL tables."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.models import Shipment, UTCDateTime, utcnow


class DhlShipment(db.Model):
    """The DHL side of an OMS shipment. ``reference`` (``oms-<shipment id>``) is sent as the
    shipment's customer reference, so a label request without an answer is found again at
    DHL (``GET /tracking`` by reference) instead of being bought a second time."""

    __tablename__ = "dhl_shipment"
    __table_args__ = (Index("ix_dhl_shipment_shop_state", "shop_id", "state"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"))
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipment.id", ondelete="CASCADE"), unique=True)
    reference: Mapped[str] = mapped_column(String(35))
    message_reference: Mapped[str] = mapped_column(String(36))
    product_code: Mapped[str | None] = mapped_column(String(4))
    planned_on: Mapped[date | None] = mapped_column(Date)
    tracking_number: Mapped[str | None] = mapped_column(String(32), index=True)
    #: pending (not created) | created | failed (data to fix) | voided (cancelled in the OMS)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    customs: Mapped[bool] = mapped_column(default=False)
    paperless: Mapped[bool] = mapped_column(default=False)
    invoice: Mapped[bytes | None] = mapped_column(db.LargeBinary)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    status_code: Mapped[str | None] = mapped_column(String(32))
    status_message: Mapped[str | None] = mapped_column(String(200))
    status_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: when the tracking poll may ask about this parcel again
    next_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    pickup_id: Mapped[int | None] = mapped_column(ForeignKey("dhl_pickup.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    shipment: Mapped[Shipment] = relationship()
    pickup: Mapped[DhlPickup | None] = relationship(back_populates="parcels")


class DhlPickup(db.Model):
    """A courier pickup booked at DHL (``POST /pickups``) for the day's parcels."""

    __tablename__ = "dhl_pickup"

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date)
    dispatch_confirmation_number: Mapped[str | None] = mapped_column(String(64))
    #: booked | cancelled
    state: Mapped[str] = mapped_column(String(16), default="booked")
    ready_by: Mapped[str | None] = mapped_column(String(32))
    details: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    parcels: Mapped[list[DhlShipment]] = relationship(back_populates="pickup")


class DhlApiQuota(db.Model):
    """Calls spent today on one Unified Tracking key (its SHA-256, never the key): the quota
    belongs to the key, so shops sharing a key share it. The day is DHL's (it resets at 24:00 GMT)."""

    __tablename__ = "dhl_api_quota"
    __table_args__ = (UniqueConstraint("key_digest", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key_digest: Mapped[str] = mapped_column(String(64))
    day: Mapped[date] = mapped_column(Date)
    calls: Mapped[int] = mapped_column(Integer, default=0)
