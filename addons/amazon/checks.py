"""The remote check behind "Tester la connexion" and the shop's periodic job."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from core.extensions import db
from core.types import ConnectionResult

from .client import AmazonError, Participation, SellingPartnerClient
from .models import AmazonMarketplace


def client_from_settings(settings: dict[str, Any]) -> SellingPartnerClient:
    return SellingPartnerClient(client_id=settings.get("lwa_client_id") or "",
                                client_secret=settings.get("lwa_client_secret") or "",
                                refresh_token=settings.get("refresh_token") or "",
                                region=settings.get("region") or "eu",
                                base_url=settings.get("api_base_url") or None,
                                token_url=settings.get("token_url") or None)


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
    """Exchange the refresh token and list the seller's marketplace participations."""
    try:
        participations = client_from_settings(settings).marketplace_participations()
    except AmazonError as exc:
        return ConnectionResult(False, str(exc))
    store_marketplaces(shop.id, participations)
    active = [p for p in participations if p.participating]
    details = [f"{p.country_code} – {p.name} ({p.marketplace_id}) : "
               + ("vente active" if p.participating else "pas de vente")
               + (", annonces suspendues" if p.suspended_listings else "")
               for p in participations]
    active_ids = {p.marketplace_id for p in active}
    for marketplace_id in settings.get("marketplaces") or []:
        if marketplace_id not in active_ids:
            details.append(f"Attention : la marketplace {marketplace_id} choisie dans les paramètres "
                           "n'est pas active sur ce compte.")
    message = (f"connecté à Amazon : le compte vend sur {len(active)} marketplace(s)"
               + (f" ({', '.join(p.country_code for p in active)})" if active else ""))
    return ConnectionResult(True, message, details)
