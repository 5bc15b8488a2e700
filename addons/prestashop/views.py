"""PrestaShop's page for a shop (store facts, catalogue matching), guarded by ``addon_required``."""
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

from .models import PrestashopListing, PrestashopState

bp = Blueprint("prestashop", __name__, template_folder="templates", url_prefix="/apps/prestashop")


class ActionForm(FlaskForm):
    """CSRF-only form for the POST buttons."""


def _ps_shop(shop_id: str) -> Shop:
    shop = get_owned(Shop, shop_id)
    if shop.addon != "prestashop":
        abort(404)
    return shop


@bp.route("/")
@addon_required("prestashop")
def index():
    shop = db.session.scalar(scoped(Shop).where(Shop.addon == "prestashop").order_by(Shop.name, Shop.id).limit(1))
    if shop is None:
        return redirect(url_for("integrations.addon", name="prestashop"))
    return redirect(url_for(".shop_page", shop_id=shop.id))


@bp.route("/shops/<shop_id>")
@addon_required("prestashop")
def shop_page(shop_id: str):
    shop = _ps_shop(shop_id)
    listings = db.session.scalars(select(PrestashopListing).where(PrestashopListing.shop_id == shop.id)
                                  .order_by(PrestashopListing.sku, PrestashopListing.id)).all()
    return render_template("prestashop/shop.html", shop=shop, state=db.session.get(PrestashopState, shop.id),
                           unmatched=[r for r in listings if r.variant_id is None],
                           matched=sum(1 for r in listings if r.variant_id is not None),
                           rejected=[r for r in listings if r.push_error], action=ActionForm())


@bp.route("/shops/<shop_id>/catalog", methods=["POST"])
@addon_required("prestashop")
def import_catalog(shop_id: str):
    shop = _ps_shop(shop_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    enqueue("addons.prestashop.jobs.import_catalog", shop.id, job_id=f"prestashop-catalog-{shop.id}", unique=True,
            shop_id=shop.id)
    db.session.commit()
    flash(_("Import du catalogue PrestaShop lancé."), "success")
    return redirect(url_for(".shop_page", shop_id=shop.id))
