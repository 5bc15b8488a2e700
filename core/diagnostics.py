"""A shop's diagnostic: the guide's "problèmes courants", checked one by one and said in the
merchant's words, each a green, orange or red line with where it is fixed.

Core checks what it knows of every shop (its connection, the last order import against its
sync period, the "Sync stock automatique" switch and the last stock push, the orders held and
why, the SKUs no product matches); each add-on enabled for the shop adds its own through the
``shop_diagnose`` hook (Amazon: the marketplaces chosen against the seller's real ones).
The page is ``/integrations/shops/<id>/diagnostic``; ``oms shops diagnose N`` prints the same
lines.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import url_for
from flask_babel import format_datetime, format_timedelta, gettext as _, lazy_gettext as _l, ngettext
from sqlalchemy import func, select

from . import wording
from .addons import call, registry
from .extensions import db
from .models import (
    SYNC_INTERVALS,
    ConnectionStatus,
    Order,
    OrderLine,
    OrderStatus,
    Shop,
    SyncLog,
    SyncMode,
    SyncStatus,
    utcnow,
)

log = logging.getLogger(__name__)

LEVELS = ("error", "warn", "ok")
#: an import older than this is red whatever the shop's sync period
STALE_AFTER = timedelta(days=1)
#: orange once this many sync periods have gone by without an import
PERIODS_LATE = 2
#: why an order waits (``Order.hold_code``), as the merchant reads it
HOLD_LABELS = {
    "unknown_sku": _l("SKU inconnu"),
    "backorder": _l("Rupture de stock"),
    "no_source": _l("Aucun entrepôt ne peut servir"),
    "manual": _l("Mise en attente manuelle"),
}
_HOLD_LEVEL = {"unknown_sku": "error", "no_source": "error"}
#: SKUs named one by one before "…"
SKUS_SHOWN = 10


@dataclass(frozen=True)
class Check:
    """One line of a diagnostic: ``level`` is ok (green), warn (orange) or error (red);
    ``title`` and ``detail`` are sentences for the merchant; ``fix_url`` the page where it is
    fixed, ``fix_label`` its link's words."""

    level: str
    title: str
    detail: str = ""
    fix_url: str | None = None
    fix_label: str = ""

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise ValueError(f"a check's level is one of {', '.join(LEVELS)}, not {self.level!r}")


def run(shop: Shop, now: datetime | None = None) -> list[Check]:
    """Core's checks of ``shop``, then every enabled add-on's (``shop_diagnose``). An add-on
    whose check fails is isolated (its error on the shop's sync log) and named as a line."""
    now = now or utcnow()
    checks = [connection(shop), last_import(shop, now), stock_sync(shop), *held_orders(shop),
              unknown_skus(shop)]
    before = _isolated_failures(shop)
    for extra in call(shop, "shop_diagnose"):
        checks += [c for c in (extra or []) if isinstance(c, Check)]
    if _isolated_failures(shop) > before:
        checks.append(Check("warn", _("Une vérification n'a pas pu aboutir"),
                            _("Le détail est dans le journal de synchronisation ; réessayez dans un instant."),
                            _url("integrations.sync_log", shop_id=shop.id), _("Ouvrir le journal")))
    return checks


def worst(checks: list[Check]) -> str:
    """The gravest level among ``checks`` ("ok" when there are none)."""
    return next((level for level in LEVELS if any(c.level == level for c in checks)), "ok")


# ----------------------------------------------------------------------------- core's checks
def connection(shop: Shop) -> Check:
    """Credentials and connection, as the last connection test or sync left them."""
    title = addon_title(shop.addon)
    settings_url = _url("integrations.configure", name=shop.addon, shop_id=shop.id)
    row = shop.addon_row(shop.addon)
    raw = shop.last_error or (row.last_error if row is not None else None)
    error = _sentence(wording.plain(raw)) if raw else ""
    if shop.status == ConnectionStatus.NOT_CONFIGURED:
        return Check("error", _("Boutique pas encore connectée"),
                     _("Renseignez les identifiants de votre compte %(channel)s puis cliquez sur « Enregistrer et "
                       "tester la connexion ».", channel=title), settings_url, _("Configurer"))
    if shop.status == ConnectionStatus.DISCONNECTED:
        return Check("warn", _("Boutique déconnectée"),
                     _("Aucune commande n'est importée et aucun stock n'est envoyé tant qu'elle n'est pas "
                       "reconnectée."), settings_url, _("Reconnecter"))
    if shop.status == ConnectionStatus.ERROR:
        return Check("error", _("La connexion à %(channel)s échoue", channel=title),
                     error or _("Vérifiez les identifiants puis testez la connexion."), settings_url,
                     _("Vérifier les identifiants"))
    checked = row.last_checked_at if row is not None else None
    detail = _("Identifiants acceptés par %(channel)s.", channel=title)
    if checked is not None:
        detail = _("Identifiants acceptés par %(channel)s (dernier test : %(when)s).", channel=title,
                   when=format_datetime(checked, "short"))
    if error:
        return Check("warn", _("Connectée, mais la dernière tâche a échoué"), error,
                     _url("integrations.sync_log", shop_id=shop.id, status="failed"), _("Voir le journal"))
    return Check("ok", _("Connexion à %(channel)s", channel=title), detail)


