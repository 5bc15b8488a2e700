"""The integrations catalog ("Intégrations › Marketplace"): cards, activation, settings,
connection tests, sync log."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from ..addons import CATEGORIES, Addon, registry
from ..extensions import db
from ..jobs import retry_log_entry
from ..models import Shop, SyncLog, SyncMode
from ..security import safe_next
from ..services import AccountAlreadyConnected, ServiceError, create_shop, setting_changes, get_addon, save_settings, set_enabled, sync_now, test_connection
from ..tenancy import MANAGERS, get_owned, roles_required, scoped

bp = Blueprint("integrations", __name__, url_prefix="/integrations")

SYNC_MODE_LABELS = {
    SyncMode.WEBHOOK.value: _l("Temps réel (webhooks)"),
    SyncMode.EVERY_15_MIN.value: _l("Toutes les 15 minutes"),
    SyncMode.HOURLY.value: _l("Toutes les heures"),
    SyncMode.MANUAL.value: _l("Manuelle"),
}


class ShopForm(FlaskForm):
    name = StringField(_l("Nom de la boutique"), validators=[DataRequired(), Length(max=120)])
    marketplace = StringField(_l("Marketplace ou pays"), validators=[Optional(), Length(max=64)])
    sync_mode = SelectField(_l("Fréquence de synchronisation"), choices=list(SYNC_MODE_LABELS.items()),
                            default=SyncMode.EVERY_15_MIN.value)


class ActionForm(FlaskForm):
    """CSRF-only form for the POST buttons."""


def _shops() -> list[Shop]:
    return list(db.session.scalars(scoped(Shop).order_by(Shop.name)).all())


def _card(addon: Addon, shops: list[Shop]) -> dict:
    rows = [(s, s.addon_row(addon.name)) for s in shops]
    used = [(s, r) for s, r in rows if (s.addon == addon.name) or (r is not None and r.active)]
    if not used:
        status = "not_configured"
    elif any(r is not None and r.status.value == "error" for _s, r in used):
        status = "error"
    elif any(r is not None and r.status.value == "connected" for _s, r in used):
        status = "connected"
    else:
        status = "not_configured"
    last_error = next((r.last_error for _s, r in used if r is not None and r.last_error), None)
    return {"addon": addon, "status": status, "shops": used, "last_error": last_error,
            "app_url": app_url(addon) if used else None}


def app_url(addon: Addon) -> str | None:
    """The add-on's own pages: the ``index`` view of a blueprint named after it, if any."""
    endpoint = f"{addon.name}.index"
    return url_for(endpoint) if endpoint in current_app.view_functions else None


@bp.route("/")
@roles_required(*MANAGERS)
def catalog():
    q = request.args.get("q", "").strip().lower()
    category = request.args.get("category", "")
    shops = _shops()
    cards = []
    for addon in sorted(registry().loaded(), key=lambda a: (a.category, a.title.lower())):
        if category and addon.category != category:
            continue
        summaries = addon.manifest.get("summaries") or {}
        haystack = " ".join([addon.name, addon.title, addon.manifest.get("summary", ""),
                             *[v for v in summaries.values() if isinstance(v, str)]]).lower()
        if q and q not in haystack:
            continue
        cards.append(_card(addon, shops))
    broken = [a for a in registry().addons.values() if not a.ok]
    return render_template("integrations/catalog.html", cards=cards, broken=broken, q=q,
                           category=category, categories=CATEGORIES, shops=shops)


def _addon_or_404(name: str) -> Addon:
    try:
        return get_addon(name)
    except ServiceError:
        abort(404)


@bp.route("/<name>")
@roles_required(*MANAGERS)
def addon(name: str):
    a = _addon_or_404(name)
    shops = _shops()
    return render_template("integrations/addon.html", addon=a, card=_card(a, shops), shops=shops,
                           shop_form=ShopForm(), action=ActionForm(), sync_modes=SYNC_MODE_LABELS,
                           categories=CATEGORIES)


@bp.route("/<name>/icon")
@roles_required(*MANAGERS)
def icon(name: str):
    path = _addon_or_404(name).icon_path()
    if path is None:
        abort(404)
    return send_file(path, max_age=3600)


@bp.route("/<name>/shops", methods=["POST"])
@roles_required(*MANAGERS)
def add_shop(name: str):
    _addon_or_404(name)
    form = ShopForm()
    if not form.validate_on_submit():
        flash(_("Vérifiez le formulaire : %(errors)s", errors="; ".join(
            f"{k}: {', '.join(v)}" for k, v in form.errors.items())), "error")
        return redirect(url_for(".addon", name=name))
    try:
        shop = create_shop(current_user.organization, name, form.name.data.strip(),
                           marketplace=form.marketplace.data or None, sync_mode=form.sync_mode.data)
    except ServiceError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".addon", name=name))
    db.session.commit()
    flash(_("Boutique « %(shop)s » créée : renseignez ses paramètres.", shop=shop.name), "success")
    return redirect(url_for(".configure", name=name, shop_id=shop.id))


