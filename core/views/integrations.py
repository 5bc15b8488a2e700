"""The integrations catalog ("Intégrations › Marketplace"): cards, activation, settings,
connection tests, sync log."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import (Blueprint, Response, abort, current_app, flash, jsonify, redirect, render_template, request,
                   send_file, url_for)
from markupsafe import escape
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import BooleanField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from .. import diagnostics, syncs, wording
from ..addons import CATEGORIES, Addon, catalog_entries, catalog_entry, registry
from ..extensions import db
from ..jobs import retry_log_entry
from ..models import Shop, SyncLog, SyncMode, SyncStatus, utcnow
from ..security import safe_next
from ..services import (AccountAlreadyConnected, ServiceError, create_shop, get_addon, save_settings, set_enabled,
                        set_stock_sync, setting_changes, sync_now, test_connection)
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
    #: the catalog card the shop is created from (an add-on offering several: its entry key)
    entry = StringField(validators=[Optional(), Length(max=64)])
    sync_mode = SelectField(_l("Fréquence de synchronisation"), choices=list(SYNC_MODE_LABELS.items()),
                            default=SyncMode.EVERY_15_MIN.value)


class ActionForm(FlaskForm):
    """CSRF-only form for the POST buttons."""


class ShopSyncForm(FlaskForm):
    """Core's own settings of a channel shop, shown after its add-on's fields on the shop's
    settings page (prefixed ``shop-``, so they never meet an add-on's field names)."""

    class Meta:
        csrf = False  # posted inside the add-on's form, which carries the token

    stock_sync = BooleanField(_l("Sync stock automatique"), description=_l(
        "Envoie au canal le stock disponible à chaque changement, et chaque nuit. Décochée : "
        "aucun stock n'est envoyé à cette boutique (les commandes sont toujours importées)."))
    #: posted as "1" when the page showed the switch: a post without it leaves the switch alone
    shown = HiddenField()


class NoSettingsForm(FlaskForm):
    """The settings page of a channel whose add-on asks for nothing: core's switches alone."""


#: core's settings of a shop, by the name the settings-change history records
CORE_FIELD_LABELS = {"stock_sync": _l("Sync stock automatique")}


def _shops() -> list[Shop]:
    return list(db.session.scalars(scoped(Shop).order_by(Shop.name)).all())


def _card(addon: Addon, shops: list[Shop], entry=None) -> dict:
    rows = [(s, s.addon_row(addon.name)) for s in shops]
    used = [(s, r) for s, r in rows if (s.addon == addon.name) or (r is not None and r.active)]
    if entry is not None:  # one card of several: the shops created for this entry
        used = [(s, r) for s, r in used if s.marketplace == entry.key]
    if not used:
        status = "not_configured"
    elif any(r is not None and r.status.value == "error" for _s, r in used):
        status = "error"
    elif any(r is not None and r.status.value == "connected" for _s, r in used):
        status = "connected"
    else:
        status = "not_configured"
    last_error = next((r.last_error for _s, r in used if r is not None and r.last_error), None)
    return {"addon": addon, "entry": entry, "status": status, "shops": used, "last_error": last_error,
            "shop_links": [(s, r, shop_url(addon.name, s)) for s, r in used],
            "app_url": app_url(addon) if used else None,
            "title": entry.title if entry is not None else addon.title,
            "category": (entry.category or addon.category) if entry is not None else addon.category,
            "url": url_for(".addon", name=addon.name, entry=entry.key if entry is not None else None),
            "icon_url": url_for(".icon", name=addon.name, entry=entry.key if entry is not None else None)}


def _haystack(addon: Addon, entry=None) -> str:
    summaries = addon.manifest.get("summaries") or {}
    words = [addon.name, addon.title, addon.manifest.get("summary", ""),
             *[v for v in summaries.values() if isinstance(v, str)]]
    if entry is not None:
        words = [addon.title, entry.key, entry.title, entry.summary, entry.sector, str(entry.sector_label),
                 *entry.keywords]
    return " ".join(str(w) for w in words).lower()


def shop_url(addon_name: str, shop: Shop) -> str:
    """A shop's own page: its add-on's ``shop_page`` view if any, else its settings."""
    endpoint = f"{addon_name}.shop_page"
    if endpoint in current_app.view_functions:
        return url_for(endpoint, shop_id=shop.id)
    return url_for(".configure", name=addon_name, shop_id=shop.id)


def app_url(addon: Addon) -> str | None:
    """The add-on's own pages: the ``index`` view of a blueprint named after it, if any."""
    endpoint = f"{addon.name}.index"
    return url_for(endpoint) if endpoint in current_app.view_functions else None


@bp.route("/")
@roles_required(*MANAGERS)
def catalog():
    q = request.args.get("q", "").strip().lower()
    category = request.args.get("category", "")
    sector = request.args.get("sector", "")
    shops = _shops()
    cards = []
    sectors: dict[str, str] = {}
    show_examples = bool(current_app.config.get("CATALOG_SHOW_EXAMPLES"))
    for addon in registry().loaded():
        if addon.manifest.get("example") and not show_examples:
            continue  # a developer's example add-on, not a merchant's integration
        entries = catalog_entries(addon) or [None]
        for entry in entries:
            if entry is not None and entry.sector:
                sectors.setdefault(entry.sector, str(entry.sector_label or entry.sector))
            card_category = (entry.category or addon.category) if entry is not None else addon.category
            if category and card_category != category:
                continue
            if sector and (entry is None or entry.sector != sector):
                continue
            if q and q not in _haystack(addon, entry):
                continue
            cards.append(_card(addon, shops, entry))
    cards.sort(key=lambda c: (c["category"], c["title"].lower()))
    broken = [a for a in registry().addons.values() if not a.ok]
    return render_template("integrations/catalog.html", cards=cards, broken=broken, q=q,
                           category=category, categories=CATEGORIES, shops=shops, sector=sector,
                           sectors=sorted(sectors.items(), key=lambda kv: kv[1].lower()))


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
    entry = catalog_entry(a, request.args.get("entry"))
    if request.args.get("entry") and entry is None:
        abort(404)
    form = ShopForm()
    if entry is not None:
        form.entry.data = entry.key
        form.marketplace.data = entry.key
        form.name.data = form.name.data or entry.title
    return render_template("integrations/addon.html", addon=a, card=_card(a, shops, entry), shops=shops,
                           shop_form=form, action=ActionForm(), sync_modes=SYNC_MODE_LABELS,
                           categories=CATEGORIES, entry=entry)


def _placeholder_svg(initials: str, color: str) -> str:
    """The catalog's logo placeholder: the entry's initials on its colour."""
    color = color if color.startswith("#") and len(color) in (4, 7) and all(
        ch in "0123456789abcdefABCDEF" for ch in color[1:]) else "#4f46e5"
    text = escape((initials or "?")[:3].upper())
    return ('<svg xmlns="http://www.w3.org/2000/svg" width="48" height="48" viewBox="0 0 48 48">'
            f'<rect width="48" height="48" rx="10" fill="{color}"/>'
            '<text x="24" y="30" text-anchor="middle" font-family="system-ui, sans-serif" font-size="16" '
            f'font-weight="700" fill="#ffffff">{text}</text></svg>')


@bp.route("/<name>/icon")
@roles_required(*MANAGERS)
def icon(name: str):
    a = _addon_or_404(name)
    entry = catalog_entry(a, request.args.get("entry"))
    if entry is not None:
        if entry.icon and a.path is not None:
            f = (a.path / entry.icon).resolve()
            if f.is_file() and a.path.resolve() in f.parents:
                return send_file(f, max_age=3600)
        res = Response(_placeholder_svg(entry.initials or entry.title[:2], entry.color), mimetype="image/svg+xml")
        res.cache_control.max_age = 3600
        return res
    path = a.icon_path()
    if path is None:
        abort(404)
    return send_file(path, max_age=3600)


@bp.route("/<name>/shops", methods=["POST"])
@roles_required(*MANAGERS)
def add_shop(name: str):
    a = _addon_or_404(name)
    form = ShopForm()
    if not form.validate_on_submit():
        flash(_("Vérifiez le formulaire : %(errors)s", errors="; ".join(
            f"{k}: {', '.join(v)}" for k, v in form.errors.items())), "error")
        return redirect(url_for(".addon", name=name, entry=form.entry.data or None))
    marketplace = form.marketplace.data or None
    if form.entry.data:  # created from one of the add-on's cards: the shop is for that entry
        entry = catalog_entry(a, form.entry.data)
        if entry is None:
            abort(404)
        marketplace = entry.key
    try:
        shop = create_shop(current_user.organization, name, form.name.data.strip(),
                           marketplace=marketplace, sync_mode=form.sync_mode.data)
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
    if form_cls is None and shop.addon == name:
        form_cls = NoSettingsForm  # a channel shop still has core's own switches
    if form_cls is None:
        flash(_("Cet add-on n'a pas de paramètres."), "info")
        return redirect(url_for(".addon", name=name))
    row = shop.addon_row(name)
    form = form_cls(data=(row.settings if row else {}))
    secret_fields = {f.name for f in form if isinstance(f, PasswordField)}
    # the shop's own switches, on its channel add-on's page only
    shop_form = ShopSyncForm(prefix="shop", data={"stock_sync": shop.stock_sync is not False}) \
        if shop.addon == name else None
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
                                   secret_fields=secret_fields, shop_form=shop_form,
                                   stored_secrets=set((row.secrets or {}).keys()) if row else set())
        if shop_form is not None and shop_form.shown.data:
            set_stock_sync(shop, shop_form.stock_sync.data)
        db.session.commit()
        if request.form.get("then") == "test":
            return _run_test(a, shop)
        flash(_("Paramètres enregistrés."), "success")
        return redirect(url_for(".addon", name=name))
    stored_secrets = set((row.secrets or {}).keys()) if row else set()
    return render_template("integrations/configure.html", addon=a, shop=shop, form=form,
                           secret_fields=secret_fields, stored_secrets=stored_secrets, shop_form=shop_form)


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
    status = request.args.get("status", "")
    kind = request.args.get("kind", "")
    period = request.args.get("period", "")
    query = (request.args.get("q") or "").strip()[:100]
    stmt = select(SyncLog).where(SyncLog.shop_id == shop.id)
    if status in {s.value for s in SyncStatus}:
        stmt = stmt.where(SyncLog.status == SyncStatus(status))
    if period in PERIODS:
        stmt = stmt.where(SyncLog.started_at >= utcnow() - PERIODS[period][1])
    if query:
        like = f"%{query.replace('%', '').replace('_', ' ')}%"
        stmt = stmt.where(SyncLog.error.ilike(like) | SyncLog.result.ilike(like) | SyncLog.func.ilike(like))
    rows = db.session.scalars(stmt.order_by(SyncLog.started_at.desc(), SyncLog.id.desc()).limit(500)).all()
    entries = [e for e in rows if not kind or wording.job_kind(e.func) == kind][:100]
    return render_template("integrations/sync_log.html", shop=shop, entries=entries, action=ActionForm(),
                           changes=_setting_changes(shop), filters={"status": status, "kind": kind,
                                                                      "period": period, "q": query},
                           kinds=[(k, label) for k, _n, label in wording.JOB_KINDS], periods=PERIODS,
                           statuses=STATUS_LABELS)


