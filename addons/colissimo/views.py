"""Colissimo pages (``/apps/colissimo/``): pick-up points near an address (with opening
hours), return labels for an order, the last parcels and their CN23."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import StringField
from wtforms.validators import DataRequired, Length, Regexp

from core.connectors.guards import addon_required
from core.extensions import db
from core.inputs import parse_id
from core.models import Order, Shipment, Shop, ShopAddon
from core.tenancy import org_id, scoped

from . import mapping
from .client import ColissimoError
from .labels import client, return_label
from .mapping import MissingData, Refused
from .models import ColissimoParcel, ColissimoReturn

ADDON = "colissimo"
bp = Blueprint(ADDON, __name__, template_folder="templates", url_prefix="/apps/colissimo")


class ActionForm(FlaskForm):
    """CSRF-only form for the POST buttons."""


class PointsForm(FlaskForm):
    class Meta:
        csrf = False  # a search (GET) changes nothing

    postal_code = StringField(_l("Code postal"), validators=[DataRequired(), Regexp(r"^\d{4,5}$")])
    city = StringField(_l("Ville"), validators=[DataRequired(), Length(max=35)])
    line1 = StringField(_l("Adresse"), validators=[Length(max=35)])


class ReturnForm(FlaskForm):
    order_number = StringField(_l("Numéro de commande"), validators=[DataRequired(), Length(max=64)])


def _shops() -> list[Shop]:
    return list(db.session.scalars(
        scoped(Shop).join(ShopAddon, ShopAddon.shop_id == Shop.id)
        .where(ShopAddon.addon == ADDON, ShopAddon.active.is_(True)).order_by(Shop.name)))


def search_points(shop: Shop, postal_code: str, city: str, line1: str = "", weight_grams: int = 1000):
    body = client(shop).find_points({
        "address": line1, "zipCode": postal_code, "city": city, "countryCode": "FR",
        "weight": str(weight_grams), "shippingDate": date.today().strftime("%d/%m/%Y"), "filterRelay": "1",
        "requestId": f"oms{shop.id}", "lang": "FR", "optionInter": "0"})
    return mapping.points_from(body)


@bp.route("/")
@addon_required(ADDON)
def index():
    shops = _shops()
    ids = [s.id for s in shops]
    form = PointsForm(request.args)
    points, error = [], None
    if shops and request.args.get("postal_code") and form.validate():
        try:
            points = search_points(shops[0], form.postal_code.data, form.city.data, form.line1.data or "")
        except (ColissimoError, Refused) as exc:
            error = str(exc)
    parcels = list(db.session.scalars(select(ColissimoParcel).where(ColissimoParcel.shop_id.in_(ids))
                                      .order_by(ColissimoParcel.id.desc()).limit(30)))
    returns = list(db.session.scalars(select(ColissimoReturn).where(ColissimoReturn.shop_id.in_(ids))
                                      .order_by(ColissimoReturn.id.desc()).limit(30)))
    return render_template("colissimo/index.html", form=form, points=points, error=error, parcels=parcels,
                           returns=returns, return_form=ReturnForm(), shops=shops)


@bp.route("/returns", methods=["POST"])
@addon_required(ADDON)
def create_return():
    form = ReturnForm()
    if not form.validate_on_submit():
        abort(400)
    shops = {s.id: s for s in _shops()}
    number = form.order_number.data.strip()
    order = db.session.scalar(scoped(Order).where(Order.number.in_([number, f"#{number.lstrip('#')}"]),
                                                  Order.shop_id.in_(list(shops))))
    if order is None:
        flash(_("Commande %(number)s introuvable parmi les boutiques qui expédient avec Colissimo.", number=number),
              "error")
        return redirect(url_for(".index"))
    try:
        made = return_label(shops[order.shop_id], order)
    except (ColissimoError, MissingData) as exc:
        db.session.rollback()
        flash(_("Étiquette retour non créée : %(reason)s", reason=str(exc)), "error")
        return redirect(url_for(".index"))
    db.session.commit()
    flash(_("Étiquette retour %(product)s créée : %(number)s.", product=made.product_code, number=made.parcel_number),
          "success")
    return redirect(url_for(".index"))


@bp.route("/returns/<return_id>/label.pdf")
@addon_required(ADDON)
def return_pdf(return_id: str):
    number = parse_id(return_id)
    made = db.session.get(ColissimoReturn, number) if number is not None else None
    if made is None or made.order.organization_id != org_id():
        abort(404)
    return Response(made.label, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="retour-{made.parcel_number}.pdf"'})


@bp.route("/shipments/<shipment_id>/cn23.pdf")
@addon_required(ADDON)
def cn23(shipment_id: str):
    number = parse_id(shipment_id)
    shipment = db.session.get(Shipment, number) if number is not None else None
    if shipment is None or shipment.order.organization_id != org_id():
        abort(404)
    row = db.session.scalar(select(ColissimoParcel).where(ColissimoParcel.shipment_id == shipment.id))
    if row is None or not row.cn23:
        abort(404)
    return Response(row.cn23, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="cn23-{row.parcel_number}.pdf"'})
