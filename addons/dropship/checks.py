"""The remote check behind "Tester la connexion" and the SMTP check job."""
from __future__ import annotations

from typing import Any

from core.types import ConnectionResult

from .client import DropshipError, check_smtp


def check_connection(settings: dict[str, Any]) -> ConnectionResult:
    """Open a session with the merchant's SMTP server as sending a purchase order would."""
    host = settings.get("smtp_host") or ""
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
    return ConnectionResult(True, f"connecté au serveur SMTP {name}", details)
