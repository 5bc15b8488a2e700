"""eBay pages and endpoints.

* ``/apps/ebay/``: the organization's eBay shops (listings, what is not managed, deletions),
  guarded by ``addon_required``;
* ``POST /apps/ebay/shops/<id>/install``: saves the settings and opens eBay's consent page;
* ``POST /apps/ebay/shops/<id>/listings/<listing id>/fix``: a listing without an OMS product
  linked to one (its SKU typed) or made into one (``core.listings``);
* ``/apps/ebay/oauth/callback``: the RuName's "accept URL" (public: trusted through the
  signed ``state`` and the browser's nonce, then the code is exchanged);
* ``/apps/ebay/notifications/<shop id>``: public, the notification destination: GET answers
  eBay's challenge, POST goes through the inbox (signature first).
"""
from __future__ import annotations

import hmac
import secrets

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from wtforms import PasswordField

from core.views import listing_fix
from core import listings as listing_fixes
from core.connectors.guards import addon_required, enabled_for_shop
from core.extensions import csrf, db
from core.jobs import enqueue
from core.models import ConnectionStatus, ReturnReason, Shop
from core.services import AccountAlreadyConnected, save_settings
from core.tenancy import get_owned, scoped

from . import signing
from .client import EbayError, authorize_url, exchange_code
from .connection import ADDON, account_for, hosts, mark, settings, store_grant
from .forms import SettingsForm
from .mapping import return_reason
from .inbox import INBOX
from .models import EbayAccount, EbayAccountDeletion, EbayListing, EbayReturn

bp = Blueprint("ebay", __name__, url_prefix="/apps/ebay", template_folder="templates")
NONCE_KEY = "ebay_oauth_nonce"
STATE_SALT = "ebay-oauth-state"
STATE_MAX_AGE = 900


class ActionForm(FlaskForm):
    """CSRF-only form for the POST buttons."""


#: eBay's return states (ReturnStateEnum) the merchant meets before the OMS return exists;
#: another one is shown as eBay names it
RETURN_STATES = {
    "RETURN_REQUESTED": _l("demandé par l'acheteur"), "WAITING_FOR_RETURN_LABEL": _l("en attente d'étiquette"),
    "RETURN_LABEL_REQUESTED": _l("en attente d'étiquette"), "ITEM_READY_TO_SHIP": _l("prêt à être renvoyé"),
    "ITEM_SHIPPED": _l("renvoyé par l'acheteur"), "ITEM_DELIVERED": _l("colis revenu"),
    "RETURN_REJECTED": _l("refusé"), "CLOSED": _l("clos"),
}
REASON_LABELS = {ReturnReason.SIZE: _l("Taille"), ReturnReason.DEFECT: _l("Défaut"),
                 ReturnReason.NOT_AS_DESCRIBED: _l("Non conforme à la description"),
                 ReturnReason.CHANGED_MIND: _l("Changement d'avis"), ReturnReason.WRONG_ITEM: _l("Erreur d'article")}


def public_url(endpoint: str, **values) -> str:
    root = current_app.config.get("PUBLIC_URL")
    if root:
        return root.rstrip("/") + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)


def _ebay_shop(shop_id: str) -> Shop:
    shop = get_owned(Shop, shop_id)
    if shop.addon != ADDON or not enabled_for_shop(ADDON, shop):
        abort(404)
    return shop


# ----------------------------------------------------------------------------- dashboard
@bp.route("/")
@addon_required(ADDON)
def index():
    shops = list(db.session.scalars(scoped(Shop).where(Shop.addon == ADDON).order_by(Shop.name)))
    ids = [s.id for s in shops] or [0]
    accounts = {a.shop_id: a for a in db.session.scalars(select(EbayAccount).where(EbayAccount.shop_id.in_(ids)))}
    listings = list(db.session.scalars(select(EbayListing).where(EbayListing.shop_id.in_(ids))
                                       .order_by(EbayListing.shop_id, EbayListing.sku).limit(500)))
    deletions = list(db.session.scalars(select(EbayAccountDeletion).where(EbayAccountDeletion.shop_id.in_(ids))
                                        .order_by(EbayAccountDeletion.received_at.desc()).limit(20)))
    waiting = list(db.session.scalars(select(EbayReturn).where(
        EbayReturn.shop_id.in_(ids), EbayReturn.kind == "return", EbayReturn.return_id.is_(None),
        EbayReturn.state != "CLOSED").order_by(EbayReturn.opened_at.desc(), EbayReturn.id.desc()).limit(50)))
    endpoints = {s.id: public_url(".notifications", shop_id=s.id) for s in shops}
    return render_template("ebay/index.html", shops=shops, accounts=accounts, listings=listings,
                           deletions=deletions, endpoints=endpoints, callback=public_url(".callback"),
                           action=ActionForm(), waiting=waiting, return_states=RETURN_STATES,
                           reasons={r.external_id: REASON_LABELS[return_reason(r.reason)] for r in waiting})


