"""What the analytics pages read: sums of the stored facts and roll-up (``core.analytics.facts``)
per channel, warehouse, day, product and customer, returns by reason and product, the products
that lose money with the action that would fix each, and the pricing helper's quotes."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_CEILING, Decimal
from typing import Any

from sqlalchemy import case, func, literal, select, text

from .. import fx
from ..extensions import db
from ..models import AnalyticsDaily, AnalyticsLineFact, AnalyticsOrderFact, AnalyticsReturnFact, Shop, Variant
from .facts import FeeSchedule, ensure_default_fees, from_cents


# ============================================================================ reading
@dataclass(frozen=True)
class Filters:
    """What the merchant looks at: a period of order dates (inclusive, the organization's
    time zone), optionally one channel, shop or warehouse."""

    date_from: date
    date_to: date
    channel: str = ""
    shop_id: int | None = None
    warehouse_id: int | None = None

    @property
    def days(self) -> int:
        return (self.date_to - self.date_from).days + 1


def _where(model: Any, org_id: int, f: Filters) -> list[Any]:
    """The filter conditions; a channel is its shops, so the covering indexes (which carry
    ``shop_id``, not ``channel``) answer alone."""
    conds = [model.organization_id == org_id, model.day >= f.date_from, model.day <= f.date_to]
    if f.channel:
        conds.append(model.shop_id.in_(select(Shop.id).where(Shop.organization_id == org_id,
                                                             Shop.addon == f.channel)))
    if f.shop_id:
        conds.append(model.shop_id == f.shop_id)
    if f.warehouse_id:
        conds.append(model.warehouse_id == f.warehouse_id)
    return conds


@dataclass
class Figures:
    """Sums over some orders or lines, in the organization's currency."""

    currency: str
    orders: int = 0
    units: int = 0
    revenue: Decimal = Decimal(0)
    product_cost: Decimal = Decimal(0)
    fees: Decimal = Decimal(0)
    shipping: Decimal = Decimal(0)
    returns: Decimal = Decimal(0)
    returned_units: int = 0
    prep_orders: int = 0
    prep_seconds: int = 0
    cost_missing_lines: int = 0
    fx_issue_orders: int = 0

    @property
    def margin(self) -> Decimal:
        return self.revenue - self.product_cost - self.fees - self.shipping - self.returns

    @property
    def margin_pct(self) -> Decimal | None:
        return (self.margin * 100 / self.revenue).quantize(Decimal("0.1")) if self.revenue else None

    @property
    def basket(self) -> Decimal | None:
        return (self.revenue / self.orders).quantize(Decimal("0.01")) if self.orders else None

    @property
    def return_rate(self) -> Decimal | None:
        return (Decimal(self.returned_units) * 100 / self.units).quantize(Decimal("0.1")) if self.units else None

    @property
    def prep_hours(self) -> Decimal | None:
        if not self.prep_orders:
            return None
        return (Decimal(self.prep_seconds) / self.prep_orders / 3600).quantize(Decimal("0.1"))

    def add(self, other: "Figures") -> None:
        for name in ("orders", "units", "revenue", "product_cost", "fees", "shipping", "returns", "returned_units",
                     "prep_orders", "prep_seconds", "cost_missing_lines", "fx_issue_orders"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


_MONEY = ("revenue", "product_cost", "fees", "shipping", "returns")


def _sums(model: Any, *, orders: Any | None = None, prep: bool = False) -> list[Any]:
    cols = [func.coalesce(func.sum(model.units), 0)] + [func.coalesce(func.sum(getattr(model, m)), 0) for m in _MONEY]
    cols.append(func.coalesce(func.sum(model.returned_units), 0))
    cols.append(orders if orders is not None else func.count())
    if prep:
        cols += [func.coalesce(func.sum(model.prep_orders), 0), func.coalesce(func.sum(model.prep_seconds), 0),
                 func.coalesce(func.sum(model.cost_missing_lines), 0), func.coalesce(func.sum(model.fx_issue_orders), 0)]
    return cols


def _figures(currency: str, values: Sequence[Any], *, prep: bool = False) -> Figures:
    fig = Figures(currency=currency, units=int(values[0] or 0), revenue=from_cents(values[1]),
                  product_cost=from_cents(values[2]), fees=from_cents(values[3]), shipping=from_cents(values[4]),
                  returns=from_cents(values[5]), returned_units=int(values[6] or 0), orders=int(values[7] or 0))
    if prep:
        fig.prep_orders, fig.prep_seconds = int(values[8] or 0), int(values[9] or 0)
        fig.cost_missing_lines, fig.fx_issue_orders = int(values[10] or 0), int(values[11] or 0)
    return fig


def _daily_sums() -> list[Any]:
    return _sums(AnalyticsDaily, orders=func.coalesce(func.sum(AnalyticsDaily.orders), 0), prep=True)


def overview(org_id: int, currency: str, f: Filters) -> Figures:
    """The period's totals (roll-up ``analytics_daily``, index ``ix_analytics_daily_org_day``)."""
    row = db.session.execute(select(*_daily_sums()).where(*_where(AnalyticsDaily, org_id, f))).one()
    return _figures(currency, row, prep=True)


def _grouped_daily(org_id: int, currency: str, f: Filters, key: Any) -> list[tuple[Any, Figures]]:
    rows = db.session.execute(select(key, *_daily_sums()).where(*_where(AnalyticsDaily, org_id, f)).group_by(key))
    return [(row[0], _figures(currency, row[1:], prep=True)) for row in rows]


def by_channel(org_id: int, currency: str, f: Filters) -> list[tuple[str, Figures]]:
    """Per channel, most revenue first (roll-up ``analytics_daily``)."""
    rows = _grouped_daily(org_id, currency, f, AnalyticsDaily.channel)
    return sorted(rows, key=lambda r: (-r[1].revenue, r[0]))


def by_warehouse(org_id: int, currency: str, f: Filters) -> list[tuple[int | None, Figures]]:
    """Per shipping warehouse (roll-up ``analytics_daily``): preparation times."""
    rows = _grouped_daily(org_id, currency, f, AnalyticsDaily.warehouse_id)
    return sorted(rows, key=lambda r: (r[0] is None, -r[1].orders, r[0] or 0))


def timeline(org_id: int, f: Filters) -> list[tuple[date, str, int, Decimal]]:
    """(day, channel, orders, revenue) of every day with sales (roll-up ``analytics_daily``)."""
    d = AnalyticsDaily
    rows = db.session.execute(select(d.day, d.channel, func.sum(d.orders), func.sum(d.revenue))
                              .where(*_where(d, org_id, f)).group_by(d.day, d.channel).order_by(d.day, d.channel))
    return [(day, channel, int(orders or 0), from_cents(revenue)) for day, channel, orders, revenue in rows]


def bucket_of(day: date, unit: str) -> date:
    """The first day of the day's week (Monday) or month; the day itself for ``day``."""
    if unit == "week":
        return day - timedelta(days=day.weekday())
    if unit == "month":
        return day.replace(day=1)
    return day


def bucket_unit(f: Filters) -> str:
    return "day" if f.days <= 62 else "week" if f.days <= 366 else "month"


PRODUCT_SORTS = {
    "revenue": lambda m: func.sum(m.revenue).desc(),
    "margin": lambda m: (func.sum(m.revenue) - func.sum(m.product_cost) - func.sum(m.fees) - func.sum(m.shipping)
                         - func.sum(m.returns)).desc(),
    "loss": lambda m: (func.sum(m.revenue) - func.sum(m.product_cost) - func.sum(m.fees) - func.sum(m.shipping)
                       - func.sum(m.returns)).asc(),
    "units": lambda m: func.sum(m.units).desc(),
}


def by_product(org_id: int, currency: str, f: Filters, *, sort: str = "revenue",
               limit: int = 50) -> list[tuple[int | None, Figures]]:
    """Per SKU (line facts, covering indexes ``ix_analytics_line_fact_org_day`` for short periods,
    ``ix_analytics_line_fact_org_variant`` for long ones), ``limit`` rows."""
    m = AnalyticsLineFact
    order = PRODUCT_SORTS.get(sort, PRODUCT_SORTS["revenue"])(m)
    rows = db.session.execute(select(m.variant_id, *_sums(m)).where(*_where(m, org_id, f))
                              .group_by(m.variant_id).order_by(order, m.variant_id).limit(limit))
    result = []
    for row in rows:
        fig = _figures(currency, row[1:])
        fig.orders = 0  # a SKU's lines are not orders: the product views count units
        result.append((row[0], fig))
    return result


CUSTOMER_SORTS = {key: fn for key, fn in PRODUCT_SORTS.items()}
CUSTOMER_SORTS["orders"] = lambda m: func.count().desc()


def by_customer(org_id: int, currency: str, f: Filters, *, sort: str = "revenue",
                limit: int = 50) -> list[tuple[int | None, Figures]]:
    """Per customer (order facts, covering indexes ``ix_analytics_order_fact_org_day`` or
    ``ix_analytics_order_fact_org_customer``), ``limit`` rows."""
    m = AnalyticsOrderFact
    order = CUSTOMER_SORTS.get(sort, CUSTOMER_SORTS["revenue"])(m)
    rows = db.session.execute(select(m.customer_id, *_sums(m)).where(*_where(m, org_id, f))
                              .group_by(m.customer_id).order_by(order, m.customer_id).limit(limit))
    return [(row[0], _figures(currency, row[1:])) for row in rows]


def returns_by_reason(org_id: int, currency: str, f: Filters) -> list[tuple[str, int, int, Decimal]]:
    """(reason, returns, units, cost) per reason (return facts, ``ix_analytics_return_fact_org_day``)."""
    m = AnalyticsReturnFact
    rows = db.session.execute(select(m.reason, func.count(func.distinct(m.return_id)), func.sum(m.units),
                                     func.sum(m.value)).where(*_where(m, org_id, f)).group_by(m.reason))
    return sorted(((reason, int(n or 0), int(units or 0), from_cents(value)) for reason, n, units, value in rows),
                  key=lambda r: (-r[2], r[0]))


def returns_by_product(org_id: int, currency: str, f: Filters, *, limit: int = 50) -> list[tuple[int | None, Figures]]:
    """The most returned SKUs with their units sold over the same period (return facts, then
    line facts of those SKUs only: covering index ``ix_analytics_line_fact_org_variant``)."""
    r = AnalyticsReturnFact
    top = db.session.execute(select(r.variant_id, func.sum(r.units)).where(*_where(r, org_id, f))
                             .group_by(r.variant_id).order_by(func.sum(r.units).desc(), r.variant_id)
                             .limit(limit)).all()
    ids = [vid for vid, _u in top if vid is not None]
    sold: dict[int | None, Figures] = {}
    if ids:
        m = AnalyticsLineFact
        for row in db.session.execute(select(m.variant_id, *_sums(m)).where(*_where(m, org_id, f),
                                                                             m.variant_id.in_(ids))
                                      .group_by(m.variant_id)):
            sold[row[0]] = _figures(currency, row[1:])
    result = []
    for vid, units in top:
        fig = sold.get(vid) or Figures(currency=currency)
        fig.orders = 0
        if vid is None:
            fig.returned_units = int(units or 0)
        result.append((vid, fig))
    return result


@dataclass
class Loser:
    """A SKU that loses money on a channel, and what to do about it."""

    variant_id: int | None
    channel: str
    figures: Figures
    action: str  # price | delist | cost | returns
    amount: Decimal | None = None  # price increase, for ``price``
    fee_pct: Decimal = Decimal(0)
    elsewhere: list[str] = field(default_factory=list)  # channels where it earns money


def _channel_of(org_id: int, model: Any) -> Any:
    """The channel of a fact row computed from its shop (``CASE shop_id …``): the covering
    indexes carry ``shop_id`` only."""
    shops = db.session.execute(select(Shop.id, Shop.addon).where(Shop.organization_id == org_id)
                               .order_by(Shop.id)).all()
    if not shops:
        return literal("")
    return case({shop_id: addon for shop_id, addon in shops}, value=model.shop_id, else_=literal(""))


#: periods longer than this aggregate SKU by SKU in the covering index's order
STREAM_AFTER_DAYS = 62


@contextmanager
def _streamed(wanted: bool) -> Iterator[None]:
    """PostgreSQL: aggregate in the order of ``ix_analytics_line_fact_org_variant`` (a
    streaming GroupAggregate over an index-only scan, constant memory) instead of hashing
    tens of thousands of SKU × shop groups, whose wide sum states the planner underprices
    and which then spill to disk. Only for the statement inside the block."""
    if not wanted or db.engine.dialect.name != "postgresql":
        yield
        return
    db.session.execute(text("SET LOCAL enable_hashagg = off"))
    try:
        yield
    finally:
        db.session.execute(text("SET LOCAL enable_hashagg = on"))


#: above this share of the current price, raising the price is not a realistic answer
MAX_RAISE = Decimal("0.25")


def losers(org_id: int, currency: str, f: Filters, *, limit: int = 20) -> list[Loser]:
    """SKU × channel pairs with a negative net margin, worst first, each with a suggested
    action (line facts, covering indexes ``ix_analytics_line_fact_org_day`` or
    ``ix_analytics_line_fact_org_variant``)."""
    m = AnalyticsLineFact
    # per SKU and shop first, in the order of the covering index (no sort, no heap), then per
    # SKU and channel: the few rows of the first step
    per_shop = (select(m.variant_id, m.shop_id,
                       *[func.sum(getattr(m, c)).label(c) for c in ("units", *_MONEY, "returned_units")],
                       func.count().label("lines"))
                .where(*_where(m, org_id, f)).group_by(m.variant_id, m.shop_id).subquery())
    p = per_shop.c
    channel = _channel_of(org_id, p)
    margin = func.sum(p.revenue) - func.sum(p.product_cost) - func.sum(p.fees) - func.sum(p.shipping) - func.sum(p.returns)
    sums = ([func.sum(p.units)] + [func.sum(getattr(p, c)) for c in _MONEY]
            + [func.sum(p.returned_units), func.sum(p.lines)])
    with _streamed(f.days > STREAM_AFTER_DAYS):
        rows = db.session.execute(select(p.variant_id, channel, *sums).group_by(p.variant_id, channel)
                                  .having(margin < 0).order_by(margin.asc(), p.variant_id, channel)
                                  .limit(limit)).all()
    margin = (func.sum(m.revenue) - func.sum(m.product_cost) - func.sum(m.fees) - func.sum(m.shipping)
              - func.sum(m.returns))
    channel = _channel_of(org_id, m)
    ids = sorted({r[0] for r in rows if r[0] is not None})
    profitable: dict[int, list[str]] = defaultdict(list)
    tags: dict[int, list[str]] = {}
    if ids:
        g = Filters(f.date_from, f.date_to, shop_id=f.shop_id, warehouse_id=f.warehouse_id)
        for vid, name, value in db.session.execute(
                select(m.variant_id, channel, margin).where(*_where(m, org_id, g), m.variant_id.in_(ids))
                .group_by(m.variant_id, channel)):
            if value is not None and value > 0:
                profitable[vid].append(name)
        from ..models import Product

        tags = {vid: list(t or []) for vid, t in db.session.execute(
            select(Variant.id, Product.tags).join(Product, Product.id == Variant.product_id)
            .where(Variant.id.in_(ids), Variant.organization_id == org_id))}
    schedule = FeeSchedule.load(org_id)
    result = []
    for row in rows:
        vid, channel = row[0], row[1]
        fig = _figures(currency, row[2:])
        fig.orders = 0
        pct = schedule.percent(channel, tags.get(vid, []))
        result.append(suggest(vid, channel, fig, pct, sorted(profitable.get(vid, []))))
    return result


def suggest(variant_id: int | None, channel: str, fig: Figures, fee_pct: Decimal, elsewhere: list[str]) -> Loser:
    """What to do with a SKU losing money on a channel:

    * ``cost``: its purchase cost alone is at or above its price;
    * ``returns``: returns cost more than half of the loss and over 10 % of units come back;
    * ``price``: raise the price (excluding VAT) by the loss per unit grossed up by the
      channel's percentage fees, rounded up to 0.10, when that is at most 25 % of the price;
    * ``delist``: otherwise, when the SKU earns money on another channel;
    * ``cost`` again otherwise: no channel makes it profitable at its purchase cost.
    """
    loser = Loser(variant_id=variant_id, channel=channel, figures=fig, action="cost", fee_pct=fee_pct,
                  elsewhere=elsewhere)
    loss = -fig.margin
    if fig.units <= 0 or fig.revenue <= 0 or fig.product_cost >= fig.revenue:
        return loser
    rate = fig.return_rate or Decimal(0)
    if fig.returns * 2 > loss and rate >= 10:
        loser.action = "returns"
        return loser
    keep = 1 - fee_pct / 100
    if keep > 0:
        raise_by = (loss / fig.units / keep).quantize(Decimal("0.1"), rounding=ROUND_CEILING)
        if raise_by <= fig.revenue / fig.units * MAX_RAISE:
            loser.action, loser.amount = "price", raise_by
            return loser
    if elsewhere:
        loser.action = "delist"
    return loser


# ============================================================================ pricing helper
@dataclass(frozen=True)
class PriceQuote:
    """The pricing helper's answer for one channel (amounts in the organization's currency;
    prices VAT included)."""

    channel: str
    fee_pct: Decimal
    fixed: Decimal
    target_price: Decimal | None  # None: fees and target margin take 100 % of the price or more
    target_margin: Decimal | None
    price: Decimal | None = None
    margin_at_price: Decimal | None = None
    margin_pct_at_price: Decimal | None = None


def price_for_margin(*, cost: Decimal, shipping: Decimal, fixed: Decimal, fee_pct: Decimal, margin_pct: Decimal,
                     vat_pct: Decimal) -> Decimal | None:
    """The price (VAT included) that leaves ``margin_pct`` of the price excluding VAT as net
    margin:

        P = (1 + v) × (C + S + F) / (1 − m − (c + p) × (1 + v))

    with C the unit cost, S the shipping cost per order, F the fixed fees per order, c + p the
    commission and payment fees (share of the price paid, VAT included), m the target margin
    and v the VAT rate. None when the denominator is not positive (no price can do it).
    """
    v = vat_pct / 100
    denominator = 1 - margin_pct / 100 - fee_pct / 100 * (1 + v)
    if denominator <= 0:
        return None
    return ((1 + v) * (cost + shipping + fixed) / denominator).quantize(Decimal("0.01"), rounding=ROUND_CEILING)


def margin_at(price: Decimal, *, cost: Decimal, shipping: Decimal, fixed: Decimal, fee_pct: Decimal,
              vat_pct: Decimal) -> tuple[Decimal, Decimal | None]:
    """Net margin and margin % of the price excluding VAT, at ``price`` (VAT included):

        M = P / (1 + v) − C − S − F − (c + p) × P
    """
    net = price / (1 + vat_pct / 100)
    margin = (net - cost - shipping - fixed - fee_pct / 100 * price).quantize(Decimal("0.01"))
    return margin, ((margin * 100 / net).quantize(Decimal("0.1")) if net else None)


def quotes(org_id: int, currency: str, *, cost: Decimal, shipping: Decimal, margin_pct: Decimal, vat_pct: Decimal,
           tags: Sequence[str] = (), price: Decimal | None = None, today: date | None = None) -> list[PriceQuote]:
    """The pricing helper for every channel of the fee schedule."""
    ensure_default_fees(org_id)
    schedule = FeeSchedule.load(org_id)
    rates = fx.RateTable.load(org_id)
    today = today or date.today()
    result = []
    for channel in sorted(schedule.rules):
        star = schedule.star(channel)
        fixed = Decimal(0)
        if star is not None:
            fixed = rates.convert(star.fixed_per_order + star.payment_fixed, star.currency, currency, today).amount
            fixed = fixed.quantize(Decimal("0.01"))
        pct = schedule.percent(channel, tags)
        target = price_for_margin(cost=cost, shipping=shipping, fixed=fixed, fee_pct=pct, margin_pct=margin_pct,
                                  vat_pct=vat_pct)
        target_margin = (margin_at(target, cost=cost, shipping=shipping, fixed=fixed, fee_pct=pct,
                                   vat_pct=vat_pct)[0] if target is not None else None)
        at = margin_at(price, cost=cost, shipping=shipping, fixed=fixed, fee_pct=pct,
                       vat_pct=vat_pct) if price else (None, None)
        result.append(PriceQuote(channel=channel, fee_pct=pct, fixed=fixed, target_price=target,
                                 target_margin=target_margin, price=price, margin_at_price=at[0],
                                 margin_pct_at_price=at[1]))
    return result
