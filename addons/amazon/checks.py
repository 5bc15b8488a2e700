"""The remote check behind "Tester la connexion", and Amazon's part of the shop's diagnostic."""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import url_for
from flask_babel import format_date, lazy_gettext as _l
from sqlalchemy import select

from core import diagnostics, wording
from core.diagnostics import Backlog, Check
from core.extensions import db
from core.jobs import enqueue
from core.models import SettingChange, utcnow
from core.i18n import _
from core.types import ConnectionResult

from .client import EU_MARKETPLACES, AmazonError, Participation, SellingPartnerClient
from .clock import as_datetime, iso, parse_iso
from .importing import fba_warehouse
from .models import AmazonCatalogImport, AmazonListing, AmazonMarketplace
from .notifications import ORDER_CHANGE, subscription
from .runtime import client_from_settings
from .sync import MIN_LAG


def store_marketplaces(shop_id: int, participations: list[Participation]) -> None:
    """Upsert the shop's marketplaces; those Amazon no longer lists stop participating."""
    rows = {r.marketplace_id: r for r in db.session.scalars(
        select(AmazonMarketplace).where(AmazonMarketplace.shop_id == shop_id))}
    seen = set()
    for p in participations:
        seen.add(p.marketplace_id)
        row = rows.get(p.marketplace_id)
        if row is None:
            row = AmazonMarketplace(shop_id=shop_id, marketplace_id=p.marketplace_id)
            db.session.add(row)
        row.country_code = p.country_code[:2]
        row.name = p.name[:120]
        row.currency = p.currency[:3]
        row.participating = p.participating
    for marketplace_id, row in rows.items():
        if marketplace_id not in seen:
            row.participating = False
    db.session.flush()


def check_connection(shop, settings: dict[str, Any]) -> ConnectionResult:
    """Exchange the refresh token and list the seller's marketplace participations. On the
    first success the shop gets its FBA warehouse, and its listings import is queued."""
    try:
        participations = client_from_settings(settings).marketplace_participations()
    except AmazonError as exc:
        return ConnectionResult(False, str(exc))
    store_marketplaces(shop.id, participations)
    fba_warehouse(shop)
    if db.session.scalar(select(AmazonCatalogImport.id).where(AmazonCatalogImport.shop_id == shop.id)
                         .limit(1)) is None:
        enqueue("addons.amazon.jobs.import_listings", shop.id, job_id=f"amazon-import_listings-{shop.id}",
                unique=True, shop_id=shop.id)
    active = [p for p in participations if p.participating]
    details = [f"{_site(p)} : " + ("vente active" if p.participating else "pas de vente")
               + (", annonces suspendues" if p.suspended_listings else "")
               for p in participations]
    wrong, selling = mismatch(chosen_marketplaces(settings), participations)
    if wrong:  # a green test on a configuration that imports nothing would be a lie
        return ConnectionResult(False, _("Vous avez choisi %(items)s, mais votre compte vend sur %(value)s : "
                                         "corrigez les marketplaces dans les paramètres de la boutique.",
                                         items=', '.join(wrong), value=selling or _('aucune marketplace')), details)
    message = _("le compte Amazon vend sur %(count)s marketplace(s) (%(selling)s)", count=len(active),
                selling=selling or _("aucune marketplace"))
    return ConnectionResult(True, message, details)


def chosen_marketplaces(settings: dict[str, Any]) -> list[str]:
    """The marketplace ids the shop's settings choose (a list; older rows may hold a string)."""
    chosen = settings.get("marketplaces") or []
    if isinstance(chosen, str):
        chosen = chosen.replace(";", ",").split(",")
    return [m.strip() for m in chosen if m and m.strip()]


def mismatch(chosen: list[str], participations: list[Participation]) -> tuple[list[str], str]:
    """(the chosen marketplaces the seller does not sell on, by name; the names of those it
    sells on, comma-separated)."""
    names = {m.id: m.name for m in EU_MARKETPLACES} | {p.marketplace_id: _site(p) for p in participations}
    active_ids = {p.marketplace_id for p in participations if p.participating}
    wrong = [names.get(m, m) for m in chosen if m not in active_ids]
    return wrong, ", ".join(_site(p) for p in participations if p.participating)


def _site(participation) -> str:
    """Amazon.fr rather than A13V1IB3VIYZZH: the name a merchant knows."""
    known = next((m for m in EU_MARKETPLACES if m.id == participation.marketplace_id), None)
    return known.name if known is not None else (participation.name or participation.marketplace_id)


#: how long Amazon may take to show a quantity it accepted (the guide's "Amazon peut mettre
#: 10 min à rafraîchir"; Seller Central's help speaks of up to 15 minutes for inventory feeds)
STOCK_REFRESH_MINUTES = 15


