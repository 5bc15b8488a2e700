"""Analytics facts: what each order, line and return really earns, computed once and stored.

Figures are stored, never computed per line while a page renders. For every order that is
not cancelled, :func:`refresh_orders` writes

* one ``analytics_line_fact`` row per line, one ``analytics_order_fact`` row per order and
  one ``analytics_return_fact`` row per returned line, in the organization's currency
  (converted with the rate of the order's date, ``core.fx``) and in hundredths, so sums are
  exact integers on every database;
* the ``analytics_daily`` roll-up of the order facts per day, shop and shipping warehouse.

A listener queues one refresh job per transaction that touched orders, lines, shipments,
returns or actual fees; ``oms analytics rebuild`` and a nightly job rebuild everything.

How a line's figures are made (amounts of the order, then converted):

* revenue: the order's total less its VAT (``total − tax_total``: what the merchant keeps,
  delivery charged included), shared between lines by their amount (price × quantity −
  discount);
* product cost: quantity × unit cost, asked to the add-ons (``cost_of_line`` hook, e.g. a
  dropship supplier's price), else the variant's cost price;
* fees: the channel's actual fees when it reported them (``set_actual_fees``), else the fee
  schedule: commission % and payment % of what the customer pays (line's share of the
  order total) — from the rule of the product's first tag that has one, else the channel's
  ``*`` rule — plus the ``*`` rule's fixed amounts per order, shared by amount;
* shipping: the carriers' cost of the order's parcels, shared by amount;
* returns: refunds recorded on its returns, less the cost of the units put back in stock
  (units written off stay a loss through their product cost);
* net margin = revenue − product cost − fees − shipping − returns.
"""
from __future__ import annotations

import configparser
import logging
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from decimal import ROUND_FLOOR, ROUND_HALF_EVEN, Decimal
from functools import cache
from itertools import chain
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import has_app_context
from sqlalchemy import case, delete, func, insert, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, selectinload

from .. import fx
from ..addons import call
from ..extensions import db
from ..jobs import enqueue
from ..models import (
    AnalyticsActualFee,
    AnalyticsDaily,
    AnalyticsDirty,
    AnalyticsFeeRule,
    AnalyticsLineFact,
    AnalyticsOrderFact,
    AnalyticsReturnFact,
    Order,
    OrderLine,
    OrderStatus,
    Organization,
    PaymentStatus,
    Return,
    ReturnLine,
    Shipment,
    ShipmentStatus,
    Shop,
    Variant,
)
from ..models.base import DIRECT_WRITTEN
from ..money import Money
from ..returns import outcome


log = logging.getLogger(__name__)

#: stored amounts are hundredths of the organization's currency
SCALE = 100
#: orders refreshed per batch (one query per kind of row)
BATCH = 500
#: key of the PostgreSQL advisory lock that serializes one organization's refreshes
_LOCK_KEY = 7301
FEE_DEFAULTS_FILE = Path(__file__).with_name("analytics_fees.ini")
#: kinds of fees a channel reports: its commission, payment processing, fixed per-order or
#: closing fees, shipping labels it sells, fulfilment it performs (FBA pick, pack, deliver)
FEE_KINDS = ("commission", "payment", "fixed", "shipping_label", "fulfilment", "other")
ANY_CATEGORY = "*"


def cents(amount: Decimal) -> int:
    return int((amount * SCALE).to_integral_value(rounding=ROUND_HALF_EVEN))


def from_cents(value: Any) -> Decimal:
    return Decimal(int(value or 0)).scaleb(-2)


def allocate(total: int, weights: Sequence[Decimal | int]) -> list[int]:
    """Split ``total`` (an integer) by ``weights``; the parts add up to ``total`` exactly
    (largest remainders get the leftover units)."""
    n = len(weights)
    if n == 0:
        return []
    ws = [Decimal(max(w, 0)) for w in weights]
    wsum = sum(ws)
    if wsum <= 0:
        ws, wsum = [Decimal(1)] * n, Decimal(n)
    raw = [Decimal(total) * w / wsum for w in ws]
    parts = [int(r.to_integral_value(rounding=ROUND_FLOOR)) for r in raw]
    for i in sorted(range(n), key=lambda i: (raw[i] - parts[i], -i), reverse=True)[:total - sum(parts)]:
        parts[i] += 1
    return parts


def org_zone(org: Organization) -> ZoneInfo | timezone:
    try:
        return ZoneInfo(org.timezone or "Europe/Paris")
    except (ZoneInfoNotFoundError, ValueError):
        return timezone.utc


