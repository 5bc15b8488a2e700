"""The analytics pages: dashboard, products, customers, returns, preparation, products that lose
money, the CSV export of their tables, the rebuild button and the pricing helper."""
from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Length, NumberRange, Optional

from ... import analytics as an
from ...extensions import db
from ...models import Variant
from ...security import safe_referrer
from ...tenancy import MANAGERS, org_id, roles_required, scoped
from .base import (
    ActionForm,
    CommaDecimalField,
    SERIES,
    View,
    _channel_title,
    _decimal,
    _money,
    _org,
    _presets,
    _view,
    bp,
)
from .charts import _buckets, hbar_chart, time_chart
from .tables import (
    Table,
    _channel_table,
    _customer_table,
    _loser_table,
    _preparation_table,
    _product_table,
    _returns_channel_table,
    _returns_product_table,
    _returns_reason_table,
    _timeline_table,
    csv_response,
)


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
