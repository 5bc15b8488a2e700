"""The remote check behind "Tester la connexion"."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from core.extensions import db
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
    names = {m.id: m.name for m in EU_MARKETPLACES} | {p.marketplace_id: _site(p) for p in participations}
    details = [f"{_site(p)} : " + ("vente active" if p.participating else "pas de vente")
               + (", annonces suspendues" if p.suspended_listings else "")
               for p in participations]
    active_ids = {p.marketplace_id for p in active}
    wrong = [m for m in settings.get("marketplaces") or [] if m not in active_ids]
    selling = ", ".join(_site(p) for p in active) or "aucune marketplace"
    if wrong:  # a green test on a configuration that imports nothing would be a lie
        chosen = ", ".join(names.get(m, m) for m in wrong)
        return ConnectionResult(False, f"Vous avez choisi {chosen}, mais votre compte vend sur {selling} : "
                                       "corrigez les marketplaces dans les paramètres de la boutique.", details)
    message = f"le compte Amazon vend sur {len(active)} marketplace(s) ({selling})"
    return ConnectionResult(True, message, details)


def _site(participation) -> str:
    """Amazon.fr rather than A13V1IB3VIYZZH: the name a merchant knows."""
    known = next((m for m in EU_MARKETPLACES if m.id == participation.marketplace_id), None)
    return known.name if known is not None else (participation.name or participation.marketplace_id)
