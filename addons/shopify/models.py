"""Shopify tables."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.models import UTCDateTime, utcnow


class ShopifyWebhookInbox(db.Model):
    """A webhook delivery as received, kept until processed.

    Shopify delivers at least once: ``(shop_id, webhook_id)`` (``X-Shopify-Webhook-Id``) is
    unique, so a redelivery is recognised and not processed twice.
    """

    __tablename__ = "shopify_webhook_inbox"
    __table_args__ = (UniqueConstraint("shop_id", "webhook_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"))
    webhook_id: Mapped[str] = mapped_column(String(64))
    topic: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
