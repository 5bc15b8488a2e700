"""The catalogue: products and their variants."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..money import Amount, Money, UnitCost
from .base import UTCDateTime, utcnow


class Product(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    title: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    images: Mapped[list[str]] = mapped_column(JSON, default=list)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    variants: Mapped[list["Variant"]] = relationship(back_populates="product", order_by="Variant.id",
                                                     cascade="all, delete-orphan")


class Variant(db.Model):
    """A sellable unit. The SKU is unique within an organization and is the join key with
    every channel."""

    __table_args__ = (UniqueConstraint("organization_id", "sku"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="CASCADE"), index=True)
    sku: Mapped[str] = mapped_column(String(64))
    barcode: Mapped[str | None] = mapped_column(String(32), index=True)
    title: Mapped[str] = mapped_column(String(255), default="")
    price: Mapped[Decimal] = mapped_column(Amount, default=Decimal("0"))
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    options: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    weight_grams: Mapped[int | None] = mapped_column(Integer)
    #: the parcel-ready article's size, in millimetres (carriers price and refuse by it)
    length_mm: Mapped[int | None] = mapped_column(Integer)
    width_mm: Mapped[int | None] = mapped_column(Integer)
    height_mm: Mapped[int | None] = mapped_column(Integer)
    cost_price: Mapped[Decimal | None] = mapped_column(UnitCost)
    hs_code: Mapped[str | None] = mapped_column(String(16))
    country_of_origin: Mapped[str | None] = mapped_column(String(2))

    product: Mapped[Product] = relationship(back_populates="variants")

    @property
    def price_money(self) -> Money:
        return Money(self.price, self.currency)


class VariantBinding(db.Model):
    """A variant's identity in one shop (Shopify variant id, Amazon seller SKU/ASIN…)."""

    __table_args__ = (UniqueConstraint("shop_id", "external_id"),
                      UniqueConstraint("shop_id", "variant_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"))
    variant_id: Mapped[int] = mapped_column(ForeignKey("variant.id", ondelete="CASCADE"), index=True)
    external_id: Mapped[str] = mapped_column(String(128))
    external_sku: Mapped[str | None] = mapped_column(String(128))
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
