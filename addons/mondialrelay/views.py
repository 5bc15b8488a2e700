"""Mondial Relay pages: the shipments whose creation answer was lost, to confirm by hand."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select

from core import shipping
from core.connectors.guards import addon_required
from core.extensions import db
from core.models import Order, Shipment
from core.tenancy import org_id, parse_id

from .labels import ADDON, confirm_lost
from .models import MondialRelayShipment

bp = Blueprint(ADDON, __name__, template_folder="templates", url_prefix="/apps/mondialrelay")


class ActionForm(FlaskForm):
    """CSRF only."""


@bp.route("/")
@addon_required(ADDON)
def index():
    rows = db.session.execute(
        select(MondialRelayShipment, Shipment, Order).join(Shipment, Shipment.id == MondialRelayShipment.shipment_id)
        .join(Order, Order.id == Shipment.order_id)
        .where(Order.organization_id == org_id(), MondialRelayShipment.state == "lost")
        .order_by(MondialRelayShipment.id)).all()
    return render_template("mondialrelay/index.html", rows=rows, form=ActionForm())


@bp.route("/shipments/<shipment_id>/confirm", methods=["POST"])
@addon_required(ADDON)
def confirm(shipment_id: str):
    shipment = db.session.get(Shipment, parse_id(shipment_id) or 0)
    if shipment is None or shipment.order.organization_id != org_id():
        abort(404)
    if not ActionForm().validate_on_submit():
        flash(_("Formulaire expiré : recommencez."), "error")
        return redirect(url_for(".index"))
    number = request.form.get("number", "").strip() if request.form.get("exists") == "yes" else None
    try:
        confirm_lost(shipment, number, user_id=current_user.id)
    except shipping.ShippingError as exc:
        db.session.rollback()
        flash(_("Refusé : %(reason)s", reason=str(exc)), "error")
        return redirect(url_for(".index"))
    db.session.commit()
    if number:
        flash(_("Colis expédié avec le numéro %(number)s.", number=number), "success")
    else:
        outcome = shipping.fetch_label(shipment.id, user_id=current_user.id)
        flash(outcome.message, "success" if outcome.state in ("shipped", "label_ready") else "info")
    return redirect(url_for(".index"))