def diagnose(shop) -> list[Check]:
    """The shop's diagnostic, Amazon's part: the authorization's age, the orders Amazon has
    past the OMS's cursor, the marketplaces chosen against the seller's real participations
    (``getMarketplaceParticipations``, read now; the last list stored when Amazon does not
    answer), by name, the products with no Amazon listing, and Amazon's refresh delay for
    stock."""
    settings = shop.addon_settings("amazon")
    try:
        settings_url = url_for("integrations.configure", name="amazon", shop_id=shop.id)
    except RuntimeError:  # the command line: no request to build an address from
        settings_url = None
    checks: list[Check] = [authorization(shop)]
    chosen = chosen_marketplaces(settings)
    participations = None
    if settings.get("refresh_token") and settings.get("lwa_client_id"):
        client = client_from_settings(settings, timeout=diagnostics.REMOTE_TIMEOUT)
        reach = diagnostics.Reach()
        checks.append(diagnostics.remote_backlog(shop, lambda since: reach(backlog, shop, client, since),
                                                 now=as_datetime(client.clock.time())))
        if settings.get("notification_queue_arn"):  # real time chosen: ORDER_CHANGE must reach the relay
            checks += [order_change(shop, client, reach), diagnostics.last_delivery(shop)]
        try:
            participations = reach(client.marketplace_participations)
        except AmazonError as exc:
            checks.append(Check("error", _("Amazon ne répond pas à la lecture de vos marketplaces"),
                                wording.for_merchant(exc), settings_url, _("Vérifier les identifiants")))
    stale = participations is None
    if stale:
        participations = [Participation(r.marketplace_id, r.country_code, r.name, r.currency, "", "",
                                        r.participating, False)
                          for r in db.session.scalars(select(AmazonMarketplace).where(
                              AmazonMarketplace.shop_id == shop.id).order_by(AmazonMarketplace.marketplace_id))]
    if participations:
        checks.append(_marketplaces_check(chosen, participations, stale, settings_url))
    elif not chosen:
        checks.append(Check("error", _("Aucune marketplace choisie"),
                            _("Choisissez dans les paramètres de la boutique les marketplaces Amazon sur "
                              "lesquelles vous vendez : sans elles, aucune commande n'est importée."),
                            settings_url, _("Choisir les marketplaces")))
    checks.append(diagnostics.unmatched_listings(
        shop, AmazonListing, "amazon.shop_page", anchor="unmatched",
        where=AmazonListing.is_parent.is_(False)))
    checks.append(diagnostics.unlisted_products(
        shop, diagnostics.listed_variants(shop, AmazonListing),
        what=_("Créez leur offre dans Seller Central avec le même SKU, puis relisez les annonces depuis la page "
               "Amazon de la boutique.")))
    checks.append(Check("ok", _("Délai d'affichage du stock sur Amazon"),
                        _("Amazon peut mettre jusqu'à %(minutes)s minutes à afficher une quantité envoyée : un "
                          "écart juste après un envoi est normal.", minutes=STOCK_REFRESH_MINUTES)))
    return [c for c in checks if c is not None]


#: Amazon asks selling partners to re-authorize a *public* application every 365 days
#: ("Renew Authorizations", developer-docs.amazon.com/sp-api/docs/renew-authorizations); a
#: private application's self-authorization has no such term, and an LWA refresh token is
#: "valid indefinitely, unless the user has removed" the app (developer.amazon.com,
#: docs/login-with-amazon/refresh-token.html). The OMS cannot tell which kind of app issued
#: the token it was given, so the anniversary is an orange reminder, never a red line: a
#: refused token is red on the next call.
REAUTHORIZE_AFTER = timedelta(days=365)


def authorization(shop, now: datetime | None = None) -> Check:
    """How old the refresh token is: the day it was last saved in the settings."""
    now = now or utcnow()
    saved = token_saved_at(shop)
    title = _("Autorisation Amazon")
    if saved is None:
        return Check("ok", title, _("Un jeton d'application privée auto-autorisée n'expire pas ; Amazon demande de "
                                    "ré-autoriser une application publique tous les 365 jours."))
    due = saved + REAUTHORIZE_AFTER
    if due - now <= timedelta(days=diagnostics.EXPIRY_WARN_DAYS):
        try:
            settings_url = url_for("integrations.configure", name="amazon", shop_id=shop.id)
        except RuntimeError:
            settings_url = None
        return Check("warn", _("Autorisation Amazon à renouveler si votre application est publique"),
                     _("Le jeton a été enregistré le %(saved)s. Amazon demande de ré-autoriser une application "
                       "publique tous les 365 jours, soit avant le %(due)s : Seller Central › Gérer vos "
                       "applications › Ré-autoriser, puis collez le nouveau jeton dans les paramètres. Une "
                       "application privée auto-autorisée n'est pas concernée.",
                       saved=format_date(saved, "long"), due=format_date(due, "long")),
                     settings_url, _("Coller un nouveau jeton"))
    return Check("ok", title, _("Jeton enregistré le %(saved)s ; une application publique serait à ré-autoriser "
                                "avant le %(due)s.", saved=format_date(saved, "long"), due=format_date(due, "long")))


