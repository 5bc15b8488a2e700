"""Analytics: exchange rates, fees and the order facts the reports read."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..money import Amount
from .base import UTCDateTime, utcnow


class FxRate(db.Model):
    """A euro reference rate: 1 EUR = ``rate`` units of ``currency`` on ``day`` (the European
    Central Bank's convention). An amount is converted with the latest rate on or before its
    order's date (``core.fx``)."""

    __tablename__ = "fx_rate"
    __table_args__ = (UniqueConstraint("organization_id", "currency", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    currency: Mapped[str] = mapped_column(String(3))
    day: Mapped[date] = mapped_column(db.Date)
    rate: Mapped[Decimal] = mapped_column(db.Numeric(18, 6, asdecimal=True))
    source: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class AnalyticsFeeRule(db.Model):
    """What a channel (add-on name) charges: a commission and a payment fee in percent of
    what the customer pays, plus fixed amounts per order. ``category`` is a product tag, or
    ``*`` for every product; the fixed amounts are read on the ``*`` rule."""

    __tablename__ = "analytics_fee_rule"
    __table_args__ = (UniqueConstraint("organization_id", "channel", "category"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    channel: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(64), default="*")
    commission_pct: Mapped[Decimal] = mapped_column(db.Numeric(7, 4, asdecimal=True), default=Decimal("0"))
    fixed_per_order: Mapped[Decimal] = mapped_column(Amount, default=Decimal("0"))
    payment_pct: Mapped[Decimal] = mapped_column(db.Numeric(7, 4, asdecimal=True), default=Decimal("0"))
    payment_fixed: Mapped[Decimal] = mapped_column(Amount, default=Decimal("0"))
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    #: still the shipped default (public range), until the merchant edits it
    is_default: Mapped[bool] = mapped_column(Boolean, default=True)
    source: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class AnalyticsActualFee(db.Model):
    """A fee a channel actually charged for an order (commission, payment, fixed…), as its
    settlement reports it. When an order has any, they replace the fee schedule for it."""

    __tablename__ = "analytics_actual_fee"
    __table_args__ = (Index("ix_analytics_actual_fee_order", "order_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    amount: Mapped[Decimal] = mapped_column(Amount)
    currency: Mapped[str] = mapped_column(String(3))
    external_id: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


#: the summed columns of the fact tables (covered by their indexes)
_FIGURES = ("units", "revenue", "product_cost", "fees", "shipping", "returns", "returned_units")


class AnalyticsDirty(db.Model):
    """An order whose figures await their refresh, written in the transaction that changed
    it; the organization's one refresh job drains the marks it saw (``seq`` tells a mark
    written again meanwhile, which stays for the next pass)."""

    __tablename__ = "analytics_dirty"

    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"),
                                                 primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id", ondelete="CASCADE"), primary_key=True)
    seq: Mapped[int] = mapped_column(db.BigInteger)


class AnalyticsLineFact(db.Model):
    """One order line's figures, converted to the organization's currency with the rate of
    the order's date and stored in hundredths (exact integers, summed exactly on every
    database). Written by ``core.analytics.refresh_orders``; cancelled orders have none."""

    __tablename__ = "analytics_line_fact"
    __table_args__ = (
        # Both carry the figures (PostgreSQL INCLUDE), so the views read the index only:
        # short periods scan a day range, long ones stream SKU by SKU (and shop by shop)
        Index("ix_analytics_line_fact_org_day", "organization_id", "day",
              postgresql_include=["variant_id", "shop_id", "warehouse_id", *_FIGURES]),
        Index("ix_analytics_line_fact_org_variant", "organization_id", "variant_id", "shop_id", "day",
              postgresql_include=["warehouse_id", *_FIGURES]),
        Index("ix_analytics_line_fact_order", "order_id"),
    )

    line_id: Mapped[int] = mapped_column(ForeignKey("order_line.id", ondelete="CASCADE"), primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id", ondelete="CASCADE"))
    shop_id: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(64))
    warehouse_id: Mapped[int | None] = mapped_column(Integer)
    variant_id: Mapped[int | None] = mapped_column(Integer)
    customer_id: Mapped[int | None] = mapped_column(Integer)
    day: Mapped[date] = mapped_column(db.Date)
    units: Mapped[int] = mapped_column(Integer, default=0)
    revenue: Mapped[int] = mapped_column(db.BigInteger, default=0)
    product_cost: Mapped[int] = mapped_column(db.BigInteger, default=0)
    fees: Mapped[int] = mapped_column(db.BigInteger, default=0)
    shipping: Mapped[int] = mapped_column(db.BigInteger, default=0)
    returns: Mapped[int] = mapped_column(db.BigInteger, default=0)
    returned_units: Mapped[int] = mapped_column(Integer, default=0)
    cost_known: Mapped[bool] = mapped_column(Boolean, default=True)


class AnalyticsOrderFact(db.Model):
    """One order's figures (the sum of its line facts), its preparation time and the
    warehouse that shipped it (its first parcel, else its lines' warehouse)."""

    __tablename__ = "analytics_order_fact"
    __table_args__ = (
        # roll-up rebuilds by day, and the customer view of short periods
        Index("ix_analytics_order_fact_org_day", "organization_id", "day",
              postgresql_include=["customer_id", "shop_id", "warehouse_id", *_FIGURES]),
        # the customer view of long periods, customer by customer from the index only
        Index("ix_analytics_order_fact_org_customer", "organization_id", "customer_id", "day",
              postgresql_include=["shop_id", "warehouse_id", *_FIGURES]),
    )

    order_id: Mapped[int] = mapped_column(ForeignKey("order.id", ondelete="CASCADE"), primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    shop_id: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(64))
    warehouse_id: Mapped[int | None] = mapped_column(Integer)
    customer_id: Mapped[int | None] = mapped_column(Integer)
    day: Mapped[date] = mapped_column(db.Date)
    lines: Mapped[int] = mapped_column(Integer, default=0)
    units: Mapped[int] = mapped_column(Integer, default=0)
    revenue: Mapped[int] = mapped_column(db.BigInteger, default=0)
    product_cost: Mapped[int] = mapped_column(db.BigInteger, default=0)
    fees: Mapped[int] = mapped_column(db.BigInteger, default=0)
    shipping: Mapped[int] = mapped_column(db.BigInteger, default=0)
    returns: Mapped[int] = mapped_column(db.BigInteger, default=0)
    returned_units: Mapped[int] = mapped_column(Integer, default=0)
    #: first unit picked → first parcel shipped, in seconds (None until both happened)
    prep_seconds: Mapped[int | None] = mapped_column(Integer)
    cost_missing_lines: Mapped[int] = mapped_column(Integer, default=0)
    #: ok | stale (rate older than a month) | later (only a later rate) | missing (no rate)
    fx_status: Mapped[str] = mapped_column(String(8), default="ok")


class AnalyticsReturnFact(db.Model):
    """One returned order line of an RMA: units, reason, outcome and its cost (refund share
    minus the cost of restocked units), dated by its order."""

    __tablename__ = "analytics_return_fact"
    __table_args__ = (Index("ix_analytics_return_fact_org_day", "organization_id", "day"),
                      Index("ix_analytics_return_fact_order", "order_id"))

    return_line_id: Mapped[int] = mapped_column(ForeignKey("return_line.id", ondelete="CASCADE"), primary_key=True)
    return_id: Mapped[int] = mapped_column(Integer)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    order_id: Mapped[int] = mapped_column(ForeignKey("order.id", ondelete="CASCADE"))
    line_id: Mapped[int] = mapped_column(Integer)
    shop_id: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(64))
    warehouse_id: Mapped[int | None] = mapped_column(Integer)
    variant_id: Mapped[int | None] = mapped_column(Integer)
    day: Mapped[date] = mapped_column(db.Date)
    reason: Mapped[str] = mapped_column(String(32))
    outcome: Mapped[str] = mapped_column(String(16))  # pending | restocked | written_off
    units: Mapped[int] = mapped_column(Integer, default=0)
    value: Mapped[int] = mapped_column(db.BigInteger, default=0)


class AnalyticsDaily(db.Model):
    """Roll-up of the order facts per day, shop (channel) and shipping warehouse: the
    overview, channel, return-rate and preparation views read only this table."""

    __tablename__ = "analytics_daily"
    __table_args__ = (Index("ix_analytics_daily_org_day", "organization_id", "day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    day: Mapped[date] = mapped_column(db.Date)
    shop_id: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(64))
    warehouse_id: Mapped[int | None] = mapped_column(Integer)
    orders: Mapped[int] = mapped_column(Integer, default=0)
    lines: Mapped[int] = mapped_column(Integer, default=0)
    units: Mapped[int] = mapped_column(Integer, default=0)
    revenue: Mapped[int] = mapped_column(db.BigInteger, default=0)
    product_cost: Mapped[int] = mapped_column(db.BigInteger, default=0)
    fees: Mapped[int] = mapped_column(db.BigInteger, default=0)
    shipping: Mapped[int] = mapped_column(db.BigInteger, default=0)
    returns: Mapped[int] = mapped_column(db.BigInteger, default=0)
    returned_units: Mapped[int] = mapped_column(Integer, default=0)
    prep_orders: Mapped[int] = mapped_column(Integer, default=0)
    prep_seconds: Mapped[int] = mapped_column(db.BigInteger, default=0)
    cost_missing_lines: Mapped[int] = mapped_column(Integer, default=0)
    fx_issue_orders: Mapped[int] = mapped_column(Integer, default=0)
