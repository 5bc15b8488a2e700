"""The Mirakl page of a shop: its operator, orders waiting for a decision, the last stock
imports and their errors per SKU, the instance's carriers."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from sqlalchemy import select

from core.connectors.guards import addon_required
from core.extensions import db
from core.jobs import enqueue
from core.models import Shop
from core.tenancy import get_owned, scoped

from . import mapping
from .models import MiraklOrder, MiraklShopState, MiraklStockImport
from .runtime import instance_url, operator

bp = Blueprint("mirakl", __name__, template_folder="templates", url_prefix="/apps/mirakl")


class ActionForm(FlaskForm):
    """CSRF-only form for the POST buttons."""


def _mirakl_shop(shop_id: str) -> Shop:
    shop = get_owned(Shop, shop_id)
    if shop.addon != "mirakl":
        abort(404)
    return shop


@bp.route("/")
@addon_required("mirakl")
def index():
    shop = db.session.scalar(scoped(Shop).where(Shop.addon == "mirakl").order_by(Shop.name, Shop.id).limit(1))
    if shop is None:
        return redirect(url_for("integrations.addon", name="mirakl"))
    return redirect(url_for(".shop_page", shop_id=shop.id))


@bp.route("/shops/<shop_id>")
@addon_required("mirakl")
def shop_page(shop_id: str):
    shop = _mirakl_shop(shop_id)
    waiting = db.session.scalars(select(MiraklOrder).where(
        MiraklOrder.shop_id == shop.id, MiraklOrder.state.in_(sorted(mapping.BEFORE_ACCEPTANCE)))
        .order_by(MiraklOrder.created_at)).all()
    unknown = db.session.scalars(select(MiraklOrder).where(
        MiraklOrder.shop_id == shop.id, MiraklOrder.state.not_in(sorted(mapping.STATES)))).all()
    imports = db.session.scalars(select(MiraklStockImport).where(MiraklStockImport.shop_id == shop.id)
                                 .order_by(MiraklStockImport.id.desc()).limit(10)).all()
    state = db.session.scalar(select(MiraklShopState).where(MiraklShopState.shop_id == shop.id))
    others = db.session.scalars(scoped(Shop).where(Shop.addon == "mirakl", Shop.id != shop.id)
                                .order_by(Shop.name, Shop.id)).all()
    return render_template("mirakl/shop.html", shop=shop, op=operator(shop), url=instance_url(shop),
                           waiting=waiting, unknown=unknown, imports=imports, state=state, others=others,
                           label=mapping.state_label, action=ActionForm())


@bp.route("/shops/<shop_id>/carriers", methods=["POST"])
@addon_required("mirakl")
def refresh_carriers(shop_id: str):
    shop = _mirakl_shop(shop_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    enqueue("addons.mirakl.jobs.refresh_carriers", shop.id, job_id=f"mirakl-carriers-{shop.id}", unique=True,
            shop_id=shop.id)
    db.session.commit()
    flash(_("Liste des transporteurs demandée à Mirakl."), "success")
    return redirect(url_for(".shop_page", shop_id=shop.id))
