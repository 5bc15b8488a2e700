"""Rakuten tables (prefixed ``rakuten_``), each referencing core rows by foreign key."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.models import UTCDateTime, utcnow
from core.money import Amount


class RakutenActionVersion(db.Model):
    """An installation-wide override of one web-service action's ``version`` (None: the
    documented default of ``versions.ACTIONS``), and the newest version Rakuten announced."""

    __tablename__ = "rakuten_action_version"

    action: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[str | None] = mapped_column(String(16))
    latest_seen: Mapped[str | None] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class RakutenItem(db.Model):
    """One sold item (Rakuten's ``itemid``, one unit) of a sale (``purchaseid``): its state
    at Rakuten, the OMS order line it became, and the decision sent for it (acceptance is per
    item). ``pending_action`` names a write whose answer never came (acceptsale, refusesale,
    cancelitem): the item is read back (getiteminfos) before it is sent again."""

    __tablename__ = "rakuten_item"
    __table_args__ = (UniqueConstraint("shop_id", "itemid"),
                      Index("ix_rakuten_item_shop_purchase", "shop_id", "purchaseid"))

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"))
    itemid: Mapped[str] = mapped_column(String(32))
    purchaseid: Mapped[str] = mapped_column(String(32))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("order.id", ondelete="CASCADE"), index=True)
    sku: Mapped[str] = mapped_column(String(128), default="")
    status: Mapped[str] = mapped_column(String(32), default="")  # Rakuten's itemstatus, as said
    purchased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision: Mapped[str | None] = mapped_column(String(16))  # accepted | refused | cancelled
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    pending_action: Mapped[str | None] = mapped_column(String(32))
    tracking_number: Mapped[str | None] = mapped_column(String(128))
    tracking_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RakutenOffer(db.Model):
    """One SKU of the seller's Rakuten inventory, as the import reports told: the quantity
    Rakuten confirmed (``pushed_quantity``: only once the report said so) and the last
    report's error for it."""

    __tablename__ = "rakuten_offer"
    __table_args__ = (UniqueConstraint("shop_id", "sku"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"))
    sku: Mapped[str] = mapped_column(String(128))
    variant_id: Mapped[int | None] = mapped_column(ForeignKey("variant.id", ondelete="SET NULL"), index=True)
    pushed_quantity: Mapped[int | None] = mapped_column(Integer)
    pushed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    push_error: Mapped[str | None] = mapped_column(Text)
    #: Rakuten does not know this SKU (the report said so): left out of later pushes
    unknown: Mapped[bool] = mapped_column(Boolean, default=False)
    #: as the inventory export describes the advert (None until the listings are imported)
    aid: Mapped[str | None] = mapped_column(String(32))
    title: Mapped[str | None] = mapped_column(String(500))
    ean: Mapped[str | None] = mapped_column(String(32))
    price: Mapped[Decimal | None] = mapped_column(Amount)
    remote_quantity: Mapped[int | None] = mapped_column(Integer)
    imported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RakutenStockPending(db.Model):
    """Variants whose figure must be sent to this Rakuten shop (drained by the push job)."""

    __tablename__ = "rakuten_stock_pending"

    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"), primary_key=True)
    variant_id: Mapped[int] = mapped_column(ForeignKey("variant.id", ondelete="CASCADE"), primary_key=True)


class RakutenStockImport(db.Model):
    """One inventory file sent (genericimportfile) and what its report (genericimportreport)
    said. ``state``: sending (file not acknowledged yet), waiting (Rakuten processing it),
    done, failed."""

    __tablename__ = "rakuten_stock_import"

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"), index=True)
    importid: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default="sending")
    remote_status: Mapped[str | None] = mapped_column(String(64))
    #: sku -> quantity sent
    sent: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    lines: Mapped[int] = mapped_column(Integer, default=0)
    ok_lines: Mapped[int] = mapped_column(Integer, default=0)
    error_lines: Mapped[int] = mapped_column(Integer, default=0)
    #: [{sku, code, message}]
    errors: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    checks: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