def local_day(moment: datetime, zone: ZoneInfo | timezone) -> date:
    return moment.astimezone(zone).date()


# ============================================================================ fee schedule
@cache
def fee_defaults() -> dict[str, dict[str, str]]:
    """The shipped default schedule (``analytics_fees.ini``), by channel name; ``*`` for any."""
    parser = configparser.ConfigParser(interpolation=configparser.BasicInterpolation())
    parser.read(FEE_DEFAULTS_FILE, encoding="utf-8")
    return {section: dict(parser[section]) for section in parser.sections()}


def default_fees_for(channel: str) -> dict[str, str]:
    table = fee_defaults()
    return table.get(channel) or table.get(channel.split("_")[0]) or table[ANY_CATEGORY]


def channels_in_use(org_id: int) -> list[str]:
    return sorted(set(db.session.scalars(select(Shop.addon).where(Shop.organization_id == org_id))))


def ensure_default_fees(org_id: int, channels: Iterable[str] | None = None) -> int:
    """Give each channel the organization sells on (or ``channels``) without any rule its
    default ``*`` rule; returns how many were added."""
    wanted = set(channels if channels is not None else channels_in_use(org_id))
    have = set(db.session.scalars(select(AnalyticsFeeRule.channel).where(AnalyticsFeeRule.organization_id == org_id)))
    added = 0
    for channel in sorted(wanted - have):
        d = default_fees_for(channel)
        db.session.add(AnalyticsFeeRule(
            organization_id=org_id, channel=channel, category=ANY_CATEGORY, is_default=True,
            commission_pct=Decimal(d["commission_pct"]), fixed_per_order=Decimal(d["fixed_per_order"]),
            payment_pct=Decimal(d["payment_pct"]), payment_fixed=Decimal(d["payment_fixed"]),
            currency=d["currency"], source=d["source"]))
        added += 1
    if added:
        db.session.flush()
    return added


class FeeSchedule:
    """An organization's fee rules, by channel and category."""

    def __init__(self, rules: Iterable[AnalyticsFeeRule]) -> None:
        self.rules: dict[str, dict[str, AnalyticsFeeRule]] = defaultdict(dict)
        for rule in rules:
            self.rules[rule.channel][rule.category] = rule

    @classmethod
    def load(cls, org_id: int) -> "FeeSchedule":
        return cls(db.session.scalars(select(AnalyticsFeeRule).where(AnalyticsFeeRule.organization_id == org_id)))

    def star(self, channel: str) -> AnalyticsFeeRule | None:
        return self.rules.get(channel, {}).get(ANY_CATEGORY)

    def rule_for(self, channel: str, tags: Iterable[str] = ()) -> AnalyticsFeeRule | None:
        """The rule of the first product tag that has one, else the channel's ``*`` rule."""
        by_category = self.rules.get(channel, {})
        for tag in tags:
            if tag in by_category and tag != ANY_CATEGORY:
                return by_category[tag]
        return by_category.get(ANY_CATEGORY)

    def percent(self, channel: str, tags: Iterable[str] = ()) -> Decimal:
        """Commission + payment fee, in percent of what the customer pays."""
        rule = self.rule_for(channel, tags)
        return (rule.commission_pct + rule.payment_pct) if rule is not None else Decimal(0)


def set_actual_fees(order: Order, fees: Iterable[tuple[str, Money]]) -> None:
    """Replace the fees a channel actually charged for ``order`` (its settlement report);
    for channel add-ons. ``kind`` is one of :data:`FEE_KINDS`. Runs in the caller's
    transaction; the order's figures are refreshed after commit."""
    db.session.execute(delete(AnalyticsActualFee).where(AnalyticsActualFee.order_id == order.id))
    for kind, money in fees:
        if kind not in FEE_KINDS:
            raise ValueError(f"unknown fee kind {kind!r}; one of {', '.join(FEE_KINDS)}")
        db.session.add(AnalyticsActualFee(organization_id=order.organization_id, order_id=order.id, kind=kind,
                                          amount=money.quantize().amount, currency=money.currency))
    db.session.flush()


# ============================================================================ facts
@dataclass
class _Context:
    org_id: int
    currency: str
    zone: ZoneInfo | timezone
    rates: fx.RateTable
    fees: FeeSchedule


