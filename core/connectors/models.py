"""The connector kit's tables: webhook deliveries kept until processed, and which shop
proved it owns a remote account (webhook routing)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.extensions import db
from core.models import UTCDateTime, utcnow


class WebhookDelivery(db.Model):
    """A delivery of a remote's webhook (or of a relay), as received, kept until processed.

    Remotes deliver at least once: ``(addon, shop_id, delivery_id)`` is unique, so a
    redelivery is recognised and stored no second time. ``resource_id`` and ``triggered_at``
    let the processing job put out-of-order deliveries back in order."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (UniqueConstraint("addon", "shop_id", "delivery_id"),
                      Index("ix_webhook_delivery_pending", "shop_id", "addon", "processed_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    addon: Mapped[str] = mapped_column(String(64))
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"))
    delivery_id: Mapped[str] = mapped_column(String(64))
    topic: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resource_id: Mapped[str | None] = mapped_column(String(64))
    triggered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)


class RemoteAccountClaim(db.Model):
    """A shop's proof that it owns an account of a remote (a Shopify domain, a seller id).

    ``proof`` says how: ``oauth`` (the remote's own authorization completed for this shop),
    recorded by the add-on when it happens. A delivery signed with the installation's shared
    app secret reaches only the shop holding the ``oauth`` claim of the account it names,
    and one account has at most one such claim (:func:`core.connectors.ownership.claim`)."""

    __tablename__ = "remote_account_claim"
    __table_args__ = (UniqueConstraint("addon", "account"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    addon: Mapped[str] = mapped_column(String(64))
    account: Mapped[str] = mapped_column(String(255))
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"), index=True)
    proof: Mapped[str] = mapped_column(String(16), default="oauth")
    proved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
