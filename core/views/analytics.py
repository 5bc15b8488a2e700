"""Analytics pages (what each channel, product and customer earns, returns, preparation
times, products that lose money, pricing helper, fee schedule, exchange rates) and the
returns (RMA) pages. Every table has a CSV export built from the very same rows.

The figures come from the stored facts and roll-up of ``core.analytics``; a page only sums
them. The ``oms analytics rebuild`` command is registered here, with the blueprint.
"""
from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import click
from flask import Blueprint, Flask, Response, abort, flash, redirect, render_template, request, url_for
from flask.cli import with_appcontext
from flask_babel import format_currency, format_decimal, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from .. import analytics as an
from .. import fx
from .. import orders as order_flow
from .. import returns as rma
from .. import stock as stock_flow
from ..addons import registry
from ..csvexport import writer as csv_writer
from ..extensions import db
from ..forms import DateField, DecimalField, coerce_id
from ..models import (
    AnalyticsFeeRule,
    Customer,
    FxRate,
    Order,
    OrderLine,
    Organization,
    Product,
    Return,
    ReturnLine,
    ReturnReason,
    ReturnStatus,
    Shop,
    Variant,
    Warehouse,
)
from ..inputs import parse_day, parse_id, parse_page
from ..security import safe_referrer
from ..tenancy import MANAGERS, get_owned, org_id, roles_required, scoped

bp = Blueprint("analytics", __name__)

#: rows a product or customer table shows (and exports)
LIMITS = (25, 50, 100, 500)
#: the longest period a page accepts
MAX_DAYS = 3660
#: colours of the chart series (oms.css .series-0 … .series-7)
SERIES = 8

REASON_LABELS = {ReturnReason.SIZE.value: _l("Taille"), ReturnReason.DEFECT.value: _l("Défaut"),
                 ReturnReason.NOT_AS_DESCRIBED.value: _l("Non conforme à la description"),
                 ReturnReason.CHANGED_MIND.value: _l("Changement d'avis"),
                 ReturnReason.WRONG_ITEM.value: _l("Erreur d'article")}
RETURN_STATUS_LABELS = {ReturnStatus.OPEN.value: _l("ouvert"), ReturnStatus.RECEIVED.value: _l("reçu"),
                        ReturnStatus.INSPECTED.value: _l("contrôlé"),
                        ReturnStatus.RESTOCKED.value: _l("remis en stock"),
                        ReturnStatus.WRITTEN_OFF.value: _l("mis au rebut"), ReturnStatus.CLOSED.value: _l("clos")}
OUTCOME_LABELS = {"pending": _l("en cours"), "restocked": _l("remis en stock"), "written_off": _l("mis au rebut")}


class ActionForm(FlaskForm):
    """CSRF-only form for the POST buttons."""


# ============================================================================ CLI
@bp.record_once
def _register_cli(state) -> None:
    app: Flask = state.app

    @app.cli.group("analytics")
    def analytics_group() -> None:
        """Analytics figures: rebuild the stored facts."""

    @analytics_group.command("rebuild")
    @click.option("--org", "org", type=int, default=None, help="Only this organization (id).")
    @with_appcontext
    def rebuild_command(org: int | None) -> None:
        """Recompute every order's figures (after a fee, rate or currency change)."""
        ids = [org] if org else list(db.session.scalars(select(Organization.id).order_by(Organization.id)))
        for ident in ids:
            if db.session.get(Organization, ident) is None:
                raise click.ClickException(f"no organization {ident}")
            count = an.rebuild(ident)
            db.session.commit()
            click.echo(f"organization {ident}: {count} orders")


# ============================================================================ template helpers
@bp.app_template_global()
def order_returns(order: Order) -> list[Return]:
    """The returns of an order (its page lists them)."""
    return rma.returns_of(order)


@bp.app_template_global()
def order_returnable(order: Order) -> bool:
    return any(rma.returnable_quantities(order).values())


def _channel_title(name: str) -> str:
    addon = registry().get(name)
    return addon.title if addon is not None and addon.manifest else name.replace("_", " ").capitalize()


def _money(value: Decimal | None, currency: str) -> str:
    return format_currency(value, currency) if value is not None else "—"


def _decimal(value: Decimal | None, digits: int = 1) -> str:
    if value is None:
        return "—"
    return format_decimal(value, format="#,##0." + "0" * digits if digits else "#,##0")


def _csv_number(value: Any, digits: int) -> str:
    if value is None:
        return ""
    text = f"{Decimal(value):.{digits}f}"
    return text.replace(".", ",") if str(get_locale()).startswith("fr") else text


# ============================================================================ tables (screen and CSV)
@dataclass
class Column:
    key: str
    label: str
    kind: str = "text"  # text | int | money | pct | hours


@dataclass
class Row:
    values: dict[str, Any]
    links: dict[str, str] = field(default_factory=dict)
    tone: str = ""  # "loss": a negative margin


@dataclass
class Table:
    name: str
    title: str
    columns: list[Column]
    rows: list[Row]
    currency: str
    total: Row | None = None
    note: str = ""
    empty: str = ""

    def display(self, column: Column, row: Row) -> str:
        value = row.values.get(column.key)
        if column.kind == "money":
            return _money(value, self.currency)
        if column.kind == "int":
            return format_decimal(value) if value is not None else "—"
        if column.kind == "pct":
            return f"{_decimal(value)} %" if value is not None else "—"
        if column.kind == "hours":
            return f"{_decimal(value)} h" if value is not None else "—"
        return "—" if value in (None, "") else str(value)

    def csv_cell(self, column: Column, row: Row) -> str:
        value = row.values.get(column.key)
        if column.kind == "money":
            return _csv_number(value, 2)
        if column.kind == "int":
            return "" if value is None else str(int(value))
        if column.kind in ("pct", "hours"):
            return _csv_number(value, 1)
        return "" if value is None else str(value)

    def header(self, column: Column) -> str:
        return f"{column.label} ({self.currency})" if column.kind == "money" else column.label

    def all_rows(self) -> list[Row]:
        return self.rows + ([self.total] if self.total is not None else [])


def _figure_columns(*, orders: bool = True, basket: bool = False, returns: bool = True) -> list[Column]:
    cols = []
    if orders:
        cols.append(Column("orders", _("Commandes"), "int"))
    cols.append(Column("units", _("Unités"), "int"))
    cols.append(Column("revenue", _("Chiffre d'affaires HT"), "money"))
    if basket:
        cols.append(Column("basket", _("Panier moyen"), "money"))
    cols += [Column("product_cost", _("Coût produits"), "money"), Column("fees", _("Frais canal"), "money"),
             Column("shipping", _("Transport"), "money")]
    if returns:
        cols.append(Column("returns", _("Retours"), "money"))
    cols += [Column("margin", _("Marge nette"), "money"), Column("margin_pct", _("Marge %"), "pct")]
    if returns:
        cols.append(Column("return_rate", _("Taux de retour"), "pct"))
    return cols


def _figure_values(fig: an.Figures) -> dict[str, Any]:
    return {"orders": fig.orders, "units": fig.units, "revenue": fig.revenue, "basket": fig.basket,
            "product_cost": fig.product_cost, "fees": fig.fees, "shipping": fig.shipping, "returns": fig.returns,
            "margin": fig.margin, "margin_pct": fig.margin_pct, "return_rate": fig.return_rate,
            "returned_units": fig.returned_units, "prep_hours": fig.prep_hours, "prep_orders": fig.prep_orders}


