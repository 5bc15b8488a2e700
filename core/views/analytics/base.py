"""The analytics blueprint and what all its pages share: labels, number formatting, the
filters of the current request (``View``), the form fields and the template helpers."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, request, url_for
from flask_babel import format_currency, format_decimal, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm

from ... import analytics as an
from ... import returns as rma
from ...addons import registry
from ...extensions import db
from ...forms import DecimalField
from ...models import Order, Organization, Return, ReturnReason, ReturnStatus, Shop, Warehouse
from ...inputs import parse_day, parse_id
from ...tenancy import scoped


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


# ============================================================================ form fields
class CommaDecimalField(DecimalField):
    """A decimal typed the French way (12,5) or the English way (12.5)."""

    def process_formdata(self, valuelist: list[str]) -> None:
        if valuelist:
            valuelist = [v.replace(" ", "").replace("\u202f", "").replace(",", ".") for v in valuelist]
        super().process_formdata(valuelist)