@bp.route("/shops/<shop_id>/<any(listings, stock, migrate, notifications):what>", methods=["POST"])
@addon_required(ADDON)
def shop_action(shop_id: str, what: str):
    shop = _ebay_shop(shop_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    if what == "listings":
        enqueue("addons.ebay.jobs.import_listings", shop.id, job_id=f"ebay-listings-{shop.id}", unique=True,
                shop_id=shop.id)
        flash(_("Lecture des annonces eBay lancée pour %(shop)s.", shop=shop.name), "success")
    elif what == "stock":
        enqueue("addons.ebay.jobs.push_stock", shop.id, True, job_id=f"ebay-push_stock_all-{shop.id}", unique=True,
                shop_id=shop.id)
        flash(_("Envoi de tout le stock vers %(shop)s lancé.", shop=shop.name), "success")
    elif what == "migrate":
        enqueue("addons.ebay.jobs.migrate_listings", shop.id, job_id=f"ebay-migrate-{shop.id}", unique=True,
                shop_id=shop.id)
        flash(_("Migration des annonces vers l'API Inventory demandée à eBay."), "success")
    else:
        enqueue("addons.ebay.jobs.subscribe", shop.id, public_url(".notifications", shop_id=shop.id),
                job_id=f"ebay-subscribe-{shop.id}", unique=True, shop_id=shop.id)
        flash(_("Abonnement aux notifications eBay lancé."), "success")
    db.session.commit()
    return redirect(url_for(".index"))


@bp.route("/shops/<shop_id>/listings/<int:listing_id>/fix", methods=["POST"])
@addon_required(ADDON)
def fix_listing(shop_id: str, listing_id: int):
    """A listing without an OMS product: linked to the variant of the SKU typed, or created
    as a product from the listing (SKU, title, price)."""
    shop = _ebay_shop(shop_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    listing = db.session.get(EbayListing, listing_id)
    if listing is None or listing.shop_id != shop.id:
        abort(404)
    remote = listing_fixes.RemoteListing(sku=listing.sku, title=listing.title, price=listing.price,
                                         currency=listing.currency or "EUR")

    def attach(variant) -> None:
        from .jobs import mark_pending

        listing.variant_id = variant.id
        mark_pending(shop, [variant.id])
        enqueue("addons.ebay.jobs.push_stock", shop.id, job_id=f"ebay-push_stock-{shop.id}", unique=True,
                shop_id=shop.id)

    return listing_fix.answer(shop, remote, url_for(".index", _anchor=f"listing-{listing_id}"), attach)


# ----------------------------------------------------------------------------- install (OAuth)
def _save_posted_settings(shop: Shop) -> bool:
    if "client_id" not in request.form:
        return True
    row = shop.addon_row(ADDON)
    form = SettingsForm(data=(row.settings if row else {}))
    if not form.validate():
        flash(_("Vérifiez les paramètres : %(errors)s", errors="; ".join(
            f"{getattr(form, k).label.text} : {', '.join(str(e) for e in v)}" for k, v in form.errors.items())),
            "error")
        return False
    secret_fields = {f.name for f in form if isinstance(f, PasswordField)}
    data = {f.name: f.data for f in form if f.name not in ("csrf_token", "install")}
    try:
        save_settings(shop, ADDON, data, secret_fields)
    except AccountAlreadyConnected as exc:
        flash(_("Ce compte eBay est déjà connecté à « %(shop)s » : ouvrez-la plutôt que d'en créer une seconde.",
                shop=exc.holder.name), "error")
        return False
    db.session.flush()
    return True


@bp.route("/shops/<shop_id>/install", methods=["POST"])
@addon_required(ADDON)
def install(shop_id: str):
    shop = _ebay_shop(shop_id)
    configure = url_for("integrations.configure", name=ADDON, shop_id=shop.id)
    if not _save_posted_settings(shop):
        db.session.rollback()
        return redirect(configure)
    conf = settings(shop)
    if not (conf.get("client_id") and conf.get("client_secret") and conf.get("ru_name")):
        db.session.commit()
        flash(_("Renseignez l'App ID, le Cert ID et le RuName de votre application eBay."), "error")
        return redirect(configure)
    try:
        where = hosts(shop)
    except EbayError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(configure)
    if not conf.get("verification_token"):
        from .jobs import new_verification_token

        save_settings(shop, ADDON, {"verification_token": new_verification_token()}, {"verification_token"})
    db.session.commit()
    nonce = secrets.token_hex(16)
    session[NONCE_KEY] = nonce
    state = URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=STATE_SALT).dumps(
        {"shop": shop.id, "nonce": nonce})
    return redirect(authorize_url(where, conf["client_id"], conf["ru_name"], state), 303)


def _refuse(message: str, status: int = 400):
    return render_template("ebay/refused.html", message=message), status


@bp.route("/oauth/callback")
def callback():
    """eBay's redirect after consent (the RuName's accept URL): ``code`` and ``state``; a
    declined consent comes back with ``error``."""
    try:
        data = URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=STATE_SALT).loads(
            request.args.get("state") or "", max_age=STATE_MAX_AGE)
    except SignatureExpired:
        return _refuse(_("Le lien d'autorisation a expiré : relancez « Installer sur eBay » depuis l'OMS."))
    except BadSignature:
        return _refuse(_("Paramètre « state » invalide : cette autorisation n'a pas été demandée par l'OMS."))
    expected = session.get(NONCE_KEY)
    if not expected or not hmac.compare_digest(str(data.get("nonce", "")), expected):
        return _refuse(_("Autorisation inattendue pour cette session : relancez « Installer sur eBay » dans le même "
                         "navigateur."))
    shop = db.session.get(Shop, int(data["shop"]))
    if shop is None or shop.addon != ADDON:
        return _refuse(_("Boutique introuvable."), 404)
    if current_user.is_authenticated and current_user.organization_id != shop.organization_id:
        return _refuse(_("Cette autorisation concerne une boutique d'une autre organisation."), 403)
    if request.args.get("error") or not request.args.get("code"):
        return _refuse(_("L'autorisation a été refusée sur eBay : la boutique n'est pas connectée."))
    conf = settings(shop)
    try:
        grant = exchange_code(hosts(shop), conf.get("client_id") or "", conf.get("client_secret") or "",
                              request.args["code"], conf.get("ru_name") or "", shop_id=shop.id)
    except EbayError as exc:
        return _refuse(str(exc))
    session.pop(NONCE_KEY, None)
    store_grant(shop, grant)
    mark(shop, ConnectionStatus.CONNECTED)
    from core.models import utcnow

    account_for(shop).connected_at = utcnow()
    enqueue("addons.ebay.jobs.after_install", shop.id, public_url(".notifications", shop_id=shop.id),
            job_id=f"ebay-install-{shop.id}", unique=True, shop_id=shop.id)
    db.session.commit()
    flash(_("Compte eBay %(user)s connecté : lecture des annonces et des commandes en cours.",
            user=conf.get("username") or ""), "success")
    return redirect(url_for("integrations.catalog"))


# ----------------------------------------------------------------------------- notifications
@bp.route("/notifications/<int:shop_id>", methods=["GET", "POST"])
@csrf.exempt
def notifications(shop_id: int):
    if request.method == "GET":
        shop = db.session.get(Shop, shop_id)
        code = request.args.get("challenge_code") or ""
        token = settings(shop).get("verification_token") if shop is not None and shop.addon == ADDON else None
        if not code or not token:
            abort(404)
        endpoint = public_url(".notifications", shop_id=shop_id)
        return jsonify({"challengeResponse": signing.challenge_response(code, token, endpoint)})
    received = INBOX.receive(request.get_data(), request.headers.get, shop_id=shop_id)
    if received.status in (200, 204):
        db.session.commit()
        return "", 204
    db.session.rollback()
    return received.message, received.status