def _context(org_id: int) -> _Context:
    org = db.session.get(Organization, org_id)
    ensure_default_fees(org_id)
    fx.ensure_seed(org_id)
    return _Context(org_id=org_id, currency=org.currency, zone=org_zone(org), rates=fx.RateTable.load(org_id),
                    fees=FeeSchedule.load(org_id))


def _unit_cost(order: Order, line: OrderLine) -> Money | None:
    answer = call(order.shop, "cost_of_line", order=order, line=line)
    if isinstance(answer, Money):
        return answer
    variant = line.variant
    if variant is not None and variant.cost_price is not None:
        return Money(variant.cost_price, variant.currency)
    return None


def _order_rows(order: Order, returns: list[Return], actual: list[AnalyticsActualFee],
                ctx: _Context) -> tuple[dict[str, Any], list[dict[str, Any]], list[dict[str, Any]]]:
    """The fact rows of one order (not cancelled): order row, line rows, return rows."""
    day = local_day(order.placed_at, ctx.zone)
    statuses: list[str] = []

    def conv(amount: Decimal, currency: str) -> int:
        result = ctx.rates.convert(amount, currency, ctx.currency, day)
        statuses.append(result.status)
        return cents(result.amount)

    lines = list(order.lines)
    weights = [max(ln.unit_price * ln.quantity - ln.discount, Decimal(0)) for ln in lines]
    if not any(weights):
        weights = [Decimal(ln.quantity) for ln in lines]
    paid = order.total if order.total else sum(weights, Decimal(0)) + order.shipping_total
    revenue = allocate(conv(paid - order.tax_total, order.currency), weights)
    base = allocate(conv(paid, order.currency), weights)

    # fees: the channel's own figures, else the schedule
    channel = order.shop.addon
    if actual:
        fees = allocate(sum(conv(f.amount, f.currency) for f in actual), weights)
    else:
        star = ctx.fees.star(channel)
        fixed = (conv(star.fixed_per_order + star.payment_fixed, star.currency) if star is not None else 0)
        fixed_parts = allocate(fixed, weights)
        fees = []
        for ln, b, f in zip(lines, base, fixed_parts):
            tags = (ln.variant.product.tags or []) if ln.variant is not None else []
            pct = ctx.fees.percent(channel, tags)
            fees.append(cents(Decimal(b) * pct / 100 / SCALE) + f)

    parcels = [s for s in order.shipments if s.status != ShipmentStatus.CANCELLED]
    shipping = allocate(sum(conv(s.cost, s.currency) for s in parcels if s.cost is not None), weights)

    costs: list[int] = []
    known: list[bool] = []
    for ln in lines:
        unit = _unit_cost(order, ln)
        known.append(unit is not None)
        costs.append(conv(unit.amount * ln.quantity, unit.currency) if unit is not None else 0)

    # returns: refunds (shared by the returned units' price) less the cost of units restocked
    index = {ln.id: i for i, ln in enumerate(lines)}
    returned_units = [0] * len(lines)
    returned_value = [0] * len(lines)
    return_rows: list[dict[str, Any]] = []
    for ret in returns:
        ret_lines = [rl for rl in ret.lines if rl.order_line_id in index]
        refunded = (ret.refund_amount if ret.refund_amount and ret.refund_status in
                    (PaymentStatus.REFUNDED, PaymentStatus.PARTIALLY_REFUNDED) else Decimal(0))
        refund_cents = conv(refunded, ret.currency or order.currency) if refunded else 0
        if not ret_lines:  # a refund without goods coming back
            for i, part in enumerate(allocate(refund_cents, weights)):
                returned_value[i] += part
            continue
        shares = allocate(refund_cents, [weights[index[rl.order_line_id]] * rl.quantity
                                         / max(lines[index[rl.order_line_id]].quantity, 1) for rl in ret_lines])
        result = outcome(ret)
        for rl, share in zip(ret_lines, shares):
            i = index[rl.order_line_id]
            ln = lines[i]
            recovered = (cents(Decimal(costs[i]) * rl.quantity / max(ln.quantity, 1) / SCALE)
                         if result == "restocked" else 0)
            value = share - recovered
            returned_units[i] += rl.quantity
            returned_value[i] += value
            return_rows.append(dict(
                return_line_id=rl.id, return_id=ret.id, organization_id=ctx.org_id, order_id=order.id, line_id=ln.id,
                shop_id=order.shop_id, channel=channel, warehouse_id=ln.warehouse_id, variant_id=ln.variant_id,
                day=day, reason=ret.reason.value, outcome=result, units=rl.quantity, value=value))

    line_rows = [dict(
        line_id=ln.id, organization_id=ctx.org_id, order_id=order.id, shop_id=order.shop_id, channel=channel,
        warehouse_id=ln.warehouse_id, variant_id=ln.variant_id, customer_id=order.customer_id, day=day,
        units=ln.quantity, revenue=revenue[i], product_cost=costs[i], fees=fees[i], shipping=shipping[i],
        returns=returned_value[i], returned_units=returned_units[i], cost_known=known[i])
        for i, ln in enumerate(lines)]

    shipped = sorted((s for s in parcels if s.shipped_at is not None), key=lambda s: (s.shipped_at, s.id))
    prep = None
    if order.picking_started_at is not None and shipped:
        prep = max(int((shipped[0].shipped_at - order.picking_started_at).total_seconds()), 0)
    warehouse_id = shipped[0].warehouse_id if shipped and shipped[0].warehouse_id else next(
        (ln.warehouse_id for ln in lines if ln.warehouse_id), None)
    order_row = dict(
        order_id=order.id, organization_id=ctx.org_id, shop_id=order.shop_id, channel=channel,
        warehouse_id=warehouse_id, customer_id=order.customer_id, day=day, lines=len(lines),
        units=sum(ln.quantity for ln in lines), revenue=sum(revenue), product_cost=sum(costs), fees=sum(fees),
        shipping=sum(shipping), returns=sum(returned_value), returned_units=sum(returned_units),
        prep_seconds=prep, cost_missing_lines=sum(1 for k in known if not k), fx_status=fx.worst(*statuses))
    return order_row, line_rows, return_rows


