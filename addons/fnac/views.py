"""The Fnac Darty page of a shop: offers matched or not (with the fix: link to a product, or
create it), stock pushes and the offers Fnac Darty refused, the carriers, the orders' states."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import func, select

from core.views import listing_fix
from core import listings as listing_fixes
from core.connectors.guards import addon_required
from core.extensions import db
from core.jobs import enqueue
from core.models import Shop
from core.tenancy import get_owned, scoped

from .models import FnacAccount, FnacBatch, FnacOffer, FnacOrder

bp = Blueprint("fnac", __name__, template_folder="templates", url_prefix="/apps/fnac")


class ActionForm(FlaskForm):
    """CSRF-only form for the POST buttons."""


def _fnac_shop(shop_id: str) -> Shop:
    shop = get_owned(Shop, shop_id)  # the add-on is enabled for it (addon_required)
    if shop.addon != "fnac":
        abort(404)
    return shop


@bp.route("/")
@addon_required("fnac")
def index():
    """The Fnac Darty area: the first shop's page (the others are linked from it)."""
    shop = db.session.scalar(scoped(Shop).where(Shop.addon == "fnac").order_by(Shop.name, Shop.id).limit(1))
    if shop is None:
        return redirect(url_for("integrations.addon", name="fnac"))
    return redirect(url_for(".shop_page", shop_id=shop.id))


@bp.route("/shops/<shop_id>")
@addon_required("fnac")
def shop_page(shop_id: str):
    shop = _fnac_shop(shop_id)
    offers = db.session.scalars(select(FnacOffer).where(FnacOffer.shop_id == shop.id)
                                .order_by(FnacOffer.variant_id.is_not(None), FnacOffer.sku)).all()
    batches = db.session.scalars(select(FnacBatch).where(FnacBatch.shop_id == shop.id)
                                 .order_by(FnacBatch.id.desc()).limit(10)).all()
    states = db.session.execute(select(FnacOrder.state, func.count()).where(FnacOrder.shop_id == shop.id)
                                .group_by(FnacOrder.state).order_by(FnacOrder.state)).all()
    others = db.session.scalars(scoped(Shop).where(Shop.addon == "fnac", Shop.id != shop.id)
                                .order_by(Shop.name, Shop.id)).all()
    return render_template("fnac/shop.html", shop=shop, others=others, offers=offers, batches=batches,
                           states=states, account=db.session.get(FnacAccount, shop.id), action=ActionForm(),
                           brand="Darty" if shop.addon_settings("fnac").get("brand") == "darty" else "Fnac")


_ACTIONS = {
    "import": ("addons.fnac.jobs.import_offers", "fnac-import_offers-{id}", _l("Lecture des offres lancée.")),
    "reconcile": ("addons.fnac.jobs.reconcile_stock", "fnac-reconcile-{id}",
                  _l("Comparaison du stock lancée : les écarts seront renvoyés à Fnac Darty.")),
}


@bp.route("/shops/<shop_id>/<any(import, reconcile):action>", methods=["POST"])
@addon_required("fnac")
def run_action(shop_id: str, action: str):
    shop = _fnac_shop(shop_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    job, job_id, message = _ACTIONS[action]
    enqueue(job, shop.id, job_id=job_id.format(id=shop.id), unique=True, shop_id=shop.id)
    db.session.commit()
    flash(str(message), "success")
    return redirect(url_for(".shop_page", shop_id=shop.id))


@bp.route("/shops/<shop_id>/offers/<int:offer_id>/fix", methods=["POST"])
@addon_required("fnac")
def fix_offer(shop_id: str, offer_id: int):
    """An offer without product: linked to the variant of the SKU typed, or created as a product."""
    shop = _fnac_shop(shop_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    offer = db.session.get(FnacOffer, offer_id)
    if offer is None or offer.shop_id != shop.id:
        abort(404)
    listing = listing_fixes.RemoteListing(sku=offer.sku, title=offer.title, price=offer.price)

    def attach(variant) -> None:
        offer.variant_id, offer.pending = variant.id, True
        enqueue("addons.fnac.jobs.push_stock", shop.id, job_id=f"fnac-push_stock-{shop.id}", unique=True,
                shop_id=shop.id)

    return listing_fix.answer(shop, listing, url_for(".shop_page", shop_id=shop.id), attach)
