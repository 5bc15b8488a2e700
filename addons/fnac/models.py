"""Fnac Darty tables (prefixed ``fnac_``), each referencing core rows by foreign key."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.models import UTCDateTime, utcnow
from core.money import Amount


class FnacAccount(db.Model):
    """What the add-on knows of a shop's Fnac Darty account: the carriers ``carriers_query``
    lists (the names ``tracking_company`` takes) and when the offers were last read."""

    __tablename__ = "fnac_account"

    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"), primary_key=True)
    carriers: Mapped[list[Any]] = mapped_column(JSON, default=list)  # [[code, name], ...]
    carriers_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    offers_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class FnacOrder(db.Model):
    """A Fnac Darty order besides core's ``Order``: its state there, its lines' ids and states
    (``orders_update`` names lines by ``order_detail_id``) and what the OMS told Fnac Darty."""

    __tablename__ = "fnac_order"
    __table_args__ = (UniqueConstraint("shop_id", "fnac_order_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"))
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id", ondelete="CASCADE"), index=True)
    fnac_order_id: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(32))
    lines: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # detail id -> {state, sku, quantity}
    fees: Mapped[Decimal | None] = mapped_column(Amount)
    #: accepted | refused once the decision went through
    decision: Mapped[str | None] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class FnacOffer(db.Model):
    """One offer of the shop (a seller SKU), as ``offers_query`` describes it, matched (or not) to
    an OMS variant; what the OMS last pushed and what Fnac Darty said of it."""

    __tablename__ = "fnac_offer"
    __table_args__ = (UniqueConstraint("shop_id", "sku"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"), index=True)
    sku: Mapped[str] = mapped_column(String(128))
    variant_id: Mapped[int | None] = mapped_column(ForeignKey("variant.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(500), default="")
    offer_fnac_id: Mapped[str | None] = mapped_column(String(64))
    product_fnac_id: Mapped[str | None] = mapped_column(String(64))
    price: Mapped[Decimal | None] = mapped_column(Amount)
    fnac_quantity: Mapped[int | None] = mapped_column(Integer)
    #: figures to push (stock changed since the last push)
    pending: Mapped[bool] = mapped_column(Boolean, default=False)
    pushed_quantity: Mapped[int | None] = mapped_column(Integer)
    pushed_price: Mapped[Decimal | None] = mapped_column(Amount)
    pushed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    push_error: Mapped[str | None] = mapped_column(Text)
    batch_id: Mapped[str | None] = mapped_column(String(64))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class FnacBatch(db.Model):
    """One ``offers_update`` and its ``batch_status`` until Fnac Darty has processed it."""

    __tablename__ = "fnac_batch"
    __table_args__ = (UniqueConstraint("shop_id", "batch_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"), index=True)
    batch_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="RUNNING")
    sent: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # sku -> {quantity, price}
    errors: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # sku -> message
    checks: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
