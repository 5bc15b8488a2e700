"""Dropshipping tables."""
from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db

ORDER_CHANNELS = ("email", "webhook")


class DropshipSupplier(db.Model):
    """A supplier who ships some of the organization's products to its customers, and how
    it receives purchase orders (``email`` to ``email``, or ``webhook`` to ``webhook_url``)."""

    __tablename__ = "dropship_supplier"
    __table_args__ = (
        UniqueConstraint("organization_id", "name"),
        CheckConstraint("order_channel IN ('email', 'webhook')", name="order_channel"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(120))
    email: Mapped[str] = mapped_column(String(254))
    order_channel: Mapped[str] = mapped_column(String(16), default="email")
    webhook_url: Mapped[str | None] = mapped_column(String(500))
    lead_time_days: Mapped[int] = mapped_column(Integer, default=2)
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