@bp.route("/<name>/shops/<shop_id>/<any(enable, disable):action>", methods=["POST"])
@roles_required(*MANAGERS)
def toggle(name: str, shop_id: str, action: str):
    _addon_or_404(name)
    shop = get_owned(Shop, shop_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        set_enabled(shop, name, action == "enable")
    except ServiceError as exc:
        flash(str(exc), "error")
        return redirect(url_for(".addon", name=name))
    db.session.commit()
    flash(_("Activé pour %(shop)s.", shop=shop.name) if action == "enable"
          else _("Désactivé pour %(shop)s (paramètres et données conservés).", shop=shop.name), "success")
    return redirect(safe_next(url_for(".addon", name=name)))


@bp.route("/<name>/shops/<shop_id>/configure", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def configure(name: str, shop_id: str):
    a = _addon_or_404(name)
    shop = get_owned(Shop, shop_id)
    form_cls = registry().call_one(name, "register_settings_form")
    if form_cls is None:
        flash(_("Cet add-on n'a pas de paramètres."), "info")
        return redirect(url_for(".addon", name=name))
    row = shop.addon_row(name)
    form = form_cls(data=(row.settings if row else {}))
    secret_fields = {f.name for f in form if isinstance(f, PasswordField)}
    if form.validate_on_submit():
        data = {f.name: f.data for f in form if f.name != "csrf_token" and f.type not in ("SubmitField",)}
        cleared = set(request.form.getlist("clear_secret")) & secret_fields
        try:
            save_settings(shop, name, data, secret_fields, clear=cleared)
        except AccountAlreadyConnected as exc:
            db.session.rollback()
            flash(_("Ce compte est déjà connecté à la boutique « %(shop)s » : ouvrez-la plutôt "
                    "que d'en créer une seconde (chaque commande serait importée deux fois et le "
                    "stock réservé deux fois).", shop=exc.holder.name), "error")
            return render_template("integrations/configure.html", addon=a, shop=shop, form=form,
                                   secret_fields=secret_fields,
                                   stored_secrets=set((row.secrets or {}).keys()) if row else set())
        db.session.commit()
        if request.form.get("then") == "test":
            return _run_test(a, shop)
        flash(_("Paramètres enregistrés."), "success")
        return redirect(url_for(".addon", name=name))
    stored_secrets = set((row.secrets or {}).keys()) if row else set()
    return render_template("integrations/configure.html", addon=a, shop=shop, form=form,
                           secret_fields=secret_fields, stored_secrets=stored_secrets)


def _run_test(a: Addon, shop: Shop):
    result = test_connection(shop, a.name)
    db.session.commit()
    if result.ok:
        flash(_("Connexion réussie : %(msg)s", msg=result.message), "success")
    else:
        flash(_("Échec de la connexion : %(msg)s", msg=result.message), "error")
    return render_template("integrations/test_result.html", addon=a, shop=shop, result=result)


@bp.route("/<name>/shops/<shop_id>/test", methods=["POST"])
@roles_required(*MANAGERS)
def test(name: str, shop_id: str):
    a = _addon_or_404(name)
    shop = get_owned(Shop, shop_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    return _run_test(a, shop)


@bp.route("/shops/<shop_id>/sync", methods=["POST"])
@roles_required(*MANAGERS)
def sync(shop_id: str):
    shop = get_owned(Shop, shop_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    try:
        sync_now(shop)
    except ServiceError as exc:
        flash(str(exc), "error")
    else:
        db.session.commit()
        flash(_("Synchronisation lancée pour %(shop)s.", shop=shop.name), "success")
    return redirect(url_for(".sync_log", shop_id=shop.id))


@bp.route("/shops/<shop_id>/log")
@roles_required(*MANAGERS)
def sync_log(shop_id: str):
    shop = get_owned(Shop, shop_id)
    entries = db.session.scalars(select(SyncLog).where(SyncLog.shop_id == shop.id)
                                 .order_by(SyncLog.started_at.desc(), SyncLog.id.desc()).limit(100)).all()
    return render_template("integrations/sync_log.html", shop=shop, entries=entries, action=ActionForm(),
                           changes=_setting_changes(shop))


def _setting_changes(shop: Shop) -> list[tuple[Any, str, str, list[str]]]:
    """The shop's recent settings changes: (when, who, add-on title, field labels)."""
    out = []
    labels: dict[str, dict[str, str]] = {}
    for change in setting_changes(shop):
        if change.addon not in labels:
            form_cls = registry().call_one(change.addon, "register_settings_form")
            labels[change.addon] = ({f.name: str(f.label.text) for f in form_cls(meta={"csrf": False})}
                                    if form_cls is not None else {})
        addon = registry().get(change.addon)
        out.append((change.at, change.by, addon.title if addon else change.addon,
                    [labels[change.addon].get(name, name) for name in change.fields]))
    return out


@bp.route("/log/<entry_id>/retry", methods=["POST"])
@roles_required(*MANAGERS)
def retry(entry_id: str):
    entry = get_owned(SyncLog, entry_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    if entry.func.startswith("hook:"):
        flash(_("Une erreur de hook ne se relance pas : elle se reproduira au prochain évènement."), "info")
    else:
        retry_log_entry(entry)
        db.session.commit()
        flash(_("Tâche relancée."), "success")
    return redirect(url_for(".sync_log", shop_id=entry.shop_id))