# ============================================================================ filters
@dataclass
class View:
    """The current analytics request: organization, currency, filters and lookups."""

    org_id: int
    currency: str
    f: an.Filters
    today: date
    sort: str = "revenue"
    limit: int = 50
    shops: list[Shop] = field(default_factory=list)
    warehouses: list[Warehouse] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)

    @property
    def args(self) -> dict[str, Any]:
        """The filter query of this page (links between views and to the CSV keep it)."""
        out: dict[str, Any] = {"from": self.f.date_from.isoformat(), "to": self.f.date_to.isoformat()}
        if self.f.channel:
            out["channel"] = self.f.channel
        if self.f.shop_id:
            out["shop"] = self.f.shop_id
        if self.f.warehouse_id:
            out["warehouse"] = self.f.warehouse_id
        return out

    def with_args(self, **extra: Any) -> dict[str, Any]:
        return {**self.args, **{k: v for k, v in extra.items() if v not in (None, "")}}

    def orders_url(self, *, date_from: date | None = None, date_to: date | None = None, channel: str | None = None,
                   **extra: Any) -> str:
        """The order list behind a figure: same period, channel and shop (the list has no
        warehouse filter)."""
        params: dict[str, Any] = {"from": (date_from or self.f.date_from).isoformat(),
                                  "to": (date_to or self.f.date_to).isoformat()}
        channel = channel if channel is not None else self.f.channel
        if channel:
            params["channel"] = channel
        if self.f.shop_id:
            params["shop"] = self.f.shop_id
        params.update({k: v for k, v in extra.items() if v not in (None, "")})
        return url_for("main.orders") + "?" + urlencode(params)

    def returns_url(self, **extra: Any) -> str:
        params = self.with_args(**extra)
        params.pop("warehouse", None)
        return url_for(".returns") + "?" + urlencode(params)

    def shop_name(self, shop_id: int | None) -> str:
        return next((s.name for s in self.shops if s.id == shop_id), "—")

    def warehouse_name(self, warehouse_id: int | None) -> str:
        if warehouse_id is None:
            return _("Sans entrepôt (expédiée par le canal ou non expédiée)")
        return next((w.name for w in self.warehouses if w.id == warehouse_id), f"#{warehouse_id}")


def _org() -> Organization:
    return current_user.organization


def _parse_day(value: str | None) -> date | None:
    return parse_day(value)


def _view(sorts: tuple[str, ...] = ("revenue",)) -> View:
    org = _org()
    today = datetime.now(an.org_zone(org)).date()
    args = request.args
    date_to = _parse_day(args.get("to")) or today
    date_from = _parse_day(args.get("from")) or date_to - timedelta(days=29)
    if date_from > date_to:
        date_from, date_to = date_to, date_from
    if (date_to - date_from).days >= MAX_DAYS:
        date_from = date_to - timedelta(days=MAX_DAYS - 1)
    shops = list(db.session.scalars(scoped(Shop).order_by(Shop.name)))
    warehouses = list(db.session.scalars(scoped(Warehouse).order_by(Warehouse.priority, Warehouse.name)))
    channel = args.get("channel", "").strip()
    channels = sorted({s.addon for s in shops})
    shop_id = args.get("shop", type=parse_id)
    warehouse_id = args.get("warehouse", type=parse_id)
    f = an.Filters(date_from=date_from, date_to=date_to, channel=channel if channel in channels else "",
                   shop_id=shop_id if any(s.id == shop_id for s in shops) else None,
                   warehouse_id=warehouse_id if any(w.id == warehouse_id for w in warehouses) else None)
    sort = args.get("sort", sorts[0])
    limit = args.get("limit", type=int)
    return View(org_id=org.id, currency=org.currency, f=f, today=today, sort=sort if sort in sorts else sorts[0],
                limit=limit if limit in LIMITS else 50, shops=shops, warehouses=warehouses, channels=channels)


def _presets(view: View) -> list[tuple[str, dict[str, Any]]]:
    """Quick periods, each a filter query ending today."""
    out = []
    for label, days in ((_("7 jours"), 7), (_("30 jours"), 30), (_("90 jours"), 90), (_("12 mois"), 365)):
        out.append((label, {**view.args, "from": (view.today - timedelta(days=days - 1)).isoformat(),
                            "to": view.today.isoformat()}))
    return out


# ============================================================================ charts (inline SVG)
@dataclass
class HBar:
    label: str
    display: str
    x: float
    width: float
    y: float
    negative: bool
    href: str | None
    series: int = 0


@dataclass
class HBarChart:
    title: str
    bars: list[HBar]
    zero_x: float
    width: int = 720
    label_width: int = 190
    row: int = 30

    @property
    def height(self) -> int:
        return self.row * max(len(self.bars), 1) + 10


def hbar_chart(title: str, items: list[tuple[str, Decimal, str, str | None]], *,
               series: list[int] | None = None, width: int = 1160) -> HBarChart:
    """Horizontal bars around a zero line: ``items`` are (label, value, shown value, link).
    ``width`` is the drawing's width in pixels at full size: 1160 for a chart across the
    page, 720 for one of a pair."""
    label_w, value_w = (240, 130) if width > 900 else (190, 110)
    plot_x0, plot_x1 = label_w + 10, width - value_w
    values = [Decimal(v) for _l, v, _d, _h in items]
    low, high = min([Decimal(0), *values]), max([Decimal(0), *values])
    span = (high - low) or Decimal(1)
    scale = (plot_x1 - plot_x0) / float(span)
    zero_x = plot_x0 + float(-low) * scale
    bars = []
    for i, (label, value, shown, href) in enumerate(items):
        w = abs(float(value)) * scale
        x = zero_x - w if value < 0 else zero_x
        bars.append(HBar(label=label, display=shown, x=round(x, 1), width=round(max(w, 1.0), 1), y=5 + i * 30,
                         negative=value < 0, href=href, series=(series[i] if series else 0) % SERIES))
    return HBarChart(title=title, bars=bars, zero_x=round(zero_x, 1), width=width, label_width=label_w)


@dataclass
class Segment:
    x: float
    y: float
    width: float
    height: float
    series: int
    title: str
    href: str


@dataclass
class Tick:
    pos: float
    label: str


@dataclass
class TimeChart:
    """Orders per channel (stacked columns) and revenue per channel (lines) over time."""

    segments: list[Segment]
    lines: list[tuple[int, str, str]]  # (series, channel title, "x,y x,y …")
    points: list[tuple[int, float, float, str, str]]  # (series, x, y, title, link)
    x_ticks: list[Tick]
    orders_ticks: list[Tick]
    revenue_ticks: list[Tick]
    legend: list[tuple[int, str]]
    width: int = 720
    height: int = 200
    left: int = 64
    bottom: int = 24


def _nice(value: float) -> float:
    if value <= 0:
        return 1.0
    power = 10 ** (len(str(int(value))) - 1)
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * power:
            return step * power
    return 10.0 * power


