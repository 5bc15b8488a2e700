"""The remote check behind "Tester la connexion" and the SMTP check job."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from core.extensions import db
from core.types import ConnectionResult

from .client import DropshipError, check_smtp
from .models import DropshipSupplier
from core.i18n import _


def check_connection(settings: dict[str, Any], organization_id: int | None = None) -> ConnectionResult:
    """Open a session with the merchant's SMTP server as sending a purchase order would.

    Without an SMTP server, the add-on still works when every active supplier of the
    organization takes its purchase orders by webhook: the check says so."""
    host = settings.get("smtp_host") or ""
    if not host and organization_id is not None:
        suppliers = db.session.execute(select(DropshipSupplier.name, DropshipSupplier.order_channel).where(
            DropshipSupplier.organization_id == organization_id, DropshipSupplier.active.is_(True))
            .order_by(DropshipSupplier.name)).all()
        by_email = [name for name, channel in suppliers if channel == "email"]
        if suppliers and not by_email:
            return ConnectionResult(True, _("%(suppliers)s fournisseur(s) reçoivent leurs bons de commande par "
                                            "webhook : aucun serveur SMTP n'est nécessaire",
                                            suppliers=len(suppliers)),
                                    [f"Fournisseur : {name} (webhook)" for name, _c in suppliers])
    port = int(settings.get("smtp_port") or 587)
    try:
        name = check_smtp(host, port, username=settings.get("smtp_username") or "",
                          password=settings.get("smtp_password") or "",
                          starttls=bool(settings.get("smtp_starttls", True)))
    except DropshipError as exc:
        return ConnectionResult(False, str(exc))
    details = [f"Serveur : {name}", f"Adresse : {host}:{port}",
               "Connexion chiffrée : " + ("oui" if port == 465 or settings.get("smtp_starttls", True) else "non")]
    if settings.get("smtp_username"):
        details.append(f"Authentifié en tant que {settings['smtp_username']}")
    return ConnectionResult(True, _("connecté au serveur SMTP %(name)s", name=name), details)
