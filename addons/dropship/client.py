"""How purchase orders reach suppliers: the merchant's SMTP server (e-mail) or a signed
webhook to the supplier's system.

A webhook is a ``POST`` of the JSON purchase order with the header ``X-OMS-Signature``: the
lowercase hex HMAC-SHA256 of the raw body, keyed with the secret shared with the supplier.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import socket
import ssl
from typing import Any

import httpx

TIMEOUT = 10.0
SIGNATURE_HEADER = "X-OMS-Signature"


class DropshipError(Exception):
    """A failed exchange with a supplier or the SMTP server, with a message for the merchant
    (French)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


# ----------------------------------------------------------------------------- signatures
def sign(body: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(body: bytes, secret: str, signature: str | None) -> bool:
    return bool(signature) and hmac.compare_digest(sign(body, secret), signature.strip().lower())


# ----------------------------------------------------------------------------- SMTP
def check_smtp(host: str, port: int = 587, username: str = "", password: str = "", starttls: bool = True,
               timeout: float = TIMEOUT) -> str:
    """Connect, EHLO, STARTTLS (if asked), LOGIN (if a user name is set), QUIT.

    Returns the name the server gives in its EHLO answer; raises DropshipError.
    """
    if not host:
        raise DropshipError("Aucun serveur SMTP renseigné : indiquez le serveur d'envoi des e-mails.")
    where = f"{host}:{port}"
    try:
        smtp: smtplib.SMTP = (smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
                              if port == 465 else smtplib.SMTP(host, port, timeout=timeout))
    except socket.gaierror:
        raise DropshipError(f"Serveur SMTP introuvable : {host}.") from None
    except ConnectionRefusedError:
        raise DropshipError(f"Connexion refusée par {where} : vérifiez le serveur et le port.") from None
    except (socket.timeout, TimeoutError):
        raise DropshipError(f"Le serveur SMTP {where} n'a pas répondu en {timeout:g} s.") from None
    except ssl.SSLError as exc:
        raise DropshipError(f"Échec de la connexion chiffrée avec {where} : {exc.reason or exc}.") from None
    except (OSError, smtplib.SMTPException) as exc:
        raise DropshipError(f"Impossible de joindre le serveur SMTP {where} : {exc}") from None
    try:
        code, answer = smtp.ehlo()
        if code != 250:
            raise DropshipError(f"Le serveur SMTP {where} refuse EHLO ({code}).")
        name = answer.decode(errors="replace").splitlines()[0].split()[0] if answer else host
        if starttls and port != 465:
            if not smtp.has_extn("starttls"):
                raise DropshipError(f"Le serveur SMTP {where} ne propose pas STARTTLS : désactivez l'option ou "
                                    "utilisez le port de soumission chiffré de votre fournisseur.")
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
        if username:
            smtp.login(username, password)
        smtp.quit()
        return name
    except smtplib.SMTPAuthenticationError as exc:
        raise DropshipError(f"Identifiants SMTP refusés par {where} ({exc.smtp_code}) : vérifiez "
                            "l'utilisateur et le mot de passe.") from None
    except smtplib.SMTPNotSupportedError:
        raise DropshipError(f"Le serveur SMTP {where} n'accepte pas l'authentification sur cette connexion : "
                            "activez STARTTLS.") from None
    except ssl.SSLError as exc:
        raise DropshipError(f"Échec de la négociation TLS avec {where} : {exc.reason or exc}.") from None
    except (socket.timeout, TimeoutError):
        raise DropshipError(f"Le serveur SMTP {where} n'a pas répondu en {timeout:g} s.") from None
    except (OSError, smtplib.SMTPException) as exc:
        raise DropshipError(f"Erreur SMTP avec {where} : {exc}") from None
    finally:
        smtp.close()


# ----------------------------------------------------------------------------- webhooks
def send_purchase_order_webhook(url: str, purchase_order: dict[str, Any], secret: str,
                                timeout: float = TIMEOUT) -> dict[str, Any]:
    """POST a purchase order to a supplier's system, signed with ``secret``; return its answer."""
    if not secret:
        raise DropshipError("Aucun secret de signature renseigné : indiquez le secret partagé avec vos "
                            "fournisseurs reliés par webhook.")
    body = json.dumps(purchase_order, ensure_ascii=False, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json", "Accept": "application/json",
               SIGNATURE_HEADER: sign(body, secret)}
    try:
        res = httpx.post(url, content=body, headers=headers, timeout=timeout)
    except httpx.TimeoutException:
        raise DropshipError(f"Le fournisseur n'a pas répondu en {timeout:g} s ({url}).") from None
    except httpx.HTTPError as exc:
        raise DropshipError(f"Impossible de joindre le fournisseur ({url}) : {exc}") from None
    if res.status_code == 401:
        raise DropshipError("Signature refusée par le fournisseur (401) : vérifiez le secret partagé.", 401)
    if res.status_code >= 500:
        raise DropshipError(f"Le système du fournisseur est indisponible ({res.status_code}).", res.status_code)
    if res.status_code >= 400:
        raise DropshipError(f"Bon de commande refusé par le fournisseur ({res.status_code}).", res.status_code)
    try:
        answer = res.json()
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}
