"""The tables of the analytics pages, on screen and as CSV: one builder per table, from the
figures of ``core.analytics``."""
from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from flask import Response
from flask_babel import format_decimal, get_locale
from flask_babel import gettext as _
from sqlalchemy import select

from ... import analytics as an
from ...csvexport import writer as csv_writer
from ...extensions import db
from ...models import Customer, Product, Variant
from ...tenancy import scoped
from .base import REASON_LABELS, View, _channel_title, _csv_number, _decimal, _money
from .charts import _bucket_end, _bucket_label


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



def csv_response(table: Table, filename: str) -> Response:
    separator = ";" if str(get_locale()).startswith("fr") else ","
    buffer = io.StringIO()
    writer = csv_writer(buffer, delimiter=separator, lineterminator="\r\n")
    writer.writerow([table.header(c) for c in table.columns])
    for row in table.all_rows():
        writer.writerow([table.csv_cell(c, row) for c in table.columns])
    return Response("\ufeff" + buffer.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
