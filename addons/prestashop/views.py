"""PrestaShop's page for a shop (store facts, catalogue matching), guarded by ``addon_required``."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from sqlalchemy import select

from core.views import listing_fix
from core import listings as listing_fixes
from core.connectors.guards import addon_required
from core.extensions import db
from core.jobs import enqueue
from core.models import Shop
from core.tenancy import get_owned, scoped

from .models import PrestashopListing, PrestashopSlip, PrestashopState
from .slips import IMPORTED

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
    slips = db.session.scalars(select(PrestashopSlip).where(PrestashopSlip.shop_id == shop.id)
                               .order_by(PrestashopSlip.slip_id.desc())).all()
    return render_template("prestashop/shop.html", shop=shop, state=db.session.get(PrestashopState, shop.id),
                           unmatched=[r for r in listings if r.variant_id is None],
                           matched=sum(1 for r in listings if r.variant_id is not None),
                           rejected=[r for r in listings if r.push_error], action=ActionForm(),
                           slips_imported=sum(1 for r in slips if r.status == IMPORTED),
                           slips_open=[r for r in slips if r.status != IMPORTED or r.note])


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


@bp.route("/shops/<shop_id>/listings/<int:listing_id>/fix", methods=["POST"])
@addon_required("prestashop")
def fix_listing(shop_id: str, listing_id: int):
    """A PrestaShop article without OMS product: linked to the variant of the SKU typed, or
    created as a product; its stock is then pushed to the shop."""
    shop = _ps_shop(shop_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    row = db.session.get(PrestashopListing, listing_id)
    if row is None or row.shop_id != shop.id:
        abort(404)
    listing = listing_fixes.RemoteListing(sku=row.sku or "", title=row.title, barcode=row.barcode)

    def attach(variant) -> None:
        row.variant_id = variant.id
        enqueue("addons.prestashop.jobs.push_stock", shop.id, [variant.id], shop_id=shop.id,
                intervals=(5, 30, 120, 600), retries=4)

    return listing_fix.answer(shop, listing, url_for(".shop_page", shop_id=shop.id), attach)