def last_import(shop: Shop, now: datetime) -> Check:
    """The last successful order import: orange after two sync periods, red after a day."""
    log_url = _url("integrations.sync_log", shop_id=shop.id, kind="orders")
    period = SYNC_INTERVALS.get(shop.sync_mode)
    every = _sync_mode_words(shop.sync_mode)
    last = shop.last_sync_at
    if last is None:
        young = shop.created_at is not None and now - shop.created_at < STALE_AFTER
        return Check("warn" if young or shop.status != ConnectionStatus.CONNECTED else "error",
                     _("Aucune commande importée pour l'instant"),
                     _("La première synchronisation n'a pas encore réussi (synchronisation : %(every)s).",
                       every=every), log_url, _("Voir le journal"))
    age = max(now - last, timedelta(0))
    when = _("Dernière importation réussie : %(when)s (%(ago)s) ; synchronisation : %(every)s.",
             when=format_datetime(last, "short"), ago=format_timedelta(-age, add_direction=True), every=every)
    if age >= STALE_AFTER and shop.sync_mode == SyncMode.MANUAL:
        return Check("warn", _("Synchronisation manuelle : aucune importation depuis plus d'un jour"),
                     when + " " + _("Lancez « Synchroniser maintenant » depuis le journal, ou choisissez une "
                                   "synchronisation automatique."), log_url, _("Voir le journal"))
    if age >= STALE_AFTER:
        return Check("error", _("Les commandes ne sont plus importées depuis plus d'un jour"),
                     when + " " + _("Vérifiez la connexion, puis lancez « Synchroniser maintenant » depuis le "
                                   "journal."), log_url, _("Voir le journal"))
    if period and shop.sync_mode != SyncMode.MANUAL and age >= timedelta(seconds=PERIODS_LATE * period):
        return Check("warn", _("Importation des commandes en retard"),
                     when + " " + _("Plus de deux périodes de synchronisation sont passées sans importation."),
                     log_url, _("Voir le journal"))
    return Check("ok", _("Importation des commandes"), when)


def stock_sync(shop: Shop) -> Check:
    """The "Sync stock automatique" switch, and how the last stock push went."""
    settings_url = _url("integrations.configure", name=shop.addon, shop_id=shop.id)
    title = addon_title(shop.addon)
    if shop.stock_sync is False:
        return Check("warn", _("« Sync stock automatique » désactivée"),
                     _("Aucun stock n'est envoyé à %(channel)s : les quantités affichées sur le canal ne suivent "
                       "plus votre stock. Activez-la dans les paramètres de la boutique.", channel=title),
                     settings_url, _("Activer"))
    last = last_stock_push(shop)
    log_url = _url("integrations.sync_log", shop_id=shop.id, kind="stock")
    if last is None:
        return Check("ok", _("« Sync stock automatique » activée"),
                     _("Aucun envoi de stock pour l'instant : le stock part au premier changement."))
    when = format_datetime(last.finished_at or last.started_at, "short")
    if last.status == SyncStatus.FAILED:
        return Check("error", _("Le dernier envoi de stock a échoué"),
                     _("%(when)s : %(error)s", when=when, error=wording.plain(last.error)), log_url,
                     _("Voir et relancer"))
    if last.status in (SyncStatus.RETRYING, SyncStatus.INTERRUPTED):
        return Check("warn", _("Envoi de stock en cours de nouvel essai"),
                     _("%(when)s : %(error)s", when=when, error=wording.plain(last.error) if last.error
                       else _("interrompu, relancé automatiquement")), log_url, _("Voir le journal"))
    if last.status in (SyncStatus.RUNNING, SyncStatus.QUEUED):
        return Check("ok", _("« Sync stock automatique » activée"),
                     _("Un envoi de stock est en cours (depuis %(when)s).", when=when))
    detail = _("Dernier envoi de stock réussi : %(when)s.", when=when)
    if last.result:
        detail = _("Dernier envoi de stock réussi : %(when)s (%(result)s).", when=when, result=last.result)
    return Check("ok", _("« Sync stock automatique » activée"), detail)


