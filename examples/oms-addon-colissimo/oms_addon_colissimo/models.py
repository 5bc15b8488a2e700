"""Colissimo's own table: remote ids of what it created for a shop (prefixed with the add-on name)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.models import UTCDateTime, utcnow


class ColissimoPartnerLink(db.Model):
    __tablename__ = "colissimo_partner_link"
    __table_args__ = (UniqueConstraint("shop_id", "kind", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))  # order | label | purchase_order
    external_id: Mapped[str] = mapped_column(String(128))
    local_id: Mapped[int | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
