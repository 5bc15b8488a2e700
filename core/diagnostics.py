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
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from flask import url_for
from flask_babel import format_date, format_datetime, format_timedelta, get_locale, gettext as _, lazy_gettext as _l, ngettext
from sqlalchemy import Select, func, select

from . import wording
from .addons import call, registry
from .connectors.models import WebhookDelivery
from .extensions import db
from .models import (
    SYNC_INTERVALS,
    ConnectionStatus,
    Order,
    OrderLine,
    OrderStatus,
    Product,
    Shop,
    SyncLog,
    SyncMode,
    SyncStatus,
    Variant,
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
    #: the fix is an action (a POST with the page's CSRF token), not a page to open
    fix_post: bool = False
    #: more fixes, one per item the line names: (label, url) pairs, each a page to open
    links: tuple[tuple[str, str], ...] = ()

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


# ----------------------------------------------------------------------------- add-ons' building blocks
# A channel add-on's ``shop_diagnose`` reads its remote (grants, orders past the cursor,
# webhook subscriptions, listings) and hands what it read to these: the lines, their levels
# and their words are the same for every channel.

#: seconds one remote call of a diagnostic may take: the page waits for no slow remote
REMOTE_TIMEOUT = 5.0
#: orange once a grant expires within this many days: a month gives a merchant who opens
#: the OMS weekly several chances to renew, and each renewal is a visit to the channel's
#: seller pages (Amazon's yearly re-authorization, eBay's consent), not an instant click
EXPIRY_WARN_DAYS = 30
#: webhooks quiet for this long are never suspicious, whatever the shop's order rate
QUIET_FLOOR = timedelta(hours=6)
#: webhooks are late once silent for this many of the shop's usual gaps between two orders
QUIET_GAPS = 3
#: the window the usual gap is measured over, and the orders it needs to mean anything
RATE_WINDOW = timedelta(days=30)
RATE_MIN_ORDERS = 5


def credentials_expiry(shop: Shop, expires_at: datetime | None, *, what: str, renew: str,
                       renew_url: str | None = None, renew_label: str = "", unknown: str = "",
                       now: datetime | None = None) -> Check:
    """Whether ``what`` (the grant, as the merchant names it: "L'autorisation de l'OMS sur votre
    compte Amazon") is still valid: red once ``expires_at`` is past, orange within
    :data:`EXPIRY_WARN_DAYS`, green else. ``renew`` says how to renew it; ``unknown`` is the
    sentence when the channel gives no expiry (``expires_at`` None)."""
    now = now or utcnow()
    if expires_at is None:
        return credentials_valid(shop, unknown)
    when = format_date(expires_at, "long")
    if expires_at <= now:
        return Check("error", _("Identifiants %(channel)s expirés", channel=addon_title(shop.addon)),
                     _("%(what)s a expiré le %(when)s : plus aucune commande n'est importée.", what=what, when=when)
                     + " " + renew, renew_url, renew_label)
    left = expires_at - now
    if left <= timedelta(days=EXPIRY_WARN_DAYS):
        return Check("warn", _("Identifiants %(channel)s bientôt expirés", channel=addon_title(shop.addon)),
                     _("%(what)s expire le %(when)s (%(left)s).", what=what, when=when,
                       left=format_timedelta(left, add_direction=True)) + " " + renew, renew_url, renew_label)
    return credentials_valid(shop, _("%(what)s est valable jusqu'au %(when)s.", what=what, when=when))


def credentials_valid(shop: Shop, rule: str) -> Check:
    """The green line of a channel's credentials: ``rule`` says until when they hold, or, for
    keys with no end date, what ends them (a refused call turns the connection line red)."""
    return Check("ok", _("Validité des identifiants %(channel)s", channel=addon_title(shop.addon)), rule)


class Reach:
    """One diagnostic's calls to one remote, so that an unreachable remote costs one timeout,
    not one a line: after a call that got no answer at all (``status`` None: down, timed
    out), the next calls raise that same error without being sent."""

    def __init__(self) -> None:
        self.unreachable: Exception | None = None

    def __call__(self, call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if self.unreachable is not None:
            raise self.unreachable
        try:
            return call(*args, **kwargs)
        except Exception as exc:
            if getattr(exc, "status", None) is None:
                self.unreachable = exc
            raise


@dataclass(frozen=True)
class Backlog:
    """What the remote holds past the OMS's cursor: ``count`` orders (at least that many when
    ``more``), the least recently updated one's date when the remote says it."""

    count: int
    more: bool = False
    oldest: datetime | None = None


def order_cursor(shop: Shop) -> datetime | None:
    """Up to when the OMS has read the shop's orders: its sync cursor, else its last import."""
    raw = (shop.sync_cursor or "").strip()
    if raw:
        try:
            parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            parsed = None
        if parsed is not None:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    return shop.last_sync_at


def remote_backlog(shop: Shop, probe: Callable[[datetime], Backlog], now: datetime | None = None) -> Check | None:
    """Whether the remote has orders the OMS has not read: ``probe(since)`` asks the remote, in
    one cheap call, for the orders created or updated after ``since`` (the OMS's cursor).
    Orange when some wait longer than a sync period (the oldest's date, else the cursor's),
    with "Importer maintenant"; orange too when the remote cannot be asked. None before the
    first import (the last import's line says so)."""
    since = order_cursor(shop)
    if since is None:
        return None
    now = now or utcnow()
    channel = addon_title(shop.addon)
    title = _("Nouvelles commandes chez %(channel)s", channel=channel)
    try:
        backlog = probe(since)
    except Exception as exc:  # an outage is a line of the page, never its crash
        log.warning("diagnostic of shop %s: the orders past the cursor could not be read: %s", shop.id,
                    wording.plain(str(exc)))
        return Check("warn", _("Impossible de vérifier les nouvelles commandes chez %(channel)s", channel=channel),
                     _("%(channel)s n'a pas répondu : %(error)s Réessayez dans un instant ; les importations "
                       "habituelles continuent.", channel=channel, error=_end(remote_words(exc))),
                     _url("integrations.diagnostic", shop_id=shop.id), _("Réessayer"))
    read = _("L'OMS a lu les commandes jusqu'au %(when)s.", when=format_datetime(since, "short"))
    if backlog.count <= 0:
        return Check("ok", title, _("Aucune commande plus récente que l'OMS chez %(channel)s.", channel=channel)
                     + " " + read)
    count = (_("au moins %(num)s", num=backlog.count) if backlog.more else str(backlog.count))
    period = timedelta(seconds=SYNC_INTERVALS.get(shop.sync_mode) or SYNC_INTERVALS[SyncMode.HOURLY])
    # what changed within a sync period of now arrives at the next import; without the oldest
    # order's date, the cursor's own age tells
    recent = now - (backlog.oldest or since) < period
    if recent and shop.sync_mode != SyncMode.MANUAL:
        return Check("ok", title, ngettext("%(count)s commande modifiée il y a moins d'une période de synchronisation "
                                           "arrive à la prochaine importation.",
                                           "%(count)s commandes modifiées il y a moins d'une période de "
                                           "synchronisation arrivent à la prochaine importation.",
                                           backlog.count, count=count) + " " + read)
    age = ""
    if backlog.oldest is not None:
        age = " " + _("La plus ancienne a été modifiée %(ago)s.",
                      ago=format_timedelta(backlog.oldest - now, add_direction=True))
    return Check("warn", ngettext("%(count)s commande chez %(channel)s pas encore dans l'OMS",
                                  "%(count)s commandes chez %(channel)s pas encore dans l'OMS",
                                  backlog.count, count=count, channel=channel),
                 read + age + " " + _("Importez-les maintenant ; si elles reviennent, ouvrez le journal de "
                                      "synchronisation."),
                 _url("integrations.sync", shop_id=shop.id), _("Importer maintenant"), fix_post=True)


def webhooks_registered(shop: Shop, needed: dict[str, str], registered: set[str] | None, *,
                        fix_url: str | None = None, fix_label: str = "", error: str = "") -> Check:
    """The subscriptions the OMS needs (``needed``: topic → the merchant's words for it)
    against those the remote lists (``registered``; None when it could not be read, ``error``
    saying why). Red when some are missing, with ``fix_url`` (a POST) re-registering them."""
    channel = addon_title(shop.addon)
    title = _("Notifications envoyées par %(channel)s", channel=channel)
    if registered is None:
        return Check("warn", _("Impossible de lire les notifications enregistrées chez %(channel)s", channel=channel),
                     _("%(error)s Les commandes restent importées par la relecture %(every)s.",
                       error=_end(error) if error else "", every=_sync_mode_words(shop.sync_mode)).strip(),
                     _url("integrations.diagnostic", shop_id=shop.id), _("Réessayer"))
    missing = [label for topic, label in needed.items() if topic not in registered]
    if missing:
        return Check("error", ngettext("%(num)s notification manquante chez %(channel)s",
                                       "%(num)s notifications manquantes chez %(channel)s", len(missing),
                                       channel=channel),
                     _("%(channel)s ne prévient plus l'OMS pour : %(topics)s. Les commandes n'arrivent qu'à la "
                       "relecture %(every)s : réenregistrez les notifications.", channel=channel,
                       topics=", ".join(str(m) for m in missing), every=_sync_mode_words(shop.sync_mode)),
                     fix_url, fix_label or _("Réenregistrer"), fix_post=fix_url is not None)
    return Check("ok", title, ngettext("La notification dont l'OMS a besoin est enregistrée.",
                                       "Les %(num)s notifications dont l'OMS a besoin sont enregistrées.", len(needed)))


def last_delivery(shop: Shop, model: Any = None, now: datetime | None = None) -> Check:
    """When the remote last delivered a webhook to the shop (``model``: the add-on's inbox
    table, core's ``webhook_delivery`` by default). Orange when silent for longer than the
    shop's order rate suggests (:data:`QUIET_GAPS` usual gaps, :data:`QUIET_FLOOR` at least);
    the polling fallback is said."""
    now = now or utcnow()
    model = model or WebhookDelivery
    stmt = select(func.max(model.received_at)).where(model.shop_id == shop.id)
    if hasattr(model, "addon"):
        stmt = stmt.where(model.addon == shop.addon)
    last = db.session.scalar(stmt)
    orders = db.session.scalar(select(func.count()).select_from(Order).where(
        Order.shop_id == shop.id, Order.placed_at >= now - RATE_WINDOW)) or 0
    channel = addon_title(shop.addon)
    title = _("Dernière notification envoyée par %(channel)s", channel=channel)
    fallback = _("Les commandes restent importées par la relecture %(every)s.", every=_sync_mode_words(shop.sync_mode))
    if last is None:
        if orders:
            return Check("warn", _("%(channel)s n'a envoyé aucune notification", channel=channel),
                         ngettext("%(num)s commande importée en 30 jours, mais aucune notification reçue : vérifiez "
                                  "que l'adresse de l'OMS est joignable depuis internet.",
                                  "%(num)s commandes importées en 30 jours, mais aucune notification reçue : "
                                  "vérifiez que l'adresse de l'OMS est joignable depuis internet.", orders)
                         + " " + fallback)
        return Check("ok", title, _("Aucune notification pour l'instant : la première arrive avec la première "
                                    "commande."))
    silent = max(now - last, timedelta(0))
    detail = _("Dernière notification : %(when)s (%(ago)s).", when=format_datetime(last, "short"),
               ago=format_timedelta(-silent, add_direction=True))
    if orders >= RATE_MIN_ORDERS:
        expected = max(QUIET_FLOOR, QUIET_GAPS * (RATE_WINDOW / orders))
        if silent > expected:
            return Check("warn", _("%(channel)s n'envoie plus de notification depuis %(ago)s", channel=channel,
                                   ago=format_timedelta(silent)),
                         detail + " " + _("Avec %(num)s commandes en 30 jours, une notification arrive d'habitude au "
                                          "moins une fois par période de %(gap)s.", num=orders,
                                          gap=format_timedelta(expected)) + " " + fallback)
    return Check("ok", title, detail)


def listed_variants(shop: Shop, model: Any) -> Select:
    """The variants ``model`` (an add-on's listing table: ``shop_id``, ``variant_id``) lists
    for ``shop``, for :func:`unlisted_products`."""
    return select(model.variant_id).where(model.shop_id == shop.id, model.variant_id.is_not(None))


def unmatched_listings(shop: Shop, model: Any, page: str, *, anchor: str | None = None, sku: Any = None,
                       where: Any = None) -> Check:
    """The channel's listings no OMS product stands behind (``model``: the add-on's listing
    table, ``sku`` its SKU column, ``where`` what else a row must meet), linked to the
    add-on's page of the shop (endpoint ``page``, taking ``shop_id``; ``anchor`` its table)
    where each is linked to a product or made one (core.listings' two fixes)."""
    channel = addon_title(shop.addon)
    fix_url = _url(page, shop_id=shop.id, _anchor=anchor)
    sku = sku if sku is not None else model.sku
    stmt = select(sku).where(model.shop_id == shop.id, model.variant_id.is_(None), sku.is_not(None))
    if where is not None:
        stmt = stmt.where(where)
    stmt = stmt.distinct()
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    if not total:
        return Check("ok", _("Annonces reliées aux produits"),
                     _("Chaque annonce lue sur %(channel)s correspond à un produit de l'OMS.", channel=channel))
    named = ", ".join(db.session.scalars(stmt.order_by(sku).limit(SKUS_SHOWN))) + (" …" if total > SKUS_SHOWN else "")
    return Check("warn", ngettext("%(num)s annonce sur %(channel)s sans produit dans l'OMS",
                                  "%(num)s annonces sur %(channel)s sans produit dans l'OMS", total, channel=channel),
                 _("%(skus)s : leurs commandes attendent, faute de produit. Reliez chacune à un produit de votre "
                   "catalogue, ou créez le produit.", skus=named),
                 fix_url, _("Relier ou créer les produits"))


def channel_lines(shop: Shop, *, keys: str, listings: Any, what: str = "",
                  probe: Callable[[datetime], Backlog] | None = None, now: datetime | None = None,
                  unmatched: Check | None = None) -> list[Check]:
    """The lines of a channel whose credentials carry no end date (``keys`` says what ends
    them), whose orders past the cursor ``probe`` counts (None: the API has no cheap way),
    whose listings table is ``listings`` (its unmatched rows: ``unmatched``)."""
    lines = [credentials_valid(shop, keys),
             remote_backlog(shop, probe, now) if probe is not None else None,
             unmatched,
             unlisted_products(shop, listed_variants(shop, listings), what=what)]
    return [line for line in lines if line is not None]


def unlisted_products(shop: Shop, listed: Select, *, fix_label: str = "", fix_endpoint: str = "main.product",
                      what: str = "") -> Check:
    """The organization's products with no listing on this channel (``listed``: a select of
    the variant ids the channel lists), each linked to where it is published (its product
    page, where the add-on's "Publier" stands, by default; ``fix_label`` names that action,
    else the link opens the product)."""
    fix_label = fix_label or _("ouvrir la fiche produit")
    channel = addon_title(shop.addon)
    stmt = (select(Variant.id, Variant.sku, Product.id, Product.title).join(Product, Product.id == Variant.product_id)
            .where(Variant.organization_id == shop.organization_id, Variant.id.not_in(listed))
            .order_by(Variant.sku))
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    if not total:
        return Check("ok", _("Produits publiés sur %(channel)s", channel=channel),
                     _("Chaque produit de votre catalogue a une annonce sur %(channel)s.", channel=channel))
    rows = db.session.execute(stmt.limit(SKUS_SHOWN)).all()
    named = ", ".join(sku for _v, sku, _p, _t in rows) + (" …" if total > SKUS_SHOWN else "")
    links = tuple((_("%(sku)s : %(label)s", sku=sku, label=fix_label), url)
                  for _v, sku, product_id, _t in rows
                  if (url := _url(fix_endpoint, product_id=product_id)) is not None)
    return Check("warn", ngettext("%(num)s produit de l'OMS sans annonce sur %(channel)s",
                                  "%(num)s produits de l'OMS sans annonce sur %(channel)s", total, channel=channel),
                 _("%(skus)s : ils ne se vendent pas sur %(channel)s.", skus=named, channel=channel)
                 + (" " + what if what else ""), links=links)


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


def remote_words(exc: BaseException) -> str:
    """A remote's refusal or outage in the merchant's language (the connector kit's errors
    carry both), without class names."""
    if hasattr(exc, "for_locale"):
        return wording.plain(exc.for_locale(str(get_locale() or "fr")))
    return wording.for_merchant(exc)


def _end(text: str) -> str:
    """``text`` as a sentence ending with its full stop."""
    text = _sentence(text.strip())
    return text if not text or text[-1] in ".!?…" else text + "."


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
