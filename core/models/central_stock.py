"""Central stock: pools, holds and the marks that trigger stock pushes."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    Sequence,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, utcnow
from .catalog import Variant
from .stock import Warehouse


class SkuAlias(db.Model):
    """A channel SKU mapped by the merchant to one of their variants (resolves a hold)."""

    __table_args__ = (UniqueConstraint("organization_id", "sku"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    sku: Mapped[str] = mapped_column(String(64))
    variant_id: Mapped[int] = mapped_column(ForeignKey("variant.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StockPool(db.Model):
    """The warehouses whose stock a set of shops sells. Shops without a pool use the
    organization's default pool: every active own warehouse."""

    __table_args__ = (UniqueConstraint("organization_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    warehouses: Mapped[list[Warehouse]] = relationship(secondary="stock_pool_warehouse",
                                                       order_by="Warehouse.priority")


class StockPoolWarehouse(db.Model):
    stock_pool_id: Mapped[int] = mapped_column(ForeignKey("stock_pool.id", ondelete="CASCADE"), primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouse.id", ondelete="CASCADE"), primary_key=True)


class ChannelStockRule(db.Model):
    """What a channel is shown of the pool: (available − buffer) × percentage, capped at
    maximum. The most specific rule applies: the shop's, else its add-on's, else none."""

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    shop_id: Mapped[int | None] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"))
    addon: Mapped[str | None] = mapped_column(String(64))
    buffer: Mapped[int] = mapped_column(Integer, default=0)
    percentage: Mapped[int] = mapped_column(Integer, default=100)
    maximum: Mapped[int | None] = mapped_column(Integer)


class StockMovement(db.Model):
    """The stock ledger: every change of on-hand or reserved, with who and why."""

    __table_args__ = (Index("ix_stock_movement_variant_at", "variant_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    variant_id: Mapped[int] = mapped_column(ForeignKey("variant.id", ondelete="CASCADE"))
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouse.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # reserve | release | ship | adjust | sale | receive
    delta_on_hand: Mapped[int] = mapped_column(Integer, default=0)
    delta_reserved: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str] = mapped_column(Text, default="")
    order_id: Mapped[int | None] = mapped_column(ForeignKey("order.id", ondelete="SET NULL"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    variant: Mapped[Variant] = relationship()
    warehouse: Mapped[Warehouse] = relationship()


#: numbers each write of a dirty mark (PostgreSQL; SQLite, one writer at a time, uses the clock)
STOCK_DIRTY_SEQ = Sequence("stock_dirty_seq", metadata=db.metadata)


class StockDirty(db.Model):
    """Variants whose sellable quantity changed and awaits its push to the channels.
    Written in the same transaction as the change; the coalesced push job drains it.

    Every write gives the mark a new ``seq``; the push deletes only the marks whose ``seq`` it
    read before reading the figures, so a change committed meanwhile keeps its mark."""

    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"),
                                                 primary_key=True)
    variant_id: Mapped[int] = mapped_column(ForeignKey("variant.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class RoutingRule(db.Model):
    """An editable routing rule; rules run in ``position`` order and the first matching
    rule whose warehouse can serve the line wins. Empty conditions match everything."""

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    countries: Mapped[list[str]] = mapped_column(JSON, default=list)
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)  # add-on names
    shop_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    sku_pattern: Mapped[str | None] = mapped_column(String(64))  # shell pattern, e.g. MUG-*
    tag: Mapped[str | None] = mapped_column(String(64))  # product or order tag
    service_levels: Mapped[list[str]] = mapped_column(JSON, default=list)
    warehouse_id: Mapped[int] = mapped_column(ForeignKey("warehouse.id", ondelete="CASCADE"))
    allow_split: Mapped[bool] = mapped_column(Boolean, default=True)

    warehouse: Mapped[Warehouse] = relationship()