@bp.route("/shops/<shop_id>/progress")
@roles_required(*MANAGERS)
def progress(shop_id: str):
    """The shop's latest import progress (``?unit=products|orders|listings``), for the
    progress partial's poll."""
    shop = get_owned(Shop, shop_id)
    unit = request.args.get("unit") or None
    if unit is not None and unit not in syncs.UNITS:
        abort(404)
    return jsonify(syncs.progress_view(syncs.latest_progress(shop.id, unit)) or {})


@bp.app_template_global("shop_progress")
def shop_progress(shop: Shop, unit: str | None = None) -> dict[str, Any] | None:
    """For ``integrations/_progress.html``: the shop's latest import progress, in words."""
    return syncs.progress_view(syncs.latest_progress(shop.id, unit))


@bp.route("/shops/<shop_id>/diagnostic")
@roles_required(*MANAGERS)
def diagnostic(shop_id: str):
    """The shop's diagnostic: core's checks and its add-ons', green / orange / red."""
    shop = get_owned(Shop, shop_id)
    checks = diagnostics.run(shop)
    db.session.commit()  # an add-on's failed check is kept on the sync log
    return render_template("integrations/diagnostic.html", shop=shop, checks=checks, action=ActionForm(),
                           worst=diagnostics.worst(checks), channel=diagnostics.addon_title(shop.addon))


PERIODS = {"day": (_l("24 dernières heures"), timedelta(days=1)), "week": (_l("7 derniers jours"), timedelta(days=7)),
           "month": (_l("30 derniers jours"), timedelta(days=30))}
STATUS_LABELS = {"ok": _l("Réussie"), "failed": _l("Échec"), "retrying": _l("Nouvel essai prévu"),
                 "interrupted": _l("Interrompue"), "running": _l("En cours"), "queued": _l("En attente")}


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
                    [labels[change.addon].get(name) or str(CORE_FIELD_LABELS.get(name, name))
                     for name in change.fields]))
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
