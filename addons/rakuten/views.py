"""The Rakuten page of a shop: sales waiting for an answer (with their items), the inventory
files sent and what their reports said, SKU by SKU."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from sqlalchemy import select

from core.views import listing_fix
from core import listings as listing_fixes
from core.connectors.guards import addon_required
from core.extensions import db
from core.jobs import enqueue
from core.models import Order, Shop
from core.tenancy import get_owned, scoped

from . import mapping
from .models import RakutenItem, RakutenOffer, RakutenStockImport

bp = Blueprint("rakuten", __name__, template_folder="templates", url_prefix="/apps/rakuten")


class ActionForm(FlaskForm):
    """CSRF-only form for the POST buttons."""


def _rakuten_shop(shop_id: str) -> Shop:
    shop = get_owned(Shop, shop_id)  # the add-on is enabled for it (addon_required)
    if shop.addon != "rakuten":
        abort(404)
    return shop


@bp.route("/")
@addon_required("rakuten")
def index():
    shop = db.session.scalar(scoped(Shop).where(Shop.addon == "rakuten").order_by(Shop.name, Shop.id).limit(1))
    if shop is None:
        return redirect(url_for("integrations.addon", name="rakuten"))
    return redirect(url_for(".shop_page", shop_id=shop.id))


@bp.route("/shops/<shop_id>")
@addon_required("rakuten")
def shop_page(shop_id: str):
    shop = _rakuten_shop(shop_id)
    rows = db.session.execute(
        select(RakutenItem, Order.number).outerjoin(Order, Order.id == RakutenItem.order_id)
        .where(RakutenItem.shop_id == shop.id).order_by(RakutenItem.purchased_at.desc(), RakutenItem.id)
        .limit(200)).all()
    items = [{"row": r, "number": number, "label": mapping.STATE_LABELS.get(mapping.meaning(r.status) or "", r.status)}
             for r, number in rows]
    imports = db.session.scalars(select(RakutenStockImport).where(RakutenStockImport.shop_id == shop.id)
                                 .order_by(RakutenStockImport.id.desc()).limit(10)).all()
    rejected = db.session.scalars(select(RakutenOffer).where(RakutenOffer.shop_id == shop.id,
                                                             RakutenOffer.push_error.is_not(None))
                                  .order_by(RakutenOffer.sku).limit(500)).all()
    unmatched = db.session.scalars(select(RakutenOffer).where(
        RakutenOffer.shop_id == shop.id, RakutenOffer.variant_id.is_(None), RakutenOffer.imported_at.is_not(None))
        .order_by(RakutenOffer.sku).limit(500)).all()
    listed = db.session.scalar(select(db.func.count()).select_from(RakutenOffer).where(
        RakutenOffer.shop_id == shop.id, RakutenOffer.imported_at.is_not(None))) or 0
    confirmed = db.session.scalar(select(db.func.count()).select_from(RakutenOffer).where(
        RakutenOffer.shop_id == shop.id, RakutenOffer.pushed_at.is_not(None))) or 0
    return render_template("rakuten/shop.html", shop=shop, items=items, imports=imports, rejected=rejected,
                           confirmed=confirmed, unmatched=unmatched, listed=listed, action=ActionForm())


_ACTIONS = {
    "reconcile": ("addons.rakuten.jobs.reconcile_stock", "rakuten-reconcile-{id}",
                  _l("Comparaison du stock lancée : les références différentes seront renvoyées.")),
    "retry": ("addons.rakuten.jobs.retry_import_errors", "rakuten-retry-{id}",
              _l("Les références en erreur seront renvoyées à Rakuten.")),
    "import": ("addons.rakuten.jobs.import_listings", "rakuten-import_listings-{id}",
               _l("Import des annonces Rakuten lancé.")),
}


@bp.route("/shops/<shop_id>/<any(reconcile, retry, import):action>", methods=["POST"])
@addon_required("rakuten")
def run_action(shop_id: str, action: str):
    shop = _rakuten_shop(shop_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    func, job_id, message = _ACTIONS[action]
    enqueue(func, shop.id, job_id=job_id.format(id=shop.id), unique=True, shop_id=shop.id)
    db.session.commit()
    flash(str(message), "success")
    return redirect(url_for(".shop_page", shop_id=shop.id))


def _offer(shop: Shop, offer_id: int) -> RakutenOffer:
    offer = db.session.get(RakutenOffer, offer_id)
    if offer is None or offer.shop_id != shop.id:
        abort(404)
    return offer


@bp.route("/shops/<shop_id>/offers/<int:offer_id>/fix", methods=["POST"])
@addon_required("rakuten")
def fix_offer(shop_id: str, offer_id: int):
    """Fix an unmatched advert: it is the OMS variant with the SKU typed, or a product made from it."""
    shop = _rakuten_shop(shop_id)
    offer = _offer(shop, offer_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    listing = listing_fixes.RemoteListing(sku=offer.sku, title=offer.title, price=offer.price, barcode=offer.ean)

    def attach(variant) -> None:
        offer.variant_id = variant.id

    return listing_fix.answer(shop, listing, url_for(".shop_page", shop_id=shop.id), attach)
