"""Amazon tables."""
from __future__ import annotations

from sqlalchemy import Boolean, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db


class AmazonMarketplace(db.Model):
    """A marketplace the shop's seller account can sell on, as Amazon last reported it
    (``getMarketplaceParticipations``); refreshed by each connection check."""

    __tablename__ = "amazon_marketplace"
    __table_args__ = (UniqueConstraint("shop_id", "marketplace_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"))
    marketplace_id: Mapped[str] = mapped_column(String(32))
    country_code: Mapped[str] = mapped_column(String(2))
    name: Mapped[str] = mapped_column(String(120))
    currency: Mapped[str] = mapped_column(String(3))
    participating: Mapped[bool] = mapped_column(Boolean, default=False)
