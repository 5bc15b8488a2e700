"""The Amazon pages of a shop (listings matched or not, stock feeds and their errors,
notifications) and the endpoint where the notification relay delivers ORDER_CHANGE."""
from __future__ import annotations

from flask import Blueprint, abort, flash, jsonify, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm
from sqlalchemy import select

from core.views import listing_fix
from core import listings as listing_fixes
from core.connectors.guards import addon_required
from core.extensions import csrf, db
from core.jobs import enqueue
from core.models import Shop
from core.tenancy import get_owned, scoped

from . import notifications
from .catalog import match_listings
from .client import EU_MARKETPLACES
from .models import AmazonCatalogImport, AmazonFeed, AmazonListing, AmazonSyncState
from .stock_sync import mark_pending

bp = Blueprint("amazon", __name__, template_folder="templates", url_prefix="/apps/amazon")


class ActionForm(FlaskForm):
    """CSRF-only form for the POST buttons."""


def _amazon_shop(shop_id: str) -> Shop:
    shop = get_owned(Shop, shop_id)  # the add-on is enabled for it (addon_required)
    if shop.addon != "amazon":
        abort(404)
    return shop


@bp.route("/")
@addon_required("amazon")
def index():
    """The Amazon area: the first Amazon account's page (the others are linked from it)."""
    shop = db.session.scalar(scoped(Shop).where(Shop.addon == "amazon").order_by(Shop.name, Shop.id).limit(1))
    if shop is None:
        return redirect(url_for("integrations.addon", name="amazon"))
    return redirect(url_for(".shop_page", shop_id=shop.id))


@bp.route("/shops/<shop_id>")
@addon_required("amazon")
def shop_page(shop_id: str, new_relay_secret: str | None = None):
    shop = _amazon_shop(shop_id)
    last_import = db.session.scalar(select(AmazonCatalogImport).where(AmazonCatalogImport.shop_id == shop.id)
                                    .order_by(AmazonCatalogImport.id.desc()).limit(1))
    unmatched = db.session.scalars(select(AmazonListing).where(
        AmazonListing.shop_id == shop.id, AmazonListing.variant_id.is_(None), AmazonListing.is_parent.is_(False))
        .order_by(AmazonListing.sku, AmazonListing.marketplace_id)).all()
    matched_count = db.session.scalar(select(db.func.count()).select_from(AmazonListing).where(
        AmazonListing.shop_id == shop.id, AmazonListing.variant_id.is_not(None))) or 0
    rejected = db.session.scalars(select(AmazonListing).where(
        AmazonListing.shop_id == shop.id, AmazonListing.push_error.is_not(None)).order_by(AmazonListing.sku)).all()
    feeds = db.session.scalars(select(AmazonFeed).where(AmazonFeed.shop_id == shop.id)
                               .order_by(AmazonFeed.id.desc()).limit(10)).all()
    state = db.session.get(AmazonSyncState, shop.id)
    others = db.session.scalars(scoped(Shop).where(Shop.addon == "amazon", Shop.id != shop.id)
                                .order_by(Shop.name, Shop.id)).all()
    return render_template("amazon/shop.html", shop=shop, others=others, last_import=last_import, unmatched=unmatched,
                           matched_count=matched_count, rejected=rejected, feeds=feeds, state=state,
                           subscription=notifications.subscription(shop), action=ActionForm(),
                           marketplace_names={m.id: m.name for m in EU_MARKETPLACES},
                           new_relay_secret=new_relay_secret,
                           queue_arn=shop.addon_settings("amazon").get("notification_queue_arn") or "")


_ACTIONS = {
    "import": ("addons.amazon.jobs.import_listings", "amazon-import_listings-{id}",
               "Import des annonces lancé."),
    "reconcile": ("addons.amazon.jobs.reconcile_stock", "amazon-reconcile_stock-{id}",
                  "Réconciliation du stock lancée (FBA lu chez Amazon, FBM renvoyé)."),
}


