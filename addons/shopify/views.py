"""Shopify pages and endpoints: OAuth install and callback, webhooks, product push, the
shops' dashboard."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import PasswordField

from core.connectors import ownership
from core.connectors.guards import addon_required, enabled_for_shop
from core.extensions import csrf, db
from core.inputs import parse_id
from core.jobs import enqueue
from core.models import Product, Shop, VariantBinding, Warehouse, WarehouseKind, utcnow
from core.services import AccountAlreadyConnected, save_settings
from core.tenancy import get_owned, scoped
from core.wording import plain

from . import inbox, locations as shop_locations
from .client import ShopifyError
from .connection import (
    ADDON,
    app_credentials,
    base_url,
    client_for,
    domain as shop_domain,
    mark_connected,
    own_webhook_secrets,
    state_for,
)
from .forms import SettingsForm
from .models import ShopifyLocation, ShopifyPrivacyRequest, ShopifyShopState, ShopifyWebhookInbox
from .oauth import (
    SCOPES,
    OAuthError,
    authorize_url,
    check_callback,
    exchange_code,
    missing_scopes,
    new_state,
    read_state,
)

bp = Blueprint("shopify", __name__, url_prefix="/apps/shopify", template_folder="templates")
NONCE_KEY = "shopify_oauth_nonce"


class ActionForm(FlaskForm):
    """CSRF-only form for the POST buttons."""


def public_url(endpoint: str, **values: Any) -> str:
    """An absolute URL Shopify can reach: ``PUBLIC_URL`` when set (behind a proxy)."""
    root = current_app.config.get("PUBLIC_URL")
    if root:
        return root.rstrip("/") + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)


def _shopify_shop(shop_id: str) -> Shop:
    shop = get_owned(Shop, shop_id)
    if shop.addon != ADDON or not enabled_for_shop(ADDON, shop):
        abort(404)
    return shop


def _shops() -> list[Shop]:
    return list(db.session.scalars(scoped(Shop).where(Shop.addon == ADDON).order_by(Shop.name)))


# ----------------------------------------------------------------------------- dashboard
@bp.route("/")
@addon_required(ADDON)
def index():
    shops = _shops()
    ids = [s.id for s in shops] or [0]
    locations = db.session.scalars(select(ShopifyLocation).where(ShopifyLocation.shop_id.in_(ids))
                                   .order_by(ShopifyLocation.shop_id, ShopifyLocation.name)).all()
    counts = dict(db.session.execute(select(VariantBinding.shop_id, func.count()).where(
        VariantBinding.shop_id.in_(ids)).group_by(VariantBinding.shop_id)).all())
    waiting = dict(db.session.execute(select(ShopifyWebhookInbox.shop_id, func.count()).where(
        ShopifyWebhookInbox.shop_id.in_(ids), ShopifyWebhookInbox.processed_at.is_(None))
        .group_by(ShopifyWebhookInbox.shop_id)).all())
    requests = db.session.scalars(select(ShopifyPrivacyRequest).where(ShopifyPrivacyRequest.shop_id.in_(ids))
                                  .order_by(ShopifyPrivacyRequest.received_at.desc()).limit(50)).all()
    warehouses = dict(db.session.execute(select(Warehouse.id, Warehouse.code).where(
        Warehouse.id.in_([loc.warehouse_id for loc in locations if loc.warehouse_id] or [0]))).all())
    return render_template("shopify/index.html", shops=shops, locations=locations, counts=counts, waiting=waiting,
                           requests=requests, warehouses=warehouses, action=ActionForm())


@bp.route("/shops/<shop_id>")
@addon_required(ADDON)
def shop_page(shop_id: str):
    """One store: its connection and its products, the import's progress while it runs."""
    shop = _shopify_shop(shop_id)
    state = db.session.get(ShopifyShopState, shop.id)
    bound = db.session.scalar(select(func.count()).select_from(VariantBinding).where(
        VariantBinding.shop_id == shop.id)) or 0
    # installed, first import not done yet: the page waits for it to start
    waiting = bool(state and state.installed_at and state.products_synced_at is None)
    return render_template("shopify/shop.html", shop=shop, state=state, bound=bound, waiting=waiting,
                           domain=shop.addon_settings(ADDON).get("shop_domain"), action=ActionForm())