def last_stock_push(shop: Shop) -> SyncLog | None:
    """The shop's most recent stock job on its sync log (push or reconciliation)."""
    rows = db.session.scalars(select(SyncLog).where(SyncLog.shop_id == shop.id, ~SyncLog.func.startswith("hook:"))
                              .order_by(SyncLog.started_at.desc(), SyncLog.id.desc()).limit(200))
    return next((r for r in rows if wording.job_kind(r.func) == "stock"), None)


def held_orders(shop: Shop) -> list[Check]:
    """The shop's orders on hold, one line per reason, each linked to the filtered list."""
    counts = dict(db.session.execute(
        select(Order.hold_code, func.count()).where(Order.shop_id == shop.id, Order.status == OrderStatus.ON_HOLD)
        .group_by(Order.hold_code)).all())
    if not counts:
        return [Check("ok", _("Commandes en attente"), _("Aucune commande de cette boutique n'est en attente."))]
    out = []
    other = sum(n for code, n in counts.items() if code not in HOLD_LABELS)
    for code, label in HOLD_LABELS.items():
        n = counts.get(code, 0)
        if n:
            out.append(Check(_HOLD_LEVEL.get(code, "warn"),
                             ngettext("%(num)s commande en attente : %(reason)s",
                                      "%(num)s commandes en attente : %(reason)s", n, reason=label),
                             str(_HOLD_HELP[code]),
                             _url("main.orders", shop=shop.id, hold=code), _("Voir les commandes")))
    if other:
        out.append(Check("warn", ngettext("%(num)s commande en attente pour une autre raison",
                                          "%(num)s commandes en attente pour une autre raison", other),
                         _("La raison est indiquée sur chaque commande."),
                         _url("main.orders", shop=shop.id, exception="on_hold"), _("Voir les commandes")))
    return out


_HOLD_HELP = {
    "unknown_sku": _l("Associez chaque SKU inconnu à un produit de votre catalogue (depuis la commande) : elles "
                      "reprennent aussitôt."),
    "backorder": _l("Elles reprennent seules dès que du stock entre (réception ou ajustement)."),
    "no_source": _l("Ajoutez un entrepôt au pool de stock de la boutique ou une règle de routage."),
    "manual": _l("Vous les avez mises en attente : libérez-les depuis la commande."),
}


def unknown_skus(shop: Shop) -> Check:
    """SKUs of this shop's held orders that no OMS product matches."""
    rows = db.session.execute(
        select(OrderLine.sku, func.count(func.distinct(OrderLine.order_id)))
        .join(Order, Order.id == OrderLine.order_id)
        .where(Order.shop_id == shop.id, Order.status == OrderStatus.ON_HOLD, Order.hold_code == "unknown_sku",
               OrderLine.variant_id.is_(None))
        .group_by(OrderLine.sku).order_by(OrderLine.sku)).all()
    if not rows:
        return Check("ok", _("SKU reconnus"), _("Chaque article commandé correspond à un produit de l'OMS."))
    named = ", ".join(_("%(sku)s (%(orders)s)", sku=sku,
                        orders=ngettext("%(num)s commande", "%(num)s commandes", n))
                      for sku, n in rows[:SKUS_SHOWN])
    if len(rows) > SKUS_SHOWN:
        named += " …"
    return Check("error", ngettext("%(num)s SKU sans produit dans l'OMS", "%(num)s SKU sans produit dans l'OMS",
                                   len(rows)),
                 _("%(skus)s. Vérifiez que le SKU du canal est le même que celui du produit, ou associez-le au "
                   "produit depuis la commande.", skus=named),
                 _url("main.orders", shop=shop.id, hold="unknown_sku"), _("Associer les SKU"))


# ----------------------------------------------------------------------------- helpers
def addon_title(name: str) -> str:
    addon = registry().get(name)
    return addon.title if addon is not None else name


def _sync_mode_words(mode: SyncMode) -> str:
    return str({SyncMode.WEBHOOK: _l("en temps réel (webhooks), avec un contrôle toutes les heures"),
                SyncMode.EVERY_15_MIN: _l("toutes les 15 minutes"),
                SyncMode.HOURLY: _l("toutes les heures"),
                SyncMode.MANUAL: _l("manuelle")}.get(mode, mode))


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _url(endpoint: str, **values) -> str | None:
    """The page's address, or None outside a request (``oms`` without a request context)."""
    try:
        return url_for(endpoint, **{k: v for k, v in values.items() if v is not None})
    except RuntimeError:
        return None


def _isolated_failures(shop: Shop) -> int:
    """Failures of ``shop_diagnose`` implementations recorded on the shop's sync log so far
    (``core.addons.call`` isolates a failing add-on there)."""
    db.session.flush()
    return db.session.scalar(select(func.count()).select_from(SyncLog).where(
        SyncLog.shop_id == shop.id, SyncLog.func == "hook:shop_diagnose")) or 0
