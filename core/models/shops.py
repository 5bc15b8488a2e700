"""Shops, their sync schedule and the add-ons enabled for each."""
from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, String, Text, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..crypto import EncryptedJSON
from ..extensions import db
from .accounts import Organization
from .base import StrEnum, TranslatableText, UTCDateTime, _enum, utcnow


class SyncMode(StrEnum):
    WEBHOOK = "webhook"
    EVERY_15_MIN = "every_15_min"
    HOURLY = "hourly"
    MANUAL = "manual"


SYNC_INTERVALS = {SyncMode.EVERY_15_MIN: 15 * 60, SyncMode.HOURLY: 3600,
                  # webhooks deliver in real time; a reconciliation poll still runs hourly
                  SyncMode.WEBHOOK: 3600}


class ConnectionStatus(StrEnum):
    NOT_CONFIGURED = "not_configured"
    CONNECTED = "connected"
    ERROR = "error"
    DISCONNECTED = "disconnected"


class Shop(db.Model):
    """One connection to a sales channel, served by the add-on named in ``addon``."""

    __table_args__ = (UniqueConstraint("organization_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    addon: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(120))
    marketplace: Mapped[str | None] = mapped_column(String(64))
    region: Mapped[str | None] = mapped_column(String(32))
    credentials: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON, default=dict)
    sync_mode: Mapped[SyncMode] = mapped_column(_enum(SyncMode), default=SyncMode.EVERY_15_MIN)
    status: Mapped[ConnectionStatus] = mapped_column(_enum(ConnectionStatus),
                                                     default=ConnectionStatus.NOT_CONFIGURED)
    last_error: Mapped[str | None] = mapped_column(TranslatableText)
    last_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_sync_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    sync_cursor: Mapped[str | None] = mapped_column(String(255))
    #: None: the organization's default (shared) stock pool
    stock_pool_id: Mapped[int | None] = mapped_column(ForeignKey("stock_pool.id", ondelete="SET NULL"))
    #: "Sync stock automatique": off, core sends this shop no stock figure (changes, full
    #: pushes and nightly reconciliations alike); orders still come in
    stock_sync: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organization: Mapped[Organization] = relationship(back_populates="shops")
    addons: Mapped[list["ShopAddon"]] = relationship(back_populates="shop", cascade="all, delete-orphan")

    def addon_row(self, addon: str) -> "ShopAddon | None":
        return next((a for a in self.addons if a.addon == addon), None)

    def addon_settings(self, addon: str) -> dict[str, Any]:
        """The add-on's settings for this shop, secrets included (decrypted)."""
        row = self.addon_row(addon)
        if row is None:
            return {}
        return {**(row.settings or {}), **(row.secrets or {})}

    def enabled_addons(self) -> set[str]:
        return {a.addon for a in self.addons if a.active}


class ShopAddon(db.Model):
    """An add-on enabled (or disabled, data kept) for one shop, with its settings."""

    __table_args__ = (UniqueConstraint("shop_id", "addon"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"), index=True)
    addon: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    secrets: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON, default=dict)
    status: Mapped[ConnectionStatus] = mapped_column(_enum(ConnectionStatus),
                                                     default=ConnectionStatus.NOT_CONFIGURED)
    last_error: Mapped[str | None] = mapped_column(TranslatableText)
    last_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    shop: Mapped[Shop] = relationship(back_populates="addons")


class SettingChange(db.Model):
    """Who changed which settings of a shop's add-on, and when (the names of the fields,
    never their values: a secret's change is recorded as "changed", nothing more)."""

    __tablename__ = "setting_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"), index=True)
    addon: Mapped[str] = mapped_column(String(64))
    fields: Mapped[list[str]] = mapped_column(JSON, default=list)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    by: Mapped[str] = mapped_column(String(254), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
