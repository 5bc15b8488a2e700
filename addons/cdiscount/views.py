"""The Cdiscount page of a shop: its Octopia orders, where each decision stands (accepted,
refused and why), the parcels told to Cdiscount, and the offers no OMS product stands behind
(with the fix: link to a product, or create it) with the button that reads the offers again."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import func, select

from core.views import listing_fix
from core import listings
from core.connectors.guards import addon_required
from core.extensions import db
from core.jobs import enqueue
from core.models import Order, Shop
from core.tenancy import get_owned, scoped

from . import mapping
from .jobs import mark_pending
from .models import CdiscountOffer, CdiscountOrder, CdiscountParcel

#: Octopia's states as the merchant reads them (a state added later is shown as Octopia names it)
LABELS = {
    "Processing": _l("en contrôle chez Cdiscount"), "WaitingAcceptance": _l("en attente d'acceptation"),
    "Accepted": _l("acceptée, derniers contrôles de Cdiscount"), "InPreparation": _l("en préparation"),
    "Shipped": _l("expédiée"), "Delivered": _l("livrée"), "Cancelled": _l("annulée"), "Refused": _l("refusée"),
    "Rejected": _l("rejetée par Cdiscount"),
}

bp = Blueprint("cdiscount", __name__, template_folder="templates", url_prefix="/apps/cdiscount")


class ActionForm(FlaskForm):
    """CSRF-only form for the POST buttons."""


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
    unmatched = db.session.scalars(select(CdiscountOffer).where(
        CdiscountOffer.shop_id == shop.id, CdiscountOffer.variant_id.is_(None), CdiscountOffer.seller_sku.is_not(None))
        .order_by(CdiscountOffer.seller_sku).limit(200)).all()
    offers_count = db.session.scalar(select(func.count(CdiscountOffer.id)).where(
        CdiscountOffer.shop_id == shop.id, CdiscountOffer.seller_sku.is_not(None)))
    read_at = db.session.scalar(select(func.max(CdiscountOffer.seen_at)).where(CdiscountOffer.shop_id == shop.id))
    return render_template("cdiscount/shop.html", shop=shop, rows=rows, parcels=parcels, unmatched=unmatched,
                           offers_count=offers_count, offers_read_at=read_at, action=ActionForm(),
                           label=lambda state: LABELS.get(state, state), known=mapping.STATES)


@bp.route("/shops/<shop_id>/offers", methods=["POST"])
@addon_required("cdiscount")
def read_offers(shop_id: str):
    """"Relire les offres": the offer catalogue read again from Octopia, in a job."""
    shop = _shop(shop_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    enqueue("addons.cdiscount.jobs.import_catalog", shop.id, job_id=f"cdiscount-catalog-{shop.id}", unique=True,
            shop_id=shop.id)
    db.session.commit()
    flash(_("Lecture des offres demandée à Cdiscount."), "success")
    return redirect(url_for(".shop_page", shop_id=shop.id))


@bp.route("/shops/<shop_id>/offers/<int:offer_id>/fix", methods=["POST"])
@addon_required("cdiscount")
def fix_offer(shop_id: str, offer_id: int):
    """An offer without product: linked to the variant of the SKU typed, or created as a
    product; its stock is then pushed."""
    shop = _shop(shop_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    offer = db.session.get(CdiscountOffer, offer_id)
    if offer is None or offer.shop_id != shop.id or not offer.seller_sku:
        abort(404)
    listing = listings.RemoteListing(sku=offer.seller_sku, title=offer.title, price=offer.remote_price,
                                     barcode=offer.gtin)

    def attach(variant) -> None:
        offer.variant_id = variant.id
        for loose in db.session.scalars(select(CdiscountOffer).where(  # its stock now goes under this offer
                CdiscountOffer.shop_id == shop.id, CdiscountOffer.variant_id == variant.id,
                CdiscountOffer.seller_sku.is_(None))):
            db.session.delete(loose)
        mark_pending(shop, [variant.id])
        enqueue("addons.cdiscount.jobs.push_stock", shop.id, job_id=f"cdiscount-push_stock-{shop.id}", unique=True,
                shop_id=shop.id)

    return listing_fix.answer(shop, listing, url_for(".shop_page", shop_id=shop.id), attach)