def _lock(org_id: int) -> None:
    """One refresh at a time per organization (PostgreSQL): the last job always reads the
    latest committed state. SQLite serializes writers anyway."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key, :org)"), {"key": _LOCK_KEY, "org": org_id})


def _write_facts(org_id: int, order_ids: Sequence[int], ctx: _Context) -> set[date]:
    """Rewrite the facts of these orders; returns the days whose roll-up changed."""
    days = set(db.session.scalars(select(AnalyticsOrderFact.day).where(
        AnalyticsOrderFact.organization_id == org_id, AnalyticsOrderFact.order_id.in_(order_ids))))
    for model in (AnalyticsReturnFact, AnalyticsLineFact, AnalyticsOrderFact):
        db.session.execute(delete(model).where(model.organization_id == org_id, model.order_id.in_(order_ids)))
    orders = db.session.scalars(
        select(Order).where(Order.organization_id == org_id, Order.id.in_(order_ids),
                            Order.status != OrderStatus.CANCELLED)
        .options(selectinload(Order.lines).selectinload(OrderLine.variant).selectinload(Variant.product),
                 selectinload(Order.shipments), selectinload(Order.shop).selectinload(Shop.addons))).all()
    if not orders:
        return days
    ids = [o.id for o in orders]
    returns: dict[int, list[Return]] = defaultdict(list)
    for ret in db.session.scalars(select(Return).where(Return.order_id.in_(ids)).order_by(Return.id)
                                  .options(selectinload(Return.lines))):
        returns[ret.order_id].append(ret)
    actual: dict[int, list[AnalyticsActualFee]] = defaultdict(list)
    for fee in db.session.scalars(select(AnalyticsActualFee).where(AnalyticsActualFee.order_id.in_(ids))
                                  .order_by(AnalyticsActualFee.id)):
        actual[fee.order_id].append(fee)
    order_rows, line_rows, return_rows = [], [], []
    for order in orders:
        o, ls, rs = _order_rows(order, returns[order.id], actual[order.id], ctx)
        order_rows.append(o)
        line_rows.extend(ls)
        return_rows.extend(rs)
        days.add(o["day"])
    db.session.execute(insert(AnalyticsOrderFact), order_rows)
    if line_rows:
        db.session.execute(insert(AnalyticsLineFact), line_rows)
    if return_rows:
        db.session.execute(insert(AnalyticsReturnFact), return_rows)
    return days


def _roll_up(org_id: int, days: Iterable[date] | None) -> None:
    """Recompute the daily roll-up of these days (all days when None) from the order facts."""
    f = AnalyticsOrderFact
    columns = ["organization_id", "day", "shop_id", "channel", "warehouse_id", "orders", "lines", "units",
               "revenue", "product_cost", "fees", "shipping", "returns", "returned_units", "prep_orders",
               "prep_seconds", "cost_missing_lines", "fx_issue_orders"]
    source = (select(f.organization_id, f.day, f.shop_id, f.channel, f.warehouse_id, func.count(),
                     func.sum(f.lines), func.sum(f.units), func.sum(f.revenue), func.sum(f.product_cost),
                     func.sum(f.fees), func.sum(f.shipping), func.sum(f.returns), func.sum(f.returned_units),
                     func.count(f.prep_seconds), func.coalesce(func.sum(f.prep_seconds), 0),
                     func.sum(f.cost_missing_lines), func.sum(case((f.fx_status != fx.OK, 1), else_=0)))
              .where(f.organization_id == org_id)
              .group_by(f.organization_id, f.day, f.shop_id, f.channel, f.warehouse_id))
    if days is None:
        db.session.execute(delete(AnalyticsDaily).where(AnalyticsDaily.organization_id == org_id))
        db.session.execute(insert(AnalyticsDaily).from_select(columns, source))
        return
    todo = sorted(set(days))
    for start in range(0, len(todo), BATCH):
        chunk = todo[start:start + BATCH]
        db.session.execute(delete(AnalyticsDaily).where(AnalyticsDaily.organization_id == org_id,
                                                        AnalyticsDaily.day.in_(chunk)))
        db.session.execute(insert(AnalyticsDaily).from_select(columns, source.where(f.day.in_(chunk))))


def refresh_orders(org_id: int, order_ids: list[int]) -> int:
    """Job: rewrite the facts of these orders and the roll-up of their days. Returns the
    number of orders that have figures (cancelled ones have none)."""
    _lock(org_id)
    ctx = _context(org_id)
    ids = sorted(set(int(i) for i in order_ids))
    days: set[date] = set()
    for start in range(0, len(ids), BATCH):
        days |= _write_facts(org_id, ids[start:start + BATCH], ctx)
    _roll_up(org_id, days)
    return db.session.scalar(select(func.count()).select_from(AnalyticsOrderFact).where(
        AnalyticsOrderFact.organization_id == org_id, AnalyticsOrderFact.order_id.in_(ids))) if ids else 0


def rebuild(org_id: int, *, commit_every: int = 10) -> int:
    """Job and ``oms analytics rebuild``: every order of the organization again (after a fee,
    rate or currency change, and nightly). Batches replace their own orders' facts, so the
    pages keep complete figures while it runs; commits every ``commit_every`` batches."""
    _lock(org_id)
    ctx = _context(org_id)
    ids = list(db.session.scalars(select(Order.id).where(Order.organization_id == org_id).order_by(Order.id)))
    for n, start in enumerate(range(0, len(ids), BATCH), start=1):
        _write_facts(org_id, ids[start:start + BATCH], ctx)
        if n % commit_every == 0:
            db.session.commit()
            _lock(org_id)
    _roll_up(org_id, None)
    return len(ids)


def rebuild_all() -> int:
    """``oms analytics rebuild --queue``: one full rebuild job per organization. The nightly
    pass is incremental instead (``core.analytics_jobs.refresh_changed``)."""
    org_ids = list(db.session.scalars(select(Organization.id)))
    for org_id in org_ids:
        enqueue("core.analytics.rebuild", org_id, job_id=f"analytics-rebuild-{org_id}", unique=True)
    return len(org_ids)


def queue_rebuild(org_id: int) -> None:
    """After a fee or rate change: the organization's figures are recomputed in the background."""
    enqueue("core.analytics.rebuild", org_id, job_id=f"analytics-rebuild-{org_id}", unique=True)


