"""The remote check behind "Tester la connexion": one harmless read (getnewsales)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from core.extensions import db
from core.jobs import enqueue
from core.types import ConnectionResult

from . import mapping
from .client import RakutenError
from .models import RakutenStockImport
from .runtime import client_from_settings
from .versions import current_versions
from core.i18n import _


def check_connection(shop, settings: dict[str, Any]) -> ConnectionResult:
    """Ask for the sales waiting for an answer; on the first success, queue the listings'
    import and the first full stock push (the reconciliation)."""
    if not settings.get("login") or not settings.get("token"):
        return ConnectionResult(False, _("Renseignez l'identifiant vendeur et le jeton web-service Rakuten."))
    try:
        answer = client_from_settings(settings, shop_id=getattr(shop, "id", None)).new_sales()
    except RakutenError as exc:
        return ConnectionResult(False, str(exc))
    sales = mapping.sales_of(answer.response)
    items = sum(len(s.items) for s in sales)
    versions = current_versions()
    details = [f"{len(sales)} vente(s) à accepter ({items} article(s))",
               "versions des services : " + ", ".join(f"{k} {v}" for k, v in sorted(versions.items()))]
    if answer.lastversion and answer.lastversion != versions["getnewsales"]:
        details.append(f"Rakuten annonce une version plus récente de getnewsales : {answer.lastversion}")
    if getattr(shop, "id", None) and db.session.scalar(
            select(RakutenStockImport.id).where(RakutenStockImport.shop_id == shop.id).limit(1)) is None:
        enqueue("addons.rakuten.jobs.import_listings", shop.id, job_id=f"rakuten-import_listings-{shop.id}",
                unique=True, shop_id=shop.id)
        enqueue("addons.rakuten.jobs.reconcile_stock", shop.id, job_id=f"rakuten-reconcile-{shop.id}", unique=True,
                shop_id=shop.id)
    return ConnectionResult(True, _("connecté à Rakuten France (compte %(login)s) : %(sales)s vente(s) à accepter",
                                    login=settings['login'], sales=len(sales)), details)
