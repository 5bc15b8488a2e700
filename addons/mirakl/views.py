"""The Mirakl page of a shop: its operator, orders waiting for a decision, the last stock
imports and their errors per SKU, the instance's carriers."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select

from core import listings
from core.connectors.guards import addon_required
from core.extensions import db
from core.jobs import enqueue
from core.models import Order, Shop
from core.tenancy import get_owned, scoped
from core.views import listing_fix

from . import mapping
from .models import MiraklOffer, MiraklOrder, MiraklReturn, MiraklShopState, MiraklStockImport
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
    unmatched = db.session.scalars(select(MiraklOffer).where(MiraklOffer.shop_id == shop.id,
                                                             MiraklOffer.variant_id.is_(None))
                                   .order_by(MiraklOffer.shop_sku).limit(200)).all()
    requests = db.session.scalars(select(MiraklReturn).where(
        MiraklReturn.shop_id == shop.id, MiraklReturn.state == "WAITING_ACCEPTANCE")
        .order_by(MiraklReturn.requested_at, MiraklReturn.id)).all()
    recent = db.session.scalars(select(MiraklReturn).where(
        MiraklReturn.shop_id == shop.id, MiraklReturn.state != "WAITING_ACCEPTANCE")
        .order_by(MiraklReturn.id.desc()).limit(20)).all()
    orders = {o.id: o for o in db.session.scalars(scoped(Order).where(
        Order.id.in_([r.order_id for r in [*requests, *recent] if r.order_id])))}
    offers_count = len(db.session.scalars(select(MiraklOffer.id).where(MiraklOffer.shop_id == shop.id)).all())
    return render_template("mirakl/shop.html", shop=shop, op=operator(shop), url=instance_url(shop),
                           unmatched=unmatched, offers_count=offers_count, waiting=waiting, unknown=unknown, imports=imports, state=state, others=others,
                           label=mapping.state_label, action=ActionForm(), requests=requests, recent=recent,
                           orders=orders, return_label=mapping.return_state_label,
                           rejections=mapping.REJECTIONS, reasons=RETURN_REASON_LABELS)


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


@bp.route("/shops/<shop_id>/offers", methods=["POST"])
@addon_required("mirakl")
def read_offers(shop_id: str):
    shop = _mirakl_shop(shop_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    enqueue("addons.mirakl.jobs.import_offers", shop.id, job_id=f"mirakl-offers-{shop.id}", unique=True,
            shop_id=shop.id)
    db.session.commit()
    flash(_("Lecture des offres demandée à Mirakl."), "success")
    return redirect(url_for(".shop_page", shop_id=shop.id))


@bp.route("/shops/<shop_id>/offers/<int:offer_id>/fix", methods=["POST"])
@addon_required("mirakl")
def fix_offer(shop_id: str, offer_id: int):
    """An offer without product: linked to the variant of the SKU typed, or created as a product."""
    shop = _mirakl_shop(shop_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    offer = db.session.get(MiraklOffer, offer_id)
    if offer is None or offer.shop_id != shop.id:
        abort(404)
    from decimal import Decimal, InvalidOperation

    try:
        price = Decimal(offer.price) if offer.price else None
    except InvalidOperation:
        price = None
    listing = listings.RemoteListing(sku=offer.shop_sku, title=offer.title, price=price, barcode=offer.ean)

    def attach(variant) -> None:
        from .jobs import mark_pending

        offer.variant_id = variant.id
        mark_pending(shop, [variant.id])
        enqueue("addons.mirakl.jobs.push_stock", shop.id, job_id=f"mirakl-push_stock-{shop.id}", unique=True,
                shop_id=shop.id)

    return listing_fix.answer(shop, listing, url_for(".shop_page", shop_id=shop.id), attach)


#: RT11's return reasons in the merchant's words (a reason Mirakl adds later shows as it comes)
RETURN_REASON_LABELS = {
    "RETURN_BROKEN_ITEM": _l("article cassé"), "RETURN_DEFECTIVE_ITEM": _l("article défectueux"),
    "RETURN_DEFECTIVE_ON_ARRIVAL": _l("défectueux à la livraison"), "RETURN_DAMAGED_PACKAGING": _l("emballage abîmé"),
    "RETURN_WARRANTY": "garantie", "RETURN_COUNTERFEIT_ITEM": _l("contrefaçon"),
    "RETURN_INACCURATE_ITEM_DESCRIPTION": "description inexacte", "RETURN_CM_QUALITY": _l("qualité décevante"),
    "RETURN_DELIVERED_PRODUCT_DIFFERENT": _l("produit différent"), "RETURN_DPD_WRONG_COLOR": "mauvaise couleur",
    "RETURN_MISSING_ITEM": "article manquant", "RETURN_DPD_WRONG_SIZE": "mauvaise taille",
    "RETURN_PRODUCT_DOES_NOT_FIT": _l("ne convient pas"), "RETURN_PDNT_TOO_BIG": "trop grand",
    "RETURN_PDNT_TOO_SMALL": "trop petit", "RETURN_CHANGED_MIND": _l("changement d'avis"),
    "RETURN_CM_DONT_WANT": _l("n'en veut plus"), "RETURN_CM_DONT_LIKE": _l("ne plaît pas"), "RETURN_OTHER": "autre",
}


@bp.route("/shops/<shop_id>/returns/<int:row_id>", methods=["POST"])
@addon_required("mirakl")
def answer_return(shop_id: str, row_id: int):
    """The merchant accepts or refuses (with a reason) a customer's return request (RT21 in a job)."""
    from flask_login import current_user

    from .client import MiraklError
    from .jobs import _send_decisions_soon, decide_return

    shop = _mirakl_shop(shop_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    row = db.session.get(MiraklReturn, row_id)
    if row is None or row.shop_id != shop.id:
        abort(404)
    accepted = request.form.get("do") == "accept"
    try:
        decide_return(row, accepted, request.form.get("rejection"), user_id=current_user.id)
    except MiraklError as exc:
        from flask_babel import get_locale

        flash(exc.for_locale(str(get_locale())), "error")
        return redirect(url_for(".shop_page", shop_id=shop.id) + "#returns")
    db.session.commit()
    _send_decisions_soon(shop)
    flash(_("Retour accepté : la réponse part chez l'opérateur.") if accepted
          else _("Retour refusé : la réponse part chez l'opérateur."), "success")
    return redirect(url_for(".shop_page", shop_id=shop.id) + "#returns")
