"""DHL pages: the day's parcels, courier pickups, the tracking quota (``/apps/dhl/``), and a
shipment's commercial invoice (``/apps/dhl/shipments/<id>/invoice.pdf``)."""
from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from sqlalchemy import select

from core.connectors.guards import addon_required
from core.extensions import db
from core.models import Shipment, Shop, ShopAddon
from core.inputs import parse_id
from core.tenancy import get_owned, org_id, scoped

from . import pickups, tracking
from .client import DhlError
from .models import DhlPickup, DhlShipment

ADDON = "dhl"
bp = Blueprint(ADDON, __name__, template_folder="templates", url_prefix="/apps/dhl")


class ActionForm(FlaskForm):
    """CSRF-only form for the POST buttons."""


def _shops() -> list[Shop]:
    return list(db.session.scalars(
        scoped(Shop).join(ShopAddon, ShopAddon.shop_id == Shop.id)
        .where(ShopAddon.addon == ADDON, ShopAddon.active.is_(True)).order_by(Shop.name)))


@bp.route("/")
@addon_required(ADDON)
def index():
    shops = _shops()
    ids = [s.id for s in shops]
    recent = list(db.session.scalars(select(DhlShipment).where(DhlShipment.shop_id.in_(ids))
                                     .order_by(DhlShipment.id.desc()).limit(50)))
    booked = list(db.session.scalars(select(DhlPickup).where(DhlPickup.shop_id.in_(ids))
                                     .order_by(DhlPickup.id.desc()).limit(20)))
    quotas = []
    for shop in shops:
        settings = shop.addon_settings(ADDON)
        key = settings.get("tracking_api_key")
        if key:
            quotas.append((shop, tracking.spent(key), tracking.quota_of(settings)))
    waiting = {shop.id: pickups.waiting_parcels(shop) for shop in shops}
    return render_template("dhl/index.html", shops=shops, recent=recent, booked=booked, quotas=quotas,
                           waiting=waiting, action=ActionForm())


@bp.route("/shops/<shop_id>/pickup", methods=["POST"])
@addon_required(ADDON)
def book_pickup(shop_id: str):
    shop = get_owned(Shop, shop_id)
    if not ActionForm().validate_on_submit() or shop.id not in {s.id for s in _shops()}:
        abort(400)
    try:
        pickup = pickups.book(shop)
    except DhlError as exc:
        db.session.rollback()
        flash(_("Enlèvement non réservé : %(reason)s", reason=str(exc)), "error")
        return redirect(url_for(".index"))
    db.session.commit()
    flash(_("Enlèvement DHL réservé : confirmation %(number)s.", number=pickup.dispatch_confirmation_number),
          "success")
    return redirect(url_for(".index"))


@bp.route("/pickups/<pickup_id>/cancel", methods=["POST"])
@addon_required(ADDON)
def cancel_pickup(pickup_id: str):
    number = parse_id(pickup_id)
    pickup = db.session.get(DhlPickup, number) if number is not None else None
    if pickup is None or pickup.shop_id not in {s.id for s in _shops()} or not ActionForm().validate_on_submit():
        abort(404)
    try:
        pickups.cancel(db.session.get(Shop, pickup.shop_id), pickup, "annulé par le marchand")
    except DhlError as exc:
        db.session.rollback()
        flash(_("Annulation refusée par DHL : %(reason)s", reason=str(exc)), "error")
        return redirect(url_for(".index"))
    db.session.commit()
    flash(_("Enlèvement annulé chez DHL."), "success")
    return redirect(url_for(".index"))


@bp.route("/shipments/<shipment_id>/track", methods=["POST"])
@addon_required(ADDON)
def track_now(shipment_id: str):
    """"Actualiser le suivi": one call of the key's quota, the reserve included."""
    number = parse_id(shipment_id)
    shipment = db.session.get(Shipment, number) if number is not None else None
    if shipment is None or shipment.order.organization_id != org_id() or not ActionForm().validate_on_submit():
        abort(404)
    row = db.session.scalar(select(DhlShipment).where(DhlShipment.shipment_id == shipment.id))
    if row is None or row.state != "created" or not row.tracking_number:
        abort(404)
    try:
        changed = tracking.ask(shipment.order.shop, row)
    except DhlError as exc:
        db.session.rollback()
        flash(_("Suivi DHL indisponible : %(reason)s", reason=str(exc)), "error")
        return redirect(url_for(".index"))
    db.session.commit()
    flash(_("Suivi DHL actualisé : %(status)s", status=row.status_message or _("aucune nouvelle")),
          "success" if changed else "info")
    return redirect(url_for(".index"))


@bp.route("/shipments/<shipment_id>/invoice.pdf")
@addon_required(ADDON)
def invoice(shipment_id: str):
    number = parse_id(shipment_id)
    shipment = db.session.get(Shipment, number) if number is not None else None
    if shipment is None or shipment.order.organization_id != org_id():
        abort(404)
    row = db.session.scalar(select(DhlShipment).where(DhlShipment.shipment_id == shipment.id))
    if row is None or not row.invoice:
        abort(404)
    return Response(row.invoice, mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="facture-dhl-{shipment.id}.pdf"'})