# ---------------------------------------------------------------------------- change listener
_ORDERS = "oms_tx_analytics_orders"
_RETURNS = "oms_tx_analytics_returns"
_WATCHED = (Order, OrderLine, Shipment, Return, ReturnLine, AnalyticsActualFee)


def _collect(session: Session, objects: Iterable[Any]) -> None:
    for obj in objects:
        if isinstance(obj, Order):
            oid = obj.id
        elif isinstance(obj, (OrderLine, Shipment, Return, AnalyticsActualFee)):
            oid = obj.order_id
        elif isinstance(obj, ReturnLine):
            if obj.return_id:
                session.info.setdefault(_RETURNS, set()).add(obj.return_id)
            continue
        else:
            continue
        if oid:
            session.info.setdefault(_ORDERS, set()).add(oid)


def collect_direct_rows(session: Session, _ctx, _instances) -> None:
    """Commit pipeline, before each flush, after ``models.base.insert_direct``: the rows it
    wrote (an order's new lines, say) never reach the flush's lists."""
    written = session.info.pop(DIRECT_WRITTEN, None)
    if written:
        _collect(session, written)


def collect_changed_orders(session: Session, _ctx) -> None:
    """Commit pipeline, after each flush: orders whose figures may have changed (still
    pre-flush lists here)."""
    _collect(session, chain(session.new, session.dirty, session.deleted))