def token_saved_at(shop) -> datetime | None:
    """When the shop's refresh token was last changed (its settings' change log)."""
    rows = db.session.scalars(select(SettingChange).where(SettingChange.shop_id == shop.id,
                                                          SettingChange.addon == "amazon")
                              .order_by(SettingChange.at.desc()).limit(100))
    return next((r.at for r in rows if "refresh_token" in (r.fields or [])), None)


def backlog(shop, client: SellingPartnerClient, since: datetime) -> Backlog:
    """Orders Amazon updated after the OMS's cursor: one ``searchOrders`` call (the
    diagnostic never waits for the operation's quota: an empty bucket is said). A page of
    100 costs the same single request as a page of one, and counts better."""
    latest = as_datetime(client.clock.time()) - MIN_LAG  # searchOrders refuses a window ending later
    chosen = chosen_marketplaces(shop.addon_settings("amazon"))
    if since >= latest or not chosen:  # no marketplace: a red line of its own says so
        return Backlog(0)
    body = client.call("searchOrders", params={"lastUpdatedAfter": iso(since), "lastUpdatedBefore": iso(latest),
                                               "marketplaceIds": chosen, "maxResultsPerPage": 100},
                       max_wait=0).body
    orders = body.get("orders") or []
    stamps = [parse_iso(o["lastUpdatedTime"]) for o in orders if o.get("lastUpdatedTime")]
    return Backlog(len(orders), more=bool((body.get("pagination") or {}).get("nextToken")),
                   oldest=min(stamps) if stamps else None)


def _marketplaces_check(chosen: list[str], participations: list[Participation], stale: bool,
                        settings_url: str | None) -> Check:
    wrong, selling = mismatch(chosen, participations)
    selling = selling or _("aucune marketplace")
    note = (" " + _("(d'après la dernière liste lue chez Amazon)")) if stale else ""
    if wrong:
        return Check("error", _("Marketplace choisie où votre compte ne vend pas"),
                     _("Vous avez choisi %(chosen)s, mais votre compte vend sur %(selling)s : corrigez les "
                       "marketplaces dans les paramètres de la boutique, sinon leurs commandes ne sont pas "
                       "importées.", chosen=", ".join(wrong), selling=selling) + note,
                     settings_url, _("Corriger les marketplaces"))
    if not chosen:
        return Check("error", _("Aucune marketplace choisie"),
                     _("Votre compte vend sur %(selling)s : choisissez ces marketplaces dans les paramètres de "
                       "la boutique, sinon aucune commande n'est importée.", selling=selling) + note,
                     settings_url, _("Choisir les marketplaces"))
    by_id = {p.marketplace_id: p for p in participations}
    suspended = [_site(by_id[m]) for m in chosen if m in by_id and by_id[m].suspended_listings]
    if suspended:
        return Check("warn", _("Annonces suspendues sur Amazon"),
                     _("Amazon a suspendu des annonces sur %(sites)s : elles ne reçoivent plus de commandes. "
                       "Voyez Seller Central › Catalogue › Gérer les stocks.", sites=", ".join(suspended)) + note)
    names = ", ".join(_site(by_id[m]) if m in by_id else m for m in chosen)
    detail = _("Vous vendez sur %(chosen)s, comme votre compte Amazon.", chosen=names)
    unused = [_site(p) for p in participations if p.participating and p.marketplace_id not in chosen]
    if unused:
        detail += " " + _("Votre compte vend aussi sur %(others)s, non choisie(s) ici : leurs commandes ne sont "
                          "pas importées dans cette boutique.", others=", ".join(unused))
    return Check("ok", _("Marketplaces Amazon"), detail + note)


NEEDED = {ORDER_CHANGE: _l("changements de commande (ORDER_CHANGE)")}


def order_change(shop, client: SellingPartnerClient, reach: diagnostics.Reach) -> Check:
    """The ORDER_CHANGE subscription Amazon holds (``getSubscription``), to the shop's SQS
    destination."""
    row = subscription(shop)
    try:
        fix_url = url_for("amazon.subscribe", shop_id=shop.id)
    except RuntimeError:
        fix_url = None
    try:
        sub = reach(client.call, "getSubscription", path={"notificationType": ORDER_CHANGE},
                    params={"payloadVersion": "1.0"}).body.get("payload") or {}
    except AmazonError as exc:
        if exc.status != 404:
            return diagnostics.webhooks_registered(shop, NEEDED, None, error=diagnostics.remote_words(exc))
        sub = {}
    ours = row is not None and sub.get("destinationId") == row.destination_id
    return diagnostics.webhooks_registered(shop, NEEDED, {ORDER_CHANGE} if ours else set(), fix_url=fix_url)
