"""The Cdiscount page of a shop: its Octopia orders, where each decision stands (accepted,
refused and why) and the parcels told to Cdiscount."""
from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core.connectors.guards import addon_required
from core.extensions import db
from core.models import Order, Shop
from core.tenancy import get_owned, scoped

from . import mapping
from .models import CdiscountOrder, CdiscountParcel

#: Octopia's states as the merchant reads them (a state added later is shown as Octopia names it)
LABELS = {
    "Processing": _l("en contrôle chez Cdiscount"), "WaitingAcceptance": _l("en attente d'acceptation"),
    "Accepted": _l("acceptée, derniers contrôles de Cdiscount"), "InPreparation": _l("en préparation"),
    "Shipped": _l("expédiée"), "Delivered": _l("livrée"), "Cancelled": _l("annulée"), "Refused": _l("refusée"),
    "Rejected": _l("rejetée par Cdiscount"),
}

bp = Blueprint("cdiscount", __name__, template_folder="templates", url_prefix="/apps/cdiscount")


def _shop(shop_id: str) -> Shop:
    shop = get_owned(Shop, shop_id)  # another organization's shop is a 404
    if shop.addon != "cdiscount":
        abort(404)
    return shop


@bp.route("/")
@addon_required("cdiscount")
def index():
    shop = db.session.scalar(scoped(Shop).where(Shop.addon == "cdiscount").order_by(Shop.name, Shop.id).limit(1))
    if shop is None:
        return redirect(url_for("integrations.addon", name="cdiscount"))
    return redirect(url_for(".shop_page", shop_id=shop.id))


@bp.route("/shops/<shop_id>")
@addon_required("cdiscount")
def shop_page(shop_id: str):
    shop = _shop(shop_id)
    rows = db.session.execute(
        select(CdiscountOrder, Order).join(Order, Order.id == CdiscountOrder.order_id)
        .where(CdiscountOrder.shop_id == shop.id, Order.organization_id == shop.organization_id)
        .order_by(Order.placed_at.desc()).limit(100)).all()
    parcels = db.session.scalars(select(CdiscountParcel).where(CdiscountParcel.shop_id == shop.id)
                                 .order_by(CdiscountParcel.id.desc()).limit(50)).all()
    return render_template("cdiscount/shop.html", shop=shop, rows=rows, parcels=parcels,
                           label=lambda state: LABELS.get(state, state), known=mapping.STATES)
