"""PrestaShop's own tables (prefixed ``prestashop_``), referencing core rows by foreign key."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.models import Order, UTCDateTime, utcnow


class PrestashopState(db.Model):
    """What the add-on learnt about a shop's PrestaShop: name, version, order states."""

    __tablename__ = "prestashop_state"

    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"), primary_key=True)
    shop_name: Mapped[str | None] = mapped_column(String(255))
    version: Mapped[str | None] = mapped_column(String(32))
    order_states: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    catalog_synced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: credit slips (``order_slip``) read up to here (by ``date_upd``)
    slip_cursor: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: why the credit slips could not be read (a key without the ``order_slip`` right), or None
    slip_error: Mapped[str | None] = mapped_column(Text)


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


class PrestashopSlip(db.Model):
    """A credit slip (``order_slip``, "avoir") read from the shop, and what became of it:
    ``imported`` (an OMS return, ``slip:<id>``), ``waiting`` (its order is not in the OMS yet:
    tried again at each read), ``skipped`` (a cancelled order's refund, or another shop's
    order in a multistore) or ``error`` (refused, with the reason)."""

    __tablename__ = "prestashop_slip"
    __table_args__ = (UniqueConstraint("shop_id", "slip_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"), index=True)
    slip_id: Mapped[int] = mapped_column(Integer)
    id_order: Mapped[int] = mapped_column(Integer)
    #: the PrestaShop order's reference (what the merchant knows it by), when read
    order_reference: Mapped[str | None] = mapped_column(String(32))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("order.id", ondelete="SET NULL"))
    return_id: Mapped[int | None] = mapped_column(ForeignKey("return.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(16), default="waiting", index=True)
    amount: Mapped[str] = mapped_column(String(32), default="0.00")
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    order: Mapped[Order | None] = relationship(Order, lazy="joined")

    @property
    def refund(self) -> Decimal:
        """What the slip gives back, tax included."""
        return Decimal(self.amount or "0")

    @property
    def currency(self) -> str:
        return self.order.currency if self.order is not None else "EUR"
