"""Picking: pick waves, their orders and lines."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import StrEnum, UTCDateTime, _enum, utcnow
from .catalog import Variant
from .orders import Order, OrderLine
from .shipping import Shipment
from .stock import Warehouse


class PickWaveStatus(StrEnum):
    OPEN = "open"  # built, the walk has not started
    PICKING = "picking"  # items are being picked
    SORTING = "sorting"  # walk done, items go to their order's slot
    PACKING = "packing"  # every item is in its slot, orders are being packed
    DONE = "done"  # every order of the wave is shipped or removed
    CANCELLED = "cancelled"


class PickWave(db.Model):
    """Allocated orders of one warehouse picked together in one walk, then sorted into one
    slot (tote) per order and packed."""

    __table_args__ = (Index("ix_pick_wave_org_status", "organization_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouse.id"))
    status: Mapped[PickWaveStatus] = mapped_column(_enum(PickWaveStatus), default=PickWaveStatus.OPEN)
    #: the filters the wave was built with (shops, channels, carriers, service levels…)
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    picked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    warehouse: Mapped[Warehouse] = relationship()
    orders: Mapped[list["PickWaveOrder"]] = relationship(back_populates="wave", order_by="PickWaveOrder.slot",
                                                         cascade="all, delete-orphan")
    lines: Mapped[list["PickWaveLine"]] = relationship(back_populates="wave", order_by="PickWaveLine.id",
                                                       cascade="all, delete-orphan")


class PickWaveOrderStatus(StrEnum):
    PICKING = "picking"
    PACKED = "packed"  # every unit checked at the packing station
    SHIPPED = "shipped"
    REMOVED = "removed"  # taken out of the wave (cancelled order, missing stock)


class PickWaveOrder(db.Model):
    """One order of a wave, with the slot (tote) its items are sorted into."""

    __table_args__ = (UniqueConstraint("wave_id", "slot"), Index("ix_pick_wave_order_order", "order_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("pick_wave.id", ondelete="CASCADE"))
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id", ondelete="CASCADE"))
    slot: Mapped[int] = mapped_column(Integer)
    status: Mapped[PickWaveOrderStatus] = mapped_column(_enum(PickWaveOrderStatus),
                                                        default=PickWaveOrderStatus.PICKING)
    shipment_id: Mapped[int | None] = mapped_column(ForeignKey("shipment.id", ondelete="SET NULL"))

    wave: Mapped[PickWave] = relationship(back_populates="orders")
    order: Mapped[Order] = relationship()
    shipment: Mapped[Shipment | None] = relationship()
    lines: Mapped[list["PickWaveLine"]] = relationship(back_populates="wave_order", order_by="PickWaveLine.id",
                                                       viewonly=True)


class PickWaveLine(db.Model):
    """Units of one order line to pick from one bin, with what was picked, sorted into the
    order's slot and checked at packing. ``bin_code`` and ``sort_key`` are copied when the
    wave is built, so the printed list and the walk never change under the picker."""

    id: Mapped[int] = mapped_column(primary_key=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("pick_wave.id", ondelete="CASCADE"), index=True)
    wave_order_id: Mapped[int] = mapped_column(ForeignKey("pick_wave_order.id", ondelete="CASCADE"), index=True)
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_line.id", ondelete="CASCADE"))
    variant_id: Mapped[int | None] = mapped_column(ForeignKey("variant.id", ondelete="SET NULL"))
    bin_code: Mapped[str | None] = mapped_column(String(32))
    sort_key: Mapped[str] = mapped_column(String(64), default="")
    quantity: Mapped[int] = mapped_column(Integer)
    picked: Mapped[int] = mapped_column(Integer, default=0)
    slotted: Mapped[int] = mapped_column(Integer, default=0)
    packed: Mapped[int] = mapped_column(Integer, default=0)
    #: why a unit was counted without its barcode (damaged label, unlabelled item…)
    override_reason: Mapped[str | None] = mapped_column(Text)

    wave: Mapped[PickWave] = relationship(back_populates="lines")
    wave_order: Mapped[PickWaveOrder] = relationship()
    order_line: Mapped[OrderLine] = relationship()
    variant: Mapped[Variant | None] = relationship()