def time_chart(view: View, buckets: list[date], unit: str, data: dict[tuple[date, str], tuple[int, Decimal]],
               channels: list[str]) -> TimeChart:
    width, height, left, right, top, bottom = 720, 200, 64, 12, 8, 24
    plot_w, plot_h = width - left - right, height - top - bottom
    n = max(len(buckets), 1)
    slot = plot_w / n
    bar_w = max(slot * 0.7, 1.0)
    max_orders = _nice(max((sum(data.get((b, c), (0, 0))[0] for c in channels) for b in buckets), default=0))
    max_revenue = _nice(float(max((data.get((b, c), (0, Decimal(0)))[1] for b in buckets for c in channels),
                                  default=Decimal(0))))
    series = {c: i % SERIES for i, c in enumerate(channels)}
    segments: list[Segment] = []
    points: list[tuple[int, float, float, str, str]] = []
    polylines: dict[str, list[str]] = {c: [] for c in channels}
    for i, b in enumerate(buckets):
        end = _bucket_end(b, unit)
        base = top + plot_h
        label = _bucket_label(b, unit)
        for c in channels:
            orders, revenue = data.get((b, c), (0, Decimal(0)))
            link = view.orders_url(date_from=max(b, view.f.date_from), date_to=min(end, view.f.date_to), channel=c)
            if orders:
                h = plot_h * orders / max_orders
                base -= h
                segments.append(Segment(x=round(left + i * slot + (slot - bar_w) / 2, 1), y=round(base, 1),
                                        width=round(bar_w, 1), height=round(max(h, 0.5), 1), series=series[c],
                                        title=f"{label} · {_channel_title(c)} : {format_decimal(orders)}",
                                        href=link))
            x = round(left + i * slot + slot / 2, 1)
            y = round(top + plot_h - plot_h * float(revenue) / max_revenue, 1)
            polylines[c].append(f"{x},{y}")
            points.append((series[c], x, y, f"{label} · {_channel_title(c)} : {_money(revenue, view.currency)}", link))
    every = max(1, -(-n // 8))
    x_ticks = [Tick(round(left + i * slot + slot / 2, 1), _bucket_label(b, unit))
               for i, b in enumerate(buckets) if i % every == 0]
    orders_ticks = [Tick(round(top + plot_h - plot_h * k / 2, 1),
                         format_decimal(Decimal(str(max_orders * k / 2)), format="#,##0.#")) for k in (0, 1, 2)]
    revenue_ticks = [Tick(round(top + plot_h - plot_h * k / 2, 1),
                          format_decimal(Decimal(str(max_revenue * k / 2)), format="#,##0.#"))
                     for k in (0, 1, 2)]
    return TimeChart(segments=segments, lines=[(series[c], _channel_title(c), " ".join(polylines[c]))
                                               for c in channels],
                     points=points, x_ticks=x_ticks, orders_ticks=orders_ticks, revenue_ticks=revenue_ticks,
                     legend=[(series[c], _channel_title(c)) for c in channels])


def _bucket_end(start: date, unit: str) -> date:
    if unit == "week":
        return start + timedelta(days=6)
    if unit == "month":
        nxt = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
        return nxt - timedelta(days=1)
    return start


def _bucket_label(start: date, unit: str) -> str:
    from flask_babel import format_date

    if unit == "month":
        return format_date(start, "MMM yyyy")
    return format_date(start, "d MMM")


def _buckets(f: an.Filters, unit: str) -> list[date]:
    out, current = [], an.bucket_of(f.date_from, unit)
    while current <= f.date_to:
        out.append(current)
        current = _bucket_end(current, unit) + timedelta(days=1)
    return out


# ============================================================================ table builders
def _channel_table(view: View, rows: list[tuple[str, an.Figures]], total: an.Figures) -> Table:
    table = Table(name="canaux", title=_("Par canal de vente"), currency=view.currency,
                  columns=[Column("channel", _("Canal"))] + _figure_columns(basket=True), rows=[],
                  empty=_("Aucune vente sur la période."))
    for channel, fig in rows:
        link = view.orders_url(channel=channel)
        table.rows.append(Row({"channel": _channel_title(channel), **_figure_values(fig)},
                              links={"channel": link, "orders": link}, tone="loss" if fig.margin < 0 else ""))
    if rows:
        table.total = Row({"channel": _("Total"), **_figure_values(total)}, links={"orders": view.orders_url()})
    return table


def _timeline_table(view: View, buckets: list[date], unit: str,
                    data: dict[tuple[date, str], tuple[int, Decimal]], channels: list[str]) -> Table:
    table = Table(name="evolution", title=_("Commandes et chiffre d'affaires par période"), currency=view.currency,
                  columns=[Column("period", _("Période")), Column("channel", _("Canal")),
                           Column("orders", _("Commandes"), "int"), Column("revenue", _("Chiffre d'affaires HT"), "money")],
                  rows=[], empty=_("Aucune vente sur la période."))
    for b in buckets:
        for c in channels:
            if (b, c) not in data:
                continue
            orders, revenue = data[(b, c)]
            link = view.orders_url(date_from=max(b, view.f.date_from), date_to=min(_bucket_end(b, unit), view.f.date_to),
                                   channel=c)
            table.rows.append(Row({"period": _bucket_label(b, unit), "channel": _channel_title(c), "orders": orders,
                                   "revenue": revenue}, links={"period": link, "orders": link}))
    return table


def _labels_for_variants(org: int, ids: list[int]) -> dict[int, tuple[str, str]]:
    """(SKU, title) of these variants."""
    if not ids:
        return {}
    rows = db.session.execute(select(Variant.id, Variant.sku, Variant.title, Product.title)
                              .join(Product, Product.id == Variant.product_id)
                              .where(Variant.organization_id == org, Variant.id.in_(ids)))
    return {vid: (sku, ptitle + (f" — {vtitle}" if vtitle and vtitle != ptitle else "")) for vid, sku, vtitle, ptitle in rows}


def _product_table(view: View) -> Table:
    rows = an.by_product(view.org_id, view.currency, view.f, sort=view.sort, limit=view.limit)
    labels = _labels_for_variants(view.org_id, [vid for vid, _f in rows if vid is not None])
    table = Table(name="produits", title=_("Par produit"), currency=view.currency,
                  columns=[Column("sku", _("SKU")), Column("title", _("Produit"))] + _figure_columns(orders=False),
                  rows=[], empty=_("Aucune vente sur la période."))
    for vid, fig in rows:
        sku, title = labels.get(vid, ("—", _("Article hors catalogue")))
        link = view.orders_url(q=sku) if vid is not None else view.orders_url()
        table.rows.append(Row({"sku": sku, "title": title, **_figure_values(fig)},
                              links={"sku": link, "units": link}, tone="loss" if fig.margin < 0 else ""))
    return table


def _customer_table(view: View) -> Table:
    rows = an.by_customer(view.org_id, view.currency, view.f, sort=view.sort, limit=view.limit)
    ids = [cid for cid, _f in rows if cid is not None]
    people = {c.id: c for c in db.session.scalars(scoped(Customer).where(Customer.id.in_(ids)))} if ids else {}
    table = Table(name="clients", title=_("Par client"), currency=view.currency,
                  columns=[Column("customer", _("Client")), Column("email", _("E-mail"))] + _figure_columns(basket=True),
                  rows=[], empty=_("Aucune vente sur la période."))
    for cid, fig in rows:
        person = people.get(cid)
        name = (person.name or person.email or f"#{cid}") if person else _("Sans fiche client")
        email = person.email if person and person.email else ""
        links = {}
        if email:
            links = {"customer": view.orders_url(q=email), "orders": view.orders_url(q=email)}
        table.rows.append(Row({"customer": name, "email": email, **_figure_values(fig)}, links=links,
                              tone="loss" if fig.margin < 0 else ""))
    return table


def _returns_channel_table(view: View) -> Table:
    table = Table(name="retours-canaux", title=_("Taux de retour par canal"), currency=view.currency,
                  columns=[Column("channel", _("Canal")), Column("units", _("Unités vendues"), "int"),
                           Column("returned_units", _("Unités retournées"), "int"),
                           Column("return_rate", _("Taux de retour"), "pct"),
                           Column("returns", _("Coût des retours"), "money")],
                  rows=[], empty=_("Aucune vente sur la période."))
    for channel, fig in an.by_channel(view.org_id, view.currency, view.f):
        table.rows.append(Row({"channel": _channel_title(channel), **_figure_values(fig)},
                              links={"channel": view.returns_url(channel=channel),
                                     "returned_units": view.returns_url(channel=channel)}))
    return table


def _returns_reason_table(view: View, total_units: int) -> Table:
    table = Table(name="retours-motifs", title=_("Retours par motif"), currency=view.currency,
                  columns=[Column("reason", _("Motif")), Column("returns_count", _("Retours"), "int"),
                           Column("returned_units", _("Unités retournées"), "int"),
                           Column("return_rate", _("Part des unités vendues"), "pct"),
                           Column("returns", _("Coût des retours"), "money")],
                  rows=[], empty=_("Aucun retour sur la période."))
    for reason, count, units, value in an.returns_by_reason(view.org_id, view.currency, view.f):
        rate = (Decimal(units) * 100 / total_units).quantize(Decimal("0.1")) if total_units else None
        link = view.returns_url(reason=reason)
        table.rows.append(Row({"reason": str(REASON_LABELS.get(reason, reason)), "returns_count": count,
                               "returned_units": units, "return_rate": rate, "returns": value},
                              links={"reason": link, "returns_count": link}))
    return table


def _returns_product_table(view: View) -> Table:
    rows = an.returns_by_product(view.org_id, view.currency, view.f, limit=view.limit)
    labels = _labels_for_variants(view.org_id, [vid for vid, _f in rows if vid is not None])
    table = Table(name="retours-produits", title=_("Taux de retour par produit"), currency=view.currency,
                  columns=[Column("sku", _("SKU")), Column("title", _("Produit")),
                           Column("units", _("Unités vendues"), "int"),
                           Column("returned_units", _("Unités retournées"), "int"),
                           Column("return_rate", _("Taux de retour"), "pct"),
                           Column("returns", _("Coût des retours"), "money")],
                  rows=[], empty=_("Aucun retour sur la période."))
    for vid, fig in rows:
        sku, title = labels.get(vid, ("—", _("Article hors catalogue")))
        link = view.returns_url(q=sku) if vid is not None else view.returns_url()
        table.rows.append(Row({"sku": sku, "title": title, **_figure_values(fig)},
                              links={"sku": link, "returned_units": link}))
    return table


def _preparation_table(view: View) -> Table:
    table = Table(name="preparation", title=_("Temps de préparation par entrepôt"), currency=view.currency,
                  columns=[Column("warehouse", _("Entrepôt")), Column("orders", _("Commandes"), "int"),
                           Column("prep_orders", _("Commandes mesurées"), "int"),
                           Column("prep_hours", _("Temps moyen"), "hours")],
                  rows=[], note=_("Du premier article prélevé au premier colis expédié. Une commande compte pour "
                                  "l'entrepôt qui a expédié son premier colis."),
                  empty=_("Aucune commande sur la période."))
    for warehouse_id, fig in an.by_warehouse(view.org_id, view.currency, view.f):
        link = view.orders_url()
        table.rows.append(Row({"warehouse": view.warehouse_name(warehouse_id), **_figure_values(fig)},
                              links={"orders": link}))
    return table


def _action_text(loser: an.Loser, currency: str) -> str:
    channel = _channel_title(loser.channel)
    if loser.action == "price":
        return _("Augmenter le prix de %(amount)s HT sur %(channel)s", amount=_money(loser.amount, currency),
                 channel=channel)
    if loser.action == "delist":
        return _("Retirer de %(channel)s (rentable sur %(others)s)", channel=channel,
                 others=", ".join(_channel_title(c) for c in loser.elsewhere))
    if loser.action == "returns":
        return _("Réduire les retours (%(rate)s %% des unités) : fiche produit, guide des tailles",
                 rate=_decimal(loser.figures.return_rate))
    return _("Revoir le coût d'achat")


def _loser_table(view: View) -> Table:
    rows = an.losers(view.org_id, view.currency, view.f, limit=view.limit)
    labels = _labels_for_variants(view.org_id, sorted({r.variant_id for r in rows if r.variant_id is not None}))
    table = Table(name="non-rentables", title=_("Produits non rentables"), currency=view.currency,
                  columns=[Column("sku", _("SKU")), Column("title", _("Produit")), Column("channel", _("Canal")),
                           Column("action", _("Action suggérée")), Column("margin", _("Marge nette"), "money"),
                           Column("units", _("Unités"), "int"), Column("revenue", _("Chiffre d'affaires HT"), "money"),
                           Column("product_cost", _("Coût produits"), "money"), Column("fees", _("Frais canal"), "money"),
                           Column("shipping", _("Transport"), "money"), Column("returns", _("Retours"), "money")],
                  rows=[], empty=_("Aucun produit ne perd d'argent sur la période."))
    for loser in rows:
        sku, title = labels.get(loser.variant_id, ("—", _("Article hors catalogue")))
        link = view.orders_url(q=sku, channel=loser.channel) if loser.variant_id is not None else view.orders_url(
            channel=loser.channel)
        table.rows.append(Row({"sku": sku, "title": title, "channel": _channel_title(loser.channel),
                               **_figure_values(loser.figures), "action": _action_text(loser, view.currency)},
                              links={"sku": link, "units": link}, tone="loss"))
    return table


# ============================================================================ pages
def _nav(view: View, current: str) -> dict[str, Any]:
    return {"view": view, "current": current, "presets": _presets(view), "channel_title": _channel_title,
            "rebuilding": an.rebuild_pending(view.org_id)}


def _series_of(channels: list[str]) -> dict[str, int]:
    return {c: i % SERIES for i, c in enumerate(channels)}


@bp.route("/analytics/")
@roles_required(*MANAGERS)
def dashboard():
    view = _view()
    total = an.overview(view.org_id, view.currency, view.f)
    channels = an.by_channel(view.org_id, view.currency, view.f)
    unit = an.bucket_unit(view.f)
    buckets = _buckets(view.f, unit)
    data: dict[tuple[date, str], tuple[int, Decimal]] = {}
    for day, channel, orders, revenue in an.timeline(view.org_id, view.f):
        key = (an.bucket_of(day, unit), channel)
        o, r = data.get(key, (0, Decimal(0)))
        data[key] = (o + orders, r + revenue)
    names = sorted({c for _b, c in data} | {c for c, _f in channels})
    series = _series_of(names)
    margin_chart = hbar_chart(_("Marge nette par canal"),
                              [(_channel_title(c), fig.margin, _money(fig.margin, view.currency), view.orders_url(channel=c))
                               for c, fig in channels], series=[series[c] for c, _f in channels])
    return render_template(
        "analytics/dashboard.html", total=total, unit=unit,
        chart=time_chart(view, buckets, unit, data, names) if data else None, margin_chart=margin_chart,
        channels=[(c, fig, series[c]) for c, fig in channels],
        tables=[_channel_table(view, channels, total), _timeline_table(view, buckets, unit, data, names)],
        **_nav(view, "dashboard"))


def _ranking_page(view: View, table, key: str, chart_title: str, title: str, sorts: list[tuple[str, str]],
                  intro: str, tab: str):
    """A page of rows ranked by the merchant's sort (products, customers), the first ten
    rows' net margins charted above their table."""
    chart = hbar_chart(chart_title, [(r.values[key], r.values["margin"], _money(r.values["margin"], view.currency),
                                      r.links.get(key)) for r in table.rows[:10]])
    return render_template("analytics/table_page.html", title=title, chart=chart, tables=[table], sorts=sorts,
                           intro=intro, **_nav(view, tab))


@bp.route("/analytics/products")
@roles_required(*MANAGERS)
def products():
    view = _view(("revenue", "margin", "loss", "units"))
    return _ranking_page(view, _product_table(view), "sku", _("Marge nette des produits affichés (10 premiers)"),
                         _("Produits"), [("revenue", _("Chiffre d'affaires")), ("margin", _("Marge la plus forte")),
                                         ("loss", _("Marge la plus faible")), ("units", _("Unités"))],
                         _("Chiffre d'affaires, coûts et marge nette de chaque SKU sur la période."), "products")


@bp.route("/analytics/customers")
@roles_required(*MANAGERS)
def customers():
    view = _view(("revenue", "margin", "loss", "orders"))
    return _ranking_page(view, _customer_table(view), "customer", _("Marge nette des clients affichés (10 premiers)"),
                         _("Clients"), [("revenue", _("Chiffre d'affaires")), ("margin", _("Marge la plus forte")),
                                        ("loss", _("Marge la plus faible")), ("orders", _("Commandes"))],
                         _("Ce que chaque client vous rapporte, retours et frais déduits."), "customers")


@bp.route("/analytics/returns")
@roles_required(*MANAGERS)
def returns_view():
    view = _view()
    total = an.overview(view.org_id, view.currency, view.f)
    by_channel = _returns_channel_table(view)
    by_reason = _returns_reason_table(view, total.units)
    by_product = _returns_product_table(view)
    chart = hbar_chart(_("Taux de retour par canal (%)"),
                       [(r.values["channel"], r.values["return_rate"] or Decimal(0),
                         f"{_decimal(r.values['return_rate'])} %", r.links.get("channel")) for r in by_channel.rows], width=720)
    reasons_chart = hbar_chart(_("Unités retournées par motif"),
                               [(r.values["reason"], Decimal(r.values["returned_units"]),
                                 format_decimal(r.values["returned_units"]), r.links.get("reason"))
                                for r in by_reason.rows], series=[3] * len(by_reason.rows), width=720)
    return render_template("analytics/table_page.html", title=_("Retours"), chart=chart, chart2=reasons_chart,
                           tables=[by_channel, by_reason, by_product], total=total,
                           intro=_("Les retours sont rattachés à la date de leur commande : taux = unités retournées "
                                   "÷ unités vendues sur la période."), **_nav(view, "returns"))


@bp.route("/analytics/preparation")
@roles_required(*MANAGERS)
def preparation():
    view = _view()
    table = _preparation_table(view)
    chart = hbar_chart(_("Temps moyen de préparation (heures)"),
                       [(r.values["warehouse"], r.values["prep_hours"], f"{_decimal(r.values['prep_hours'])} h",
                         r.links.get("orders")) for r in table.rows if r.values["prep_hours"] is not None],
                       series=[1] * len(table.rows))
    return render_template("analytics/table_page.html", title=_("Préparation"), chart=chart, tables=[table],
                           intro=table.note, **_nav(view, "preparation"))


@bp.route("/analytics/losers")
@roles_required(*MANAGERS)
def losers():
    view = _view()
    table = _loser_table(view)
    chart = hbar_chart(_("Pertes par produit et canal"),
                       [(f"{r.values['sku']} · {r.values['channel']}", r.values["margin"],
                         _money(r.values["margin"], view.currency), r.links.get("sku")) for r in table.rows[:10]])
    return render_template("analytics/table_page.html", title=_("Produits non rentables"), chart=chart, tables=[table],
                           intro=_("Les couples produit × canal dont la marge nette est négative, du pire au moins "
                                   "mauvais, avec l'action qui la rendrait positive."), **_nav(view, "losers"))


_TABLES: dict[str, Callable[[View], Table]] = {
    "produits": _product_table,
    "clients": _customer_table,
    "retours-canaux": _returns_channel_table,
    "retours-produits": _returns_product_table,
    "preparation": _preparation_table,
    "non-rentables": _loser_table,
}
_SORTS = {"produits": ("revenue", "margin", "loss", "units"), "clients": ("revenue", "margin", "loss", "orders")}


@bp.route("/analytics/export/<name>.csv")
@roles_required(*MANAGERS)
def export(name: str):
    """A table of a page as CSV: the same rows and figures as on screen (same filters)."""
    view = _view(_SORTS.get(name, ("revenue",)))
    if name in _TABLES:
        table = _TABLES[name](view)
    elif name == "canaux":
        table = _channel_table(view, an.by_channel(view.org_id, view.currency, view.f),
                               an.overview(view.org_id, view.currency, view.f))
    elif name == "retours-motifs":
        table = _returns_reason_table(view, an.overview(view.org_id, view.currency, view.f).units)
    elif name == "evolution":
        unit = an.bucket_unit(view.f)
        data: dict[tuple[date, str], tuple[int, Decimal]] = {}
        for day, channel, orders, revenue in an.timeline(view.org_id, view.f):
            key = (an.bucket_of(day, unit), channel)
            o, r = data.get(key, (0, Decimal(0)))
            data[key] = (o + orders, r + revenue)
        table = _timeline_table(view, _buckets(view.f, unit), unit, data, sorted({c for _b, c in data}))
    else:
        abort(404)
    return csv_response(table, f"{table.name}-{view.f.date_from.isoformat()}-{view.f.date_to.isoformat()}.csv")


def csv_response(table: Table, filename: str) -> Response:
    separator = ";" if str(get_locale()).startswith("fr") else ","
    buffer = io.StringIO()
    writer = csv_writer(buffer, delimiter=separator, lineterminator="\r\n")
    writer.writerow([table.header(c) for c in table.columns])
    for row in table.all_rows():
        writer.writerow([table.csv_cell(c, row) for c in table.columns])
    return Response("\ufeff" + buffer.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.route("/analytics/rebuild", methods=["POST"])
@roles_required(*MANAGERS)
def rebuild():
    if not ActionForm().validate_on_submit():
        abort(400)
    an.queue_rebuild(org_id())
    db.session.commit()
    flash(_("Recalcul de tous vos chiffres programmé : ils seront à jour dans quelques instants."), "success")
    return redirect(safe_referrer(url_for(".dashboard")))


# ============================================================================ pricing helper
class CommaDecimalField(DecimalField):
    """A decimal typed the French way (12,5) or the English way (12.5)."""

    def process_formdata(self, valuelist: list[str]) -> None:
        if valuelist:
            valuelist = [v.replace(" ", "").replace("\u202f", "").replace(",", ".") for v in valuelist]
        super().process_formdata(valuelist)


class PricingForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form that changes nothing

    sku = StringField(_l("SKU (facultatif)"), validators=[Optional(), Length(max=64)],
                      description=_l("Reprend son coût d'achat et ses étiquettes."))
    cost = CommaDecimalField(_l("Coût d'achat unitaire"), validators=[Optional(), NumberRange(min=0)])
    shipping = CommaDecimalField(_l("Coût de transport par commande"), default=Decimal("0"),
                                 validators=[Optional(), NumberRange(min=0)])
    category = StringField(_l("Catégorie (étiquette produit)"), validators=[Optional(), Length(max=64)])
    margin_pct = CommaDecimalField(_l("Marge nette visée, en pourcentage du prix HT"), default=Decimal("20"),
                                   validators=[Optional(), NumberRange(min=-100, max=99)])
    vat_pct = CommaDecimalField(_l("TVA (%)"), default=Decimal("20"), validators=[Optional(), NumberRange(min=0, max=100)],
                                description=_l("0 si vous vendez hors taxe."))
    price = CommaDecimalField(_l("Prix de vente TTC à tester (facultatif)"), validators=[Optional(), NumberRange(min=0)])


@bp.route("/analytics/pricing")
@roles_required(*MANAGERS)
def pricing():
    org = _org()
    form = PricingForm(request.args)
    variant = None
    tags: list[str] = []
    if form.sku.data:
        variant = db.session.scalar(scoped(Variant).where(Variant.sku == form.sku.data.strip()))
        if variant is None:
            form.sku.errors = [_("Aucun produit de votre catalogue n'a ce SKU.")]
        else:
            tags = list(variant.product.tags or [])
            if form.cost.data is None and variant.cost_price is not None:
                form.cost.data = Decimal(variant.cost_price).quantize(Decimal("0.01"))
            if not form.category.data and tags:
                form.category.data = tags[0]
    if form.category.data:
        tags = [form.category.data.strip()] + [t for t in tags if t != form.category.data.strip()]
    quotes: list[an.PriceQuote] = []
    asked = bool(request.args) and form.validate() and form.cost.data is not None
    if asked:
        quotes = an.quotes(org.id, org.currency, cost=form.cost.data, shipping=form.shipping.data or Decimal(0),
                           margin_pct=form.margin_pct.data if form.margin_pct.data is not None else Decimal(20),
                           vat_pct=form.vat_pct.data if form.vat_pct.data is not None else Decimal(20), tags=tags,
                           price=form.price.data)
        db.session.commit()  # the default fee rules, when just created
    return render_template("analytics/pricing.html", form=form, quotes=quotes, asked=asked, variant=variant,
                           currency=org.currency, channel_title=_channel_title)


# ============================================================================ fee schedule
class FeeRuleForm(FlaskForm):
    channel = SelectField(_l("Canal"), validators=[DataRequired()])
    category = StringField(_l("Catégorie"), default=an.ANY_CATEGORY, validators=[DataRequired(), Length(max=64)],
                           description=_l("Une étiquette de produit (par exemple livres), ou * pour tous les produits."))
    commission_pct = CommaDecimalField(_l("Commission (%)"), default=Decimal("0"),
                                       validators=[InputRequired(), NumberRange(min=0, max=100)])
    payment_pct = CommaDecimalField(_l("Frais de paiement (%)"), default=Decimal("0"),
                                    validators=[InputRequired(), NumberRange(min=0, max=100)])
    fixed_per_order = CommaDecimalField(_l("Frais fixes par commande"), default=Decimal("0"),
                                        validators=[InputRequired(), NumberRange(min=0)],
                                        description=_l("Lus sur la règle « * » du canal."))
    payment_fixed = CommaDecimalField(_l("Frais de paiement fixes par commande"), default=Decimal("0"),
                                      validators=[InputRequired(), NumberRange(min=0)],
                                      description=_l("Lus sur la règle « * » du canal."))
    currency = StringField(_l("Devise des frais fixes"), default="EUR",
                           validators=[DataRequired(), Regexp(r"^[A-Za-z]{3}$", message=_l("Trois lettres, par exemple EUR."))])
    source = TextAreaField(_l("Source ou remarque"), validators=[Optional(), Length(max=1000)])


def _fee_form(rule: AnalyticsFeeRule | None = None) -> FeeRuleForm:
    org = _org()
    data = None
    if rule is not None and request.method != "POST":
        data = {"channel": rule.channel, "category": rule.category, "commission_pct": rule.commission_pct,
                "payment_pct": rule.payment_pct, "fixed_per_order": rule.fixed_per_order,
                "payment_fixed": rule.payment_fixed, "currency": rule.currency, "source": rule.source}
    elif request.method != "POST":
        data = {"currency": org.currency, "channel": request.args.get("channel", "")}
    form = FeeRuleForm(data=data) if data else FeeRuleForm()
    names = set(an.channels_in_use(org.id)) | {name for name in an.fee_defaults() if name != an.ANY_CATEGORY}
    names |= set(db.session.scalars(select(AnalyticsFeeRule.channel).where(AnalyticsFeeRule.organization_id == org.id)))
    if rule is not None:
        names.add(rule.channel)
    form.channel.choices = sorted(((n, _channel_title(n)) for n in names), key=lambda c: c[1].lower())
    return form


@bp.route("/analytics/fees")
@roles_required(*MANAGERS)
def fees():
    org = _org()
    if an.ensure_default_fees(org.id):
        db.session.commit()
    rules = list(db.session.scalars(scoped(AnalyticsFeeRule).order_by(AnalyticsFeeRule.channel,
                                                                       AnalyticsFeeRule.category != an.ANY_CATEGORY,
                                                                       AnalyticsFeeRule.category)))
    in_use = set(an.channels_in_use(org.id))
    return render_template("analytics/fees.html", rules=rules, in_use=in_use, channel_title=_channel_title,
                           action=ActionForm(), defaults=an.fee_defaults())


def _save_rule(rule: AnalyticsFeeRule, form: FeeRuleForm) -> None:
    rule.channel = form.channel.data
    rule.category = form.category.data.strip()
    rule.commission_pct = form.commission_pct.data
    rule.payment_pct = form.payment_pct.data
    rule.fixed_per_order = form.fixed_per_order.data
    rule.payment_fixed = form.payment_fixed.data
    rule.currency = form.currency.data.strip().upper()
    rule.source = (form.source.data or "").strip()
    rule.is_default = False


def _duplicate_rule(form: FeeRuleForm, rule: AnalyticsFeeRule | None) -> bool:
    other = db.session.scalar(scoped(AnalyticsFeeRule).where(AnalyticsFeeRule.channel == form.channel.data,
                                                             AnalyticsFeeRule.category == form.category.data.strip()))
    return other is not None and (rule is None or other.id != rule.id)


@bp.route("/analytics/fees/new", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def fee_new():
    form = _fee_form()
    if form.validate_on_submit():
        if _duplicate_rule(form, None):
            form.category.errors.append(_("Une règle existe déjà pour ce canal et cette catégorie."))
        else:
            rule = AnalyticsFeeRule(organization_id=org_id())
            _save_rule(rule, form)
            db.session.add(rule)
            an.queue_rebuild(org_id())
            db.session.commit()
            flash(_("Règle de frais enregistrée : vos marges sont recalculées."), "success")
            return redirect(url_for(".fees"))
    return render_template("analytics/form.html", form=form, title=_("Nouvelle règle de frais"),
                           back=url_for(".fees"), back_label=_("Frais des canaux"))


@bp.route("/analytics/fees/<rule_id>", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def fee_edit(rule_id: str):
    rule = get_owned(AnalyticsFeeRule, rule_id)
    form = _fee_form(rule)
    if form.validate_on_submit():
        if _duplicate_rule(form, rule):
            form.category.errors.append(_("Une règle existe déjà pour ce canal et cette catégorie."))
        else:
            _save_rule(rule, form)
            an.queue_rebuild(org_id())
            db.session.commit()
            flash(_("Règle de frais enregistrée : vos marges sont recalculées."), "success")
            return redirect(url_for(".fees"))
    return render_template("analytics/form.html", form=form, title=_("Règle de frais"), back=url_for(".fees"),
                           back_label=_("Frais des canaux"), intro=rule.source if rule.is_default else "")


@bp.route("/analytics/fees/<rule_id>/delete", methods=["POST"])
@roles_required(*MANAGERS)
def fee_delete(rule_id: str):
    rule = get_owned(AnalyticsFeeRule, rule_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    db.session.delete(rule)
    an.queue_rebuild(org_id())
    db.session.commit()
    flash(_("Règle supprimée : vos marges sont recalculées."), "success")
    return redirect(url_for(".fees"))


# ============================================================================ exchange rates
class RateForm(FlaskForm):
    currency = StringField(_l("Devise"), validators=[DataRequired(), Regexp(r"^[A-Za-z]{3}$",
                                                                            message=_l("Trois lettres, par exemple GBP."))])
    day = DateField(_l("Date"), validators=[DataRequired()])
    rate = CommaDecimalField(_l("Taux : 1 EUR ="), places=6, validators=[InputRequired(), NumberRange(min=Decimal("0.000001"))],
                             description=_l("Unités de la devise pour un euro, comme les publie la BCE."))
    source = StringField(_l("Source"), default=fx.SOURCE_ECB, validators=[Optional(), Length(max=200)])

    def validate_currency(self, field: StringField) -> None:
        from wtforms import ValidationError

        if field.data.strip().upper() == fx.BASE:
            raise ValidationError(_("L'euro est la devise de référence : 1 EUR = 1 EUR."))


@bp.route("/analytics/rates")
@roles_required(*MANAGERS)
def rates():
    org = _org()
    if fx.ensure_seed(org.id):
        db.session.commit()
    rows = list(db.session.scalars(scoped(FxRate).order_by(FxRate.currency, FxRate.day.desc())))
    used = sorted(set(db.session.scalars(select(Order.currency).where(Order.organization_id == org.id).distinct())))
    latest = fx.latest_rates(org.id)
    missing = [c for c in used if c != fx.BASE and c not in latest]
    return render_template("analytics/rates.html", rows=rows, latest=latest, used=used, missing=missing,
                           action=ActionForm(), org_currency=org.currency, seed_source=fx.SEED_SOURCE)


def _save_rate(row: FxRate, form: RateForm) -> None:
    row.currency = form.currency.data.strip().upper()
    row.day = form.day.data
    row.rate = form.rate.data
    row.source = (form.source.data or "").strip()


def _duplicate_rate(form: RateForm, row: FxRate | None) -> bool:
    other = db.session.scalar(scoped(FxRate).where(FxRate.currency == form.currency.data.strip().upper(),
                                                   FxRate.day == form.day.data))
    return other is not None and (row is None or other.id != row.id)


@bp.route("/analytics/rates/new", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def rate_new():
    form = RateForm() if request.method == "POST" else RateForm(
        data={"currency": request.args.get("currency", ""), "day": date.today(), "source": fx.SOURCE_ECB})
    if form.validate_on_submit():
        if _duplicate_rate(form, None):
            form.day.errors.append(_("Un taux existe déjà pour cette devise à cette date."))
        else:
            row = FxRate(organization_id=org_id())
            _save_rate(row, form)
            db.session.add(row)
            an.queue_rebuild(org_id())
            db.session.commit()
            flash(_("Taux enregistré : vos chiffres sont recalculés."), "success")
            return redirect(url_for(".rates"))
    return render_template("analytics/form.html", form=form, title=_("Nouveau taux de change"), back=url_for(".rates"),
                           back_label=_("Taux de change"))


@bp.route("/analytics/rates/<rate_id>", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def rate_edit(rate_id: str):
    row = get_owned(FxRate, rate_id)
    form = RateForm() if request.method == "POST" else RateForm(
        data={"currency": row.currency, "day": row.day, "rate": row.rate, "source": row.source})
    if form.validate_on_submit():
        if _duplicate_rate(form, row):
            form.day.errors.append(_("Un taux existe déjà pour cette devise à cette date."))
        else:
            _save_rate(row, form)
            an.queue_rebuild(org_id())
            db.session.commit()
            flash(_("Taux enregistré : vos chiffres sont recalculés."), "success")
            return redirect(url_for(".rates"))
    return render_template("analytics/form.html", form=form, title=_("Taux de change"), back=url_for(".rates"),
                           back_label=_("Taux de change"))


@bp.route("/analytics/rates/<rate_id>/delete", methods=["POST"])
@roles_required(*MANAGERS)
def rate_delete(rate_id: str):
    row = get_owned(FxRate, rate_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    db.session.delete(row)
    an.queue_rebuild(org_id())
    db.session.commit()
    flash(_("Taux supprimé : vos chiffres sont recalculés."), "success")
    return redirect(url_for(".rates"))


# ============================================================================ returns (RMA)
class ReturnForm(FlaskForm):
    reason = SelectField(_l("Motif"), choices=[(k, v) for k, v in REASON_LABELS.items()], validators=[DataRequired()])
    note = TextAreaField(_l("Remarque"), validators=[Optional(), Length(max=2000)])


class NoteForm(FlaskForm):
    note = TextAreaField(_l("Remarque"), validators=[Optional(), Length(max=2000)])


class RestockForm(FlaskForm):
    warehouse_id = SelectField(_l("Remettre en stock dans"), coerce=coerce_id, validate_choice=False)


class RefundForm(FlaskForm):
    amount = CommaDecimalField(_l("Montant remboursé"), validators=[InputRequired(), NumberRange(min=0)])


def _quantities(order: Order) -> dict[int, int]:
    out = {}
    for line in order.lines:
        raw = request.form.get(f"qty-{line.id}", "").strip()
        if raw:
            try:
                out[line.id] = int(raw)
            except ValueError:
                raise rma.ReturnError(_("Quantité invalide pour %(sku)s.", sku=line.sku)) from None
    return out


@bp.route("/orders/<order_id>/returns/new", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def return_new(order_id: str):
    order = get_owned(Order, order_id)
    left = rma.returnable_quantities(order)
    form = ReturnForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            ret = rma.open_return(order, form.reason.data, _quantities(order), note=form.note.data or "",
                                  user_id=current_user.id)
        except rma.ReturnError as exc:
            db.session.rollback()
            flash(_("Retour refusé : %(reason)s", reason=str(exc)), "error")
        else:
            db.session.commit()
            flash(_("Retour %(rma)s ouvert.", rma=ret.rma), "success")
            return redirect(url_for(".return_detail", return_id=ret.id))
    elif request.method == "POST":
        flash(_("Choisissez le motif du retour."), "error")
    if not any(left.values()):
        flash(_("Rien à retourner sur cette commande : elle doit être expédiée ou livrée, avec des articles pas "
                "encore retournés."), "info")
    return render_template("analytics/return_new.html", order=order, left=left, form=form)


@bp.route("/returns")
@roles_required(*MANAGERS)
def returns():
    args = request.args
    stmt = scoped(Return).join(Order, Order.id == Return.order_id)
    status = args.get("status", "")
    reason = args.get("reason", "")
    q = args.get("q", "").strip()
    channel = args.get("channel", "").strip()
    shop_id = args.get("shop", type=parse_id)
    date_from, date_to = _parse_day(args.get("from")), _parse_day(args.get("to"))
    if status in RETURN_STATUS_LABELS:
        stmt = stmt.where(Return.status == ReturnStatus(status))
    if reason in REASON_LABELS:
        stmt = stmt.where(Return.reason == ReturnReason(reason))
    if channel:
        stmt = stmt.where(Order.shop_id.in_(select(Shop.id).where(Shop.organization_id == org_id(),
                                                                  Shop.addon == channel)))
    if shop_id:
        stmt = stmt.where(Order.shop_id == shop_id)
    zone = an.org_zone(_org())
    if date_from:
        stmt = stmt.where(Order.placed_at >= datetime.combine(date_from, datetime.min.time(), tzinfo=zone))
    if date_to:
        stmt = stmt.where(Order.placed_at < datetime.combine(date_to + timedelta(days=1), datetime.min.time(),
                                                             tzinfo=zone))
    if q:
        like = f"%{q}%"
        stmt = stmt.where(Order.number.ilike(like) | Order.email.ilike(like) | Return.id.in_(
            select(ReturnLine.return_id).join(OrderLine, OrderLine.id == ReturnLine.order_line_id)
            .where(OrderLine.sku.ilike(like))))
    page = parse_page(args.get("page"))
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery()))
    rows = db.session.scalars(stmt.order_by(Return.created_at.desc(), Return.id.desc()).limit(50)
                              .offset((page - 1) * 50)
                              .options(selectinload(Return.order), selectinload(Return.lines))).all()
    shops = list(db.session.scalars(scoped(Shop).order_by(Shop.name)))
    filters = {"status": status, "reason": reason, "q": q, "channel": channel, "shop": shop_id or "",
               "from": date_from.isoformat() if date_from else "", "to": date_to.isoformat() if date_to else ""}
    return render_template("analytics/returns_list.html", returns=rows, total=total, page=page, filters=filters,
                           shops=shops, channels=sorted({s.addon for s in shops}), channel_title=_channel_title,
                           reasons=REASON_LABELS, statuses=RETURN_STATUS_LABELS, outcome=rma.outcome,
                           outcomes=OUTCOME_LABELS)


@bp.route("/returns/<return_id>")
@roles_required(*MANAGERS)
def return_detail(return_id: str):
    ret = get_owned(Return, return_id)
    order = ret.order
    warehouses = list(db.session.scalars(scoped(Warehouse).where(Warehouse.active.is_(True))
                                         .order_by(Warehouse.priority, Warehouse.name)))
    restock_form = RestockForm(formdata=None)
    restock_form.warehouse_id.choices = [(w.id, w.name) for w in warehouses]
    default_wh = next((ln.order_line.warehouse_id for ln in ret.lines if ln.order_line.warehouse_id), None)
    if default_wh in {w.id for w in warehouses}:
        restock_form.warehouse_id.data = default_wh
    due = rma.refund_due(order, {ln.order_line_id: ln.quantity for ln in ret.lines}) if ret.lines else Decimal(0)
    refund_form = RefundForm(formdata=None, data={"amount": ret.refund_amount if ret.refund_amount is not None else due})
    shop = db.session.get(Shop, ret.shop_id) if ret.shop_id else None
    return render_template("analytics/return.html", ret=ret, order=order, due=due, steps=rma.TRANSITIONS[ret.status],
                           restock_form=restock_form, refund_form=refund_form, note_form=NoteForm(formdata=None),
                           action=ActionForm(), reasons=REASON_LABELS, statuses=RETURN_STATUS_LABELS,
                           outcome=rma.outcome(ret), outcomes=OUTCOME_LABELS, shop=shop, ReturnStatus=ReturnStatus)


_STEPS = ("receive", "inspect", "restock", "write_off", "refund", "close", "cancel")


@bp.route("/returns/<return_id>/<step>", methods=["POST"])
@roles_required(*MANAGERS)
def return_step(return_id: str, step: str):
    ret = get_owned(Return, return_id)
    if step not in _STEPS:
        abort(404)
    back = url_for(".return_detail", return_id=ret.id)
    number = ret.rma
    try:
        if step == "receive":
            if not ActionForm().validate_on_submit():
                abort(400)
            rma.receive(ret, user_id=current_user.id)
            message = _("Retour %(rma)s reçu.", rma=number)
        elif step == "inspect":
            form = NoteForm()
            if not form.validate_on_submit():
                abort(400)
            rma.inspect(ret, note=form.note.data or "", user_id=current_user.id)
            message = _("Retour %(rma)s contrôlé : remettez-le en stock ou mettez-le au rebut.", rma=number)
        elif step == "restock":
            form = RestockForm()
            if not form.validate_on_submit():
                abort(400)
            warehouse = get_owned(Warehouse, form.warehouse_id.data)
            rma.restock(ret, warehouse, user_id=current_user.id)
            message = _("Retour %(rma)s remis en stock à %(warehouse)s.", rma=number, warehouse=warehouse.name)
        elif step == "write_off":
            form = NoteForm()
            if not form.validate_on_submit():
                abort(400)
            rma.write_off(ret, note=form.note.data or "", user_id=current_user.id)
            message = _("Retour %(rma)s mis au rebut : sa valeur compte comme une perte.", rma=number)
        elif step == "refund":
            form = RefundForm()
            if not form.validate_on_submit():
                flash(_("Indiquez le montant remboursé."), "error")
                return redirect(back)
            rma.record_refund(ret, form.amount.data, user_id=current_user.id)
            message = _("Remboursement de %(rma)s enregistré.", rma=number)
        elif step == "close":
            if not ActionForm().validate_on_submit():
                abort(400)
            rma.close(ret, user_id=current_user.id)
            message = _("Retour %(rma)s clos.", rma=number)
        else:
            if not ActionForm().validate_on_submit():
                abort(400)
            order_id_ = ret.order_id
            rma.cancel(ret, user_id=current_user.id)
            db.session.commit()
            flash(_("Retour %(rma)s annulé.", rma=number), "success")
            return redirect(url_for("main.order", order_id=order_id_))
    except (rma.ReturnError, order_flow.TransitionError, stock_flow.StockError) as exc:
        db.session.rollback()
        flash(_("Refusé : %(reason)s", reason=str(exc)), "error")
        return redirect(back)
    db.session.commit()
    flash(message, "success")
    return redirect(back)

