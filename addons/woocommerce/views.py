"""WooCommerce's pages and endpoints.

* ``/apps/woocommerce/`` and ``/apps/woocommerce/shops/<shop id>``: the shop's WooCommerce page
  (store facts, webhooks, catalogue to match), guarded by ``addon_required``;
* ``/apps/woocommerce/webhooks/<shop id>``: public; the creation ping answered, every other
  delivery's signature checked by the inbox before anything is read or stored.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
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

from .inbox import INBOX, is_ping
from .jobs import webhook_url
from .models import WoocommerceListing, WoocommerceState, WoocommerceWebhook

def N_(text: str) -> str:
    """Marks a message for extraction; translated where it is shown."""
    return text


bp = Blueprint("woocommerce", __name__, template_folder="templates", url_prefix="/apps/woocommerce")


class ActionForm(FlaskForm):
    """CSRF-only form for the POST buttons."""


def _woo_shop(shop_id: str) -> Shop:
    shop = get_owned(Shop, shop_id)
    if shop.addon != "woocommerce":
        abort(404)
    return shop


@bp.route("/")
@addon_required("woocommerce")
def index():
    shop = db.session.scalar(scoped(Shop).where(Shop.addon == "woocommerce").order_by(Shop.name, Shop.id).limit(1))
    if shop is None:
        return redirect(url_for("integrations.addon", name="woocommerce"))
    return redirect(url_for(".shop_page", shop_id=shop.id))


@bp.route("/shops/<shop_id>")
@addon_required("woocommerce")
def shop_page(shop_id: str):
    shop = _woo_shop(shop_id)
    listings = db.session.scalars(select(WoocommerceListing).where(WoocommerceListing.shop_id == shop.id)
                                  .order_by(WoocommerceListing.sku, WoocommerceListing.id)).all()
    webhooks = db.session.scalars(select(WoocommerceWebhook).where(WoocommerceWebhook.shop_id == shop.id)
                                  .order_by(WoocommerceWebhook.topic)).all()
    return render_template("woocommerce/shop.html", shop=shop, state=db.session.get(WoocommerceState, shop.id),
                           webhooks=webhooks, unmatched=[r for r in listings if r.variant_id is None],
                           matched=sum(1 for r in listings if r.variant_id is not None),
                           rejected=[r for r in listings if r.push_error], action=ActionForm(),
                           webhook_url=webhook_url(shop),
                           auth_in_query=bool(shop.addon_settings("woocommerce").get("auth_in_query")))


_ACTIONS = {
    "webhooks": ("addons.woocommerce.jobs.ensure_webhooks", "woocommerce-webhooks-{id}",
                 N_("Vérification des webhooks lancée (créés ou réactivés au besoin).")),
    "catalog": ("addons.woocommerce.jobs.import_catalog", "woocommerce-catalog-{id}",
                N_("Import du catalogue WooCommerce lancé.")),
    "stock": ("addons.woocommerce.jobs.reconcile_stock", "woocommerce-stock-all-{id}",
              N_("Envoi du stock de tous les articles reliés lancé.")),
    "reconcile": ("addons.woocommerce.jobs.reconcile", "woocommerce-reconcile-{id}",
                  N_("Rattrapage lancé : webhooks vérifiés et commandes modifiées relues.")),
}


@bp.route("/shops/<shop_id>/<any(webhooks, catalog, stock, reconcile):action>", methods=["POST"])
@addon_required("woocommerce")
def run_action(shop_id: str, action: str):
    shop = _woo_shop(shop_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    func, job_id, message = _ACTIONS[action]
    enqueue(func, shop.id, job_id=job_id.format(id=shop.id), unique=True, shop_id=shop.id)
    db.session.commit()
    flash(_(message), "success")
    return redirect(url_for(".shop_page", shop_id=shop.id))


@bp.route("/shops/<shop_id>/listings/<int:listing_id>", methods=["POST"])
@addon_required("woocommerce")
def fix_listing(shop_id: str, listing_id: int):
    """An unmatched article: linked to an OMS variant by its SKU, or created as a product."""
    shop = _woo_shop(shop_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    row = db.session.get(WoocommerceListing, listing_id)
    if row is None or row.shop_id != shop.id:
        abort(404)
    listing = listing_fixes.RemoteListing(sku=row.sku or "", title=row.title, barcode=row.barcode)

    def attach(variant) -> None:
        row.variant_id = variant.id
        enqueue("addons.woocommerce.jobs.push_stock", shop.id, [variant.id], shop_id=shop.id)

    return listing_fix.answer(shop, listing, url_for(".shop_page", shop_id=shop.id), attach)


@bp.route("/webhooks/<int:shop_id>", methods=["POST"])
@csrf.exempt
def webhook(shop_id: int):
    body = request.get_data()
    if is_ping(body, request.headers.get, request.form):
        return "", 200  # WooCommerce's ping on creation: nothing to store
    received = INBOX.receive(body, request.headers.get, shop_id=shop_id)
    if received.status != 200:
        db.session.rollback()
        return received.message, received.status
    db.session.commit()
    return "", 200