_COMMITTING = "oms_tx_analytics_committing"


def _enqueue_collected(session: Session) -> None:
    order_ids = session.info.pop(_ORDERS, set())
    return_ids = session.info.pop(_RETURNS, set())
    if not order_ids and not return_ids:
        return
    with session.no_autoflush:
        if return_ids:
            order_ids |= set(session.scalars(select(Return.order_id).where(Return.id.in_(sorted(return_ids)))))
        by_org: dict[int, list[int]] = defaultdict(list)
        unknown = []
        for oid in sorted(order_ids):  # orders loaded in the session know their organization
            org_id = _loaded_organization(session, oid)
            if org_id is None:
                unknown.append(oid)
            else:
                by_org[org_id].append(oid)
        if unknown:
            for oid, org_id in session.execute(select(Order.id, Order.organization_id).where(Order.id.in_(unknown))):
                by_org[org_id].append(oid)
    for org_id, ids in sorted(by_org.items()):
        mark_dirty(session, org_id, ids)


def _loaded_organization(session: Session, order_id: int) -> int | None:
    order = session.identity_map.get(session.identity_key(Order, order_id))
    return None if order is None else order.__dict__.get("organization_id")


REFRESH_JOB = "core.analytics_jobs.refresh_pending"
#: seconds a refresh waits after the first change that queued it: the changes committed in
#: that window (a burst of webhooks, the pages of a sync) are refreshed by the same run
REFRESH_WINDOW = 5.0


def refresh_job_id(org_id: int) -> str:
    return f"analytics-refresh-{org_id}"


def mark_dirty(session: Session, org_id: int, order_ids: Iterable[int]) -> None:
    """Mark these orders for the organization's refresh (in the caller's transaction) and
    queue its one refresh job, run :data:`REFRESH_WINDOW` seconds later: a burst of
    transactions makes one queued job, not one each (nor one per transaction that commits
    after the last run: the scheduled run covers them)."""
    ids = sorted(set(order_ids))
    if not ids:
        return
    seq = time.time_ns()
    session.execute(_mark_statement(session.get_bind().dialect.name),
                    [{"organization_id": org_id, "order_id": i, "seq": seq} for i in ids])
    enqueue(REFRESH_JOB, org_id, job_id=refresh_job_id(org_id), unique=True, delay=REFRESH_WINDOW)


@cache
def _mark_statement(dialect: str) -> Any:
    """The marks' upsert, built once per dialect (every commit that changes an order runs it)."""
    stmt = (pg_insert if dialect == "postgresql" else sqlite_insert)(AnalyticsDirty)
    return stmt.on_conflict_do_update(index_elements=["organization_id", "order_id"],
                                      set_={"seq": stmt.excluded.seq})


def _ours(session: Session) -> bool:
    return has_app_context() and session is db.session()  # jobs are written through db.session


def queue_refresh(session: Session) -> None:
    """Commit pipeline, before commit (last): one refresh job per organization for the orders
    this transaction changed."""
    if not _ours(session) or session.in_nested_transaction():
        return  # a savepoint: the outer commit queues the job
    if any(isinstance(o, _WATCHED) for o in chain(session.new, session.dirty, session.deleted)):
        session.flush()  # the commit's own flush comes after this hook: collect these changes now
    _enqueue_collected(session)
    session.info[_COMMITTING] = True


def queue_late_changes(session: Session, _ctx) -> None:
    """Commit pipeline, after the commit's own flush: orders changed after ``queue_refresh``
    ran (by the flush of what the other steps wrote) still get refreshed."""
    if session.info.get(_COMMITTING) and session.info.get(_ORDERS) and _ours(session):
        _enqueue_collected(session)


def rebuild_pending(org_id: int) -> bool:
    """A rebuild of this organization's figures is queued or running."""
    from ..models import OutboxJob

    return db.session.scalar(select(func.count()).select_from(OutboxJob).where(
        OutboxJob.job_id == f"analytics-rebuild-{org_id}", OutboxJob.state.in_(["pending", "running"]))) > 0