@bp.route("/shops/<shop_id>/<any(import, stock, webhooks):what>", methods=["POST"])
@addon_required(ADDON)
def shop_action(shop_id: str, what: str):
    shop = _shopify_shop(shop_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    if what == "import":
        enqueue("addons.shopify.jobs.import_products", shop.id, True, job_id=f"shopify-import-{shop.id}",
                unique=True, shop_id=shop.id)
        flash(_("Import des produits Shopify lancé pour %(shop)s.", shop=shop.name), "success")
        db.session.commit()
        return redirect(url_for(".shop_page", shop_id=shop.id))
    if what == "webhooks":
        enqueue("addons.shopify.jobs.resubscribe_webhooks", shop.id, public_url(".webhook"),
                job_id=f"shopify-webhooks-{shop.id}", unique=True, shop_id=shop.id)
        flash(_("Réenregistrement des notifications Shopify lancé pour %(shop)s.", shop=shop.name), "success")
    else:
        enqueue("addons.shopify.jobs.push_stock", shop.id, None, job_id=f"shopify-stock-all-{shop.id}",
                unique=True, shop_id=shop.id)
        flash(_("Envoi de tout le stock vers %(shop)s lancé.", shop=shop.name), "success")
    db.session.commit()
    return redirect(url_for(".index"))


# ----------------------------------------------------------------------------- locations → warehouses
def _location_rows(shop: Shop) -> list[ShopifyLocation]:
    return list(db.session.scalars(select(ShopifyLocation).where(ShopifyLocation.shop_id == shop.id)
                                   .order_by(ShopifyLocation.active.desc(), ShopifyLocation.name, ShopifyLocation.id)))


@bp.route("/shops/<shop_id>/locations")
@addon_required(ADDON)
def locations(shop_id: str):
    """The shop's Shopify locations, each mapped to an OMS warehouse (or a new store
    warehouse, or not used), POS stores marked."""
    shop = _shopify_shop(shop_id)
    rows = _location_rows(shop)
    options = shop_locations.warehouse_options(shop)
    return render_template("shopify/locations.html", shop=shop, rows=rows, options=options,
                           proposed={r.id: shop_locations.proposed(shop, r, options) for r in rows},
                           warehouses={w.id: w for w in db.session.scalars(select(Warehouse).where(
                               Warehouse.id.in_([r.warehouse_id for r in rows if r.warehouse_id] or [0])))},
                           store_kind=WarehouseKind.STORE, action=ActionForm())


@bp.route("/shops/<shop_id>/locations/read", methods=["POST"])
@addon_required(ADDON)
def read_locations(shop_id: str):
    """"Relire les emplacements": the shop's locations read from Shopify now (a few queries)."""
    shop = _shopify_shop(shop_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        with client_for(shop) as client:
            rows = shop_locations.sync_locations(shop, client, assign=False)
    except ShopifyError as exc:
        db.session.rollback()
        current_app.logger.warning("shopify locations of shop %s not read: %s", shop.id, exc)
        flash(_("Les emplacements n'ont pas pu être lus chez Shopify : %(error)s", error=plain(str(exc))), "error")
        return redirect(url_for(".locations", shop_id=shop.id))
    db.session.commit()
    flash(_("%(count)s emplacement(s) lu(s) chez Shopify : choisissez l'entrepôt de chacun, puis enregistrez.",
            count=len(rows)), "success")
    return redirect(url_for(".locations", shop_id=shop.id))


@bp.route("/shops/<shop_id>/locations", methods=["POST"])
@addon_required(ADDON)
def save_locations(shop_id: str):
    shop = _shopify_shop(shop_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    choices = {}
    for row in _location_rows(shop):
        target = request.form.get(f"target-{row.id}")
        if target is None:
            continue  # not on the page the merchant saw (read since)
        choices[row.id] = shop_locations.Choice(target.strip(), request.form.get(f"pos-{row.id}") == "1")
    try:
        changed = shop_locations.apply_choices(shop, choices)
    except shop_locations.LocationChoiceError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(url_for(".locations", shop_id=shop.id))
    if changed:
        # the stores' quantities (and the online figure, if the stock target moved) go to Shopify
        enqueue("addons.shopify.jobs.push_stock", shop.id, None, job_id=f"shopify-stock-all-{shop.id}",
                unique=True, shop_id=shop.id)
    db.session.commit()
    flash(_("Emplacements enregistrés : les ventes en magasin et le stock suivent ces entrepôts."), "success")
    return redirect(url_for(".locations", shop_id=shop.id))


@bp.route("/privacy/<request_id>")
@addon_required(ADDON)
def privacy_request(request_id: str):
    entry = db.session.get(ShopifyPrivacyRequest, parse_id(request_id)) if parse_id(request_id) else None
    if entry is None:
        abort(404)
    shop = _shopify_shop(str(entry.shop_id))
    return render_template("shopify/privacy.html", entry=entry, shop=shop)


# ----------------------------------------------------------------------------- install (OAuth)
def _save_posted_settings(shop: Shop) -> bool:
    """The configure form posted to the install button: validate and save it first."""
    if "shop_domain" not in request.form:
        return True
    row = shop.addon_row(ADDON)
    form = SettingsForm(data=(row.settings if row else {}))
    if not form.validate():
        flash(_("Vérifiez les paramètres : %(errors)s", errors="; ".join(
            f"{k} : {', '.join(str(e) for e in v)}" for k, v in form.errors.items())), "error")
        return False
    secret_fields = {f.name for f in form if isinstance(f, PasswordField)}
    data = {f.name: f.data for f in form if f.name not in ("csrf_token", "install")}
    try:
        save_settings(shop, ADDON, data, secret_fields)
    except AccountAlreadyConnected as exc:
        flash(_("Cette boutique Shopify est déjà connectée à « %(shop)s » : ouvrez-la plutôt que "
                "d'en créer une seconde.", shop=exc.holder.name), "error")
        return False
    db.session.flush()
    inbox.forget_targets()  # new app credentials apply to webhooks at once in this process
    return True


@bp.route("/shops/<shop_id>/install", methods=["POST"])
@addon_required(ADDON)
def install(shop_id: str):
    shop = _shopify_shop(shop_id)
    configure = url_for("integrations.configure", name=ADDON, shop_id=shop.id)
    if not _save_posted_settings(shop):
        return redirect(configure)
    try:
        domain = shop_domain(shop)  # refused before any request is made to it
    except ShopifyError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return redirect(configure)
    app = app_credentials(shop)
    if app is None:
        db.session.commit()
        flash(_("Renseignez l'identifiant et le secret client de l'application Shopify (ou configurez "
                "SHOPIFY_API_KEY et SHOPIFY_API_SECRET sur le serveur)."), "error")
        return redirect(configure)
    state_for(shop)
    db.session.commit()
    state, nonce = new_state(current_app.config["SECRET_KEY"], shop.id)
    session[NONCE_KEY] = nonce
    target = authorize_url(domain, app.client_id, public_url(".callback"), state, SCOPES, base_url=base_url(shop))
    return redirect(target, 303)


def _refuse(message: str, status: int = 400):
    return render_template("shopify/refused.html", message=message), status


@bp.route("/oauth/callback")
def callback():
    """Shopify's redirect after the grant. Trusted only through the signed ``state`` (which
    also names the OMS shop), the nonce of this browser's session, the query HMAC and the
    shop domain, checked before the code is exchanged."""
    params: dict[str, Any] = {k: (v if len(v) > 1 else v[0]) for k, v in request.args.lists()}
    try:
        install_state = read_state(current_app.config["SECRET_KEY"], str(params.get("state") or ""),
                                   session.get(NONCE_KEY))
    except OAuthError as exc:
        return _refuse(str(exc))
    shop = db.session.get(Shop, install_state.shop_id)
    if shop is None or shop.addon != ADDON:
        return _refuse(_("Boutique introuvable."), 404)
    if current_user.is_authenticated and current_user.organization_id != shop.organization_id:
        return _refuse(_("Cette installation concerne une boutique d'une autre organisation."), 403)
    if params.get("error"):  # the merchant pressed "Annuler" on Shopify's install screen
        session.pop(NONCE_KEY, None)
        if params.get("error") == "access_denied":
            flash(_("Installation annulée sur Shopify : la boutique %(shop)s n'est pas connectée. Cliquez de nouveau "
                    "sur « Installer sur Shopify » quand vous voulez l'autoriser.", shop=shop.name), "warning")
        else:
            flash(_("Shopify n'a pas terminé l'installation de la boutique %(shop)s : relancez « Installer sur "
                    "Shopify ».", shop=shop.name), "error")
        return redirect(url_for("integrations.configure", name=ADDON, shop_id=shop.id))
    app = app_credentials(shop)
    try:
        domain = shop_domain(shop)
        if app is None:
            raise OAuthError(_("Identifiant et secret client de l'application manquants."))
        code = check_callback(params, secret=app.client_secret, domain=domain)
        grant = exchange_code(domain, app.client_id, app.client_secret, code, base_url=base_url(shop))
    except ShopifyError as exc:
        return _refuse(str(exc))
    session.pop(NONCE_KEY, None)
    if not own_webhook_secrets(shop.addon_settings(ADDON)):
        # the public app: this install is the shop's proof that it owns the domain, so the
        # deliveries the app's shared secret signs for it reach this shop and no other
        try:
            ownership.claim(ADDON, domain, shop)
        except ownership.AccountClaimed:
            db.session.rollback()
            return _refuse(_("La boutique Shopify %(domain)s est déjà reliée à l'OMS par une autre organisation : "
                             "elle doit d'abord désinstaller l'application.", domain=domain), 409)
    missing = missing_scopes(grant.scope)
    shop.credentials = grant.credentials()
    state = state_for(shop)
    state.domain = domain
    state.installed_at, state.uninstalled_at = utcnow(), None
    mark_connected(shop)
    webhook_url = public_url(".webhook")
    enqueue("addons.shopify.jobs.install", shop.id, webhook_url, job_id=f"shopify-install-{shop.id}", unique=True,
            shop_id=shop.id)
    db.session.commit()
    inbox.forget_targets()  # the claim applies to this process's deliveries at once
    if missing:
        flash(_("Shopify a accordé moins d'autorisations que nécessaire (manquantes : %(scopes)s) : certaines "
                "synchronisations échoueront.", scopes=", ".join(missing)), "warning")
    flash(_("Boutique Shopify %(domain)s connectée : import des produits et abonnement aux webhooks en cours.",
            domain=domain), "success")
    return redirect(url_for("integrations.catalog"))


# ----------------------------------------------------------------------------- webhooks
@bp.route("/webhooks", methods=["POST"])
@csrf.exempt
def webhook():
    """Shopify's deliveries (every topic, compliance ones included): 401 unless signed with
    the shop's app secret; stored and answered at once, processed by a job."""
    received = inbox.receive(request.get_data(), request.headers.get)
    if received.status == 200:
        db.session.commit()
    else:
        db.session.rollback()
    return ("", 200) if received.status == 200 else (received.message, received.status)


# ----------------------------------------------------------------------------- products
@bp.route("/products/<product_id>")
@addon_required(ADDON)
def product(product_id: str):
    item = get_owned(Product, product_id)
    shops = _shops()
    variant_ids = [v.id for v in item.variants] or [0]
    bound = db.session.scalars(select(VariantBinding).where(VariantBinding.variant_id.in_(variant_ids),
                                                            VariantBinding.shop_id.in_([s.id for s in shops] or [0])))
    by_shop: dict[int, list[VariantBinding]] = {}
    for b in bound:
        by_shop.setdefault(b.shop_id, []).append(b)
    return render_template("shopify/product.html", product=item, shops=shops, by_shop=by_shop, action=ActionForm())


@bp.route("/products/<product_id>/push", methods=["POST"])
@addon_required(ADDON)
def push_product(product_id: str):
    item = get_owned(Product, product_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    wanted = request.form.get("shop_id")
    shops = [_shopify_shop(wanted)] if wanted else [s for s in _shops() if s.status.value == "connected"]
    for shop in shops:
        enqueue("addons.shopify.jobs.push_product", shop.id, item.id, job_id=f"shopify-product-{shop.id}-{item.id}",
                unique=True, shop_id=shop.id)
    db.session.commit()
    if shops:
        flash(_("Publication de « %(product)s » sur %(shops)s lancée.", product=item.title,
                shops=", ".join(s.name for s in shops)), "success")
    else:
        flash(_("Aucune boutique Shopify connectée."), "error")
    return redirect(url_for(".product", product_id=item.id))
