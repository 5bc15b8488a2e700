"""Sendcloud tables."""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.extensions import db
from core.models import Shipment, UTCDateTime, utcnow
from core.money import Amount


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


class SendcloudShippingRule(db.Model):
    """A shipping rule of the organization, tried in ``position`` order: the first active rule
    whose conditions all hold gives the shipping method. Empty conditions match everything."""

    __tablename__ = "sendcloud_shipping_rule"
    __table_args__ = (Index("ix_sendcloud_shipping_rule_org_position", "organization_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)  # channel add-on names
    service_levels: Mapped[list[str]] = mapped_column(JSON, default=list)  # standard | express | prime
    #: "" any, "domestic" (the sender's country), "eu" (EU but not domestic), "non_eu"
    destination: Mapped[str] = mapped_column(String(16), default="")
    countries: Mapped[list[str]] = mapped_column(JSON, default=list)  # ISO 3166-1 alpha-2
    min_weight_grams: Mapped[int | None] = mapped_column(Integer)
    max_weight_grams: Mapped[int | None] = mapped_column(Integer)
    min_value: Mapped[Decimal | None] = mapped_column(Amount)
    max_value: Mapped[Decimal | None] = mapped_column(Amount)
    sku_tag: Mapped[str | None] = mapped_column(String(64))  # a product tag of an item in the parcel
    method_id: Mapped[str] = mapped_column(String(128))
    method_name: Mapped[str] = mapped_column(String(200), default="")


class SendcloudParcel(db.Model):
    """The Sendcloud side of an OMS shipment: what was announced, with which API, and the
    last status Sendcloud reported. ``external_reference`` (``oms-<shipment id>``) is unique
    at Sendcloud, so a retried announcement finds the first one instead of making a second."""

    __tablename__ = "sendcloud_parcel"
    __table_args__ = (Index("ix_sendcloud_parcel_shop_parcel", "shop_id", "parcel_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    shop_id: Mapped[int] = mapped_column(ForeignKey("shop.id", ondelete="CASCADE"))
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipment.id", ondelete="CASCADE"), unique=True)
    api_version: Mapped[str] = mapped_column(String(4), default="v3")
    external_reference: Mapped[str] = mapped_column(String(64))
    method_id: Mapped[str | None] = mapped_column(String(128))
    rule_id: Mapped[int | None] = mapped_column(ForeignKey("sendcloud_shipping_rule.id", ondelete="SET NULL"))
    remote_shipment_id: Mapped[str | None] = mapped_column(String(64))  # v3 shipment id
    parcel_id: Mapped[int | None] = mapped_column(BigInteger)
    #: pending (not announced) | announced | failed (refused, data to fix) | cancelled | cancelling
    state: Mapped[str] = mapped_column(String(16), default="pending")
    status_id: Mapped[int | None] = mapped_column(Integer)  # v2 numeric status (webhooks, v2 polls)
    status_code: Mapped[str | None] = mapped_column(String(64))  # v3 status code
    status_message: Mapped[str | None] = mapped_column(String(200))
    status_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    shipment: Mapped[Shipment] = relationship()
    rule: Mapped[SendcloudShippingRule | None] = relationship()
