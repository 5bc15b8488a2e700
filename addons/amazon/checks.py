"""The remote check behind "Tester la connexion"."""
from __future__ import annotations

from typing import Any

from flask import url_for
from sqlalchemy import select

from core import wording
from core.diagnostics import Check
from core.extensions import db
from core.i18n import _
from core.types import ConnectionResult

from core.jobs import enqueue

from .client import EU_MARKETPLACES, AmazonError, Participation
from .importing import fba_warehouse
from .models import AmazonCatalogImport, AmazonMarketplace
from .runtime import client_from_settings


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
    """The shop's diagnostic, Amazon's part: the marketplaces chosen against the seller's real
    participations (``getMarketplaceParticipations``, read now; the last list stored when
    Amazon does not answer), by name, and Amazon's refresh delay for stock."""
    settings = shop.addon_settings("amazon")
    try:
        settings_url = url_for("integrations.configure", name="amazon", shop_id=shop.id)
    except RuntimeError:  # the command line: no request to build an address from
        settings_url = None
    checks: list[Check] = []
    chosen = chosen_marketplaces(settings)
    participations = None
    if settings.get("refresh_token") and settings.get("lwa_client_id"):
        try:
            participations = client_from_settings(settings).marketplace_participations()
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
    checks.append(Check("ok", _("Délai d'affichage du stock sur Amazon"),
                        _("Amazon peut mettre jusqu'à %(minutes)s minutes à afficher une quantité envoyée : un "
                          "écart juste après un envoi est normal.", minutes=STOCK_REFRESH_MINUTES)))
    return checks


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
