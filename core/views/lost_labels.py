"""The page every carrier add-on that cannot look a label up by reference shows: the label
requests whose answer was lost, which the merchant confirms after checking the carrier's portal
(the shipment exists, with its number; or it does not, and the label is asked again). Never
sent twice on its own: a label is never bought twice.

``blueprint(addon, title, model, portal)`` gives the add-on its ``/apps/<addon>/`` page; the
add-on's ``confirm_lost(shipment, number, user_id)`` (usually
:func:`core.shipping.confirm_lost_label`) records the merchant's answer.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select

from .. import shipping
from ..connectors.guards import addon_required
from ..extensions import db
from ..models import Order, Shipment
from ..tenancy import org_id, parse_id


class ActionForm(FlaskForm):
    """CSRF only."""


def blueprint(addon: str, title: str, model: Any, portal: Any,
              confirm_lost: Callable[..., None]) -> Blueprint:
    """``model``: the add-on's table with ``shipment_id`` and ``state``; ``portal``: the
    sentence telling where the merchant checks (lazy-translated)."""
    bp = Blueprint(addon, __name__, url_prefix=f"/apps/{addon}")

    @bp.route("/")
    @addon_required(addon)
    def index():
        rows = db.session.execute(
            select(model, Shipment, Order).join(Shipment, Shipment.id == model.shipment_id)
            .join(Order, Order.id == Shipment.order_id)
            .where(Order.organization_id == org_id(), model.state == "lost").order_by(model.id)).all()
        return render_template("shipping/lost_labels.html", rows=rows, form=ActionForm(), title=title,
                               portal=portal, confirm_endpoint=f"{addon}.confirm")

    @bp.route("/shipments/<shipment_id>/confirm", methods=["POST"])
    @addon_required(addon)
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

    return bp
