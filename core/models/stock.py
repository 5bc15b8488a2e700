"""Warehouses and the stock each one holds."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import StrEnum, UTCDateTime, _enum, utcnow
from .catalog import Variant


class WarehouseKind(StrEnum):
    OWN = "own"
    MARKETPLACE = "marketplace"  # fulfilled by the marketplace (Amazon FBA)
    SUPPLIER = "supplier"  # a dropship supplier's stock
    STORE = "store"  # point of sale


class Warehouse(db.Model):
    __table_args__ = (UniqueConstraint("organization_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[WarehouseKind] = mapped_column(_enum(WarehouseKind), default=WarehouseKind.OWN)
    shop_id: Mapped[int | None] = mapped_column(ForeignKey("shop.id", ondelete="SET NULL"))
    country: Mapped[str | None] = mapped_column(String(2))
    address: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    priority: Mapped[int] = mapped_column(Integer, default=10)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: units of each SKU held back from the channels (a supplier's feed that is never quite
    #: up to date, a store's display stock); orders routed here are not limited by it
    sell_buffer: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    locations: Mapped[list["BinLocation"]] = relationship(back_populates="warehouse",
                                                          order_by="BinLocation.sort_key",
                                                          cascade="all, delete-orphan")


class BinLocation(db.Model):
    """A bin (aisle-shelf-level) in a warehouse; ``sort_key`` orders the picking walk."""

    __table_args__ = (UniqueConstraint("warehouse_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouse.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(32))
    sort_key: Mapped[str] = mapped_column(String(64), default="")

    warehouse: Mapped[Warehouse] = relationship(back_populates="locations")


class StockLevel(db.Model):
    """Stock of one variant in one warehouse. ``reserved`` units belong to open orders."""

    __table_args__ = (UniqueConstraint("variant_id", "warehouse_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    variant_id: Mapped[int] = mapped_column(ForeignKey("variant.id", ondelete="CASCADE"))
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouse.id", ondelete="CASCADE"), index=True)
    on_hand: Mapped[int] = mapped_column(Integer, default=0)
    reserved: Mapped[int] = mapped_column(Integer, default=0)
    bin_location_id: Mapped[int | None] = mapped_column(ForeignKey("bin_location.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    variant: Mapped[Variant] = relationship()
    warehouse: Mapped[Warehouse] = relationship()
    bin_location: Mapped[BinLocation | None] = relationship()

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved
