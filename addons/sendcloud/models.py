"""Sendcloud tables."""
from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db


class SendcloudShippingMethod(db.Model):
    """A shipping option the shop's Sendcloud account can use, as Sendcloud last listed it;
    ``method_id`` is the v3 shipping option code (``colissimo:home/signature``) used to
    announce a shipment. Refreshed by each connection check."""

    __tablename__ = "sendcloud_shipping_method"
    __table_args__ = (UniqueConstraint("shop_id", "method_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"))
    method_id: Mapped[str] = mapped_column(String(128))
    name: Mapped[str] = mapped_column(String(200))
    carrier: Mapped[str] = mapped_column(String(64))
    min_weight_grams: Mapped[int | None] = mapped_column(Integer)
    max_weight_grams: Mapped[int | None] = mapped_column(Integer)
