"""PrestaShop's own tables (prefixed ``prestashop_``), referencing core rows by foreign key."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.models import UTCDateTime, utcnow


class PrestashopState(db.Model):
    """What the add-on learnt about a shop's PrestaShop: name, version, order states."""

    __tablename__ = "prestashop_state"

    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"), primary_key=True)
    shop_name: Mapped[str | None] = mapped_column(String(255))
    version: Mapped[str | None] = mapped_column(String(32))
    order_states: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    catalog_synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PrestashopListing(db.Model):
    """A product or combination (``id_product_attribute`` 0 for a product without
    combinations), its stock_available row, and the OMS variant it is matched to."""

    __tablename__ = "prestashop_listing"
    __table_args__ = (UniqueConstraint("shop_id", "id_product", "id_product_attribute"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"), index=True)
    id_product: Mapped[int] = mapped_column(Integer)
    id_product_attribute: Mapped[int] = mapped_column(Integer, default=0)
    stock_available_id: Mapped[int | None] = mapped_column(Integer)
    sku: Mapped[str] = mapped_column(String(255), default="", index=True)
    barcode: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(500), default="")
    variant_id: Mapped[int | None] = mapped_column(ForeignKey("variant.id", ondelete="SET NULL"), index=True)
    pushed_quantity: Mapped[int | None] = mapped_column(Integer)
    push_error: Mapped[str | None] = mapped_column(Text)


class PrestashopTracking(db.Model):
    """A shipment told to PrestaShop: the order carrier's tracking number, then the state."""

    __tablename__ = "prestashop_tracking"
    __table_args__ = (UniqueConstraint("shop_id", "shipment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"), index=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipment.id", ondelete="CASCADE"))
    order_carrier_id: Mapped[int | None] = mapped_column(Integer)
    state_sent: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