@bp.route("/shops/<shop_id>/<any(import, reconcile):action>", methods=["POST"])
@addon_required("amazon")
def run_action(shop_id: str, action: str):
    shop = _amazon_shop(shop_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    func, job_id, message = _ACTIONS[action]
    enqueue(func, shop.id, job_id=job_id.format(id=shop.id), unique=True, shop_id=shop.id)
    db.session.commit()
    flash(_(message), "success")
    return redirect(url_for(".shop_page", shop_id=shop.id))


@bp.route("/shops/<shop_id>/listings/<int:listing_id>/fix", methods=["POST"])
@addon_required("amazon")
def fix_listing(shop_id: str, listing_id: int):
    """A listing without product: its SKU linked to the variant of the SKU typed, or a product
    created from what the listings report said of it (title, price, barcode). Every
    marketplace's listing of that SKU follows, and its stock is pushed to Amazon."""
    shop = _amazon_shop(shop_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    listing = db.session.get(AmazonListing, listing_id)
    if listing is None or listing.shop_id != shop.id:
        abort(404)
    remote = listing_fixes.RemoteListing(sku=listing.sku, title=listing.title or None, price=listing.price,
                                         currency=listing.currency or "EUR", barcode=listing.barcode)

    def attach(variant) -> None:
        counts = match_listings(shop)  # binds the SKU (ASIN and offers kept on the binding)
        last_import = db.session.scalar(select(AmazonCatalogImport).where(AmazonCatalogImport.shop_id == shop.id)
                                        .order_by(AmazonCatalogImport.id.desc()).limit(1))
        if last_import is not None and last_import.state == "done":
            last_import.listings, last_import.matched, last_import.unmatched = counts
        mark_pending(shop, [variant.id])
        enqueue("addons.amazon.jobs.push_stock", shop.id, job_id=f"amazon-push_stock-{shop.id}", unique=True,
                shop_id=shop.id)

    return listing_fix.answer(shop, remote, url_for(".shop_page", shop_id=shop.id, _anchor="unmatched"), attach)


@bp.route("/shops/<shop_id>/subscribe", methods=["POST"])
@addon_required("amazon")
def subscribe(shop_id: str):
    shop = _amazon_shop(shop_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    arn = shop.addon_settings("amazon").get("notification_queue_arn")
    if not arn:
        flash(_("Renseignez d'abord la file SQS des notifications dans les paramètres de la boutique."), "error")
    else:
        enqueue("addons.amazon.jobs.subscribe_notifications", shop.id, arn, job_id=f"amazon-subscribe-{shop.id}",
                unique=True, shop_id=shop.id)
        db.session.commit()
        flash(_("Abonnement aux notifications ORDER_CHANGE demandé."), "success")
    return redirect(url_for(".shop_page", shop_id=shop.id))


@bp.route("/shops/<shop_id>/relay-secret", methods=["POST"])
@addon_required("amazon")
def relay_secret(shop_id: str):
    """A new relay secret, shown on this answer only (stored encrypted, never shown again)."""
    shop = _amazon_shop(shop_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    secret = notifications.new_relay_secret(shop)
    if secret is None:
        flash(_("Abonnez d'abord la boutique aux notifications."), "error")
        return redirect(url_for(".shop_page", shop_id=shop.id))
    db.session.commit()
    response = make_response(shop_page(shop_id, new_relay_secret=secret))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/notifications/<int:shop_id>", methods=["POST"])
@csrf.exempt
def notification(shop_id: int):
    """Where the relay of the merchant's SQS queue delivers ORDER_CHANGE notifications:
    checked, stored and answered at once, processed by a job (the connector kit's inbox)."""
    received = notifications.INBOX.receive(request.get_data(), request.headers.get, shop_id=shop_id)
    if received.status != 200:
        db.session.rollback()
        if received.status == 404:
            abort(404)
        return jsonify({"accepted": False, "reason": received.message}), received.status
    db.session.commit()
    order_id = notifications.order_change(received.payload).get("AmazonOrderId")
    return jsonify({"accepted": True, "duplicate": received.duplicate, "amazonOrderId": order_id}), 202
