"""How purchase orders reach suppliers: the merchant's SMTP server (e-mail) or a signed
webhook to the supplier's system.

A webhook is a ``POST`` of a JSON body with two headers:

* ``X-OMS-Timestamp``: the Unix time of the send, in seconds;
* ``X-OMS-Signature``: the lowercase hex HMAC-SHA256, keyed with the secret shared with the
  supplier, of ``"<timestamp>." + raw body``.

The supplier recomputes the signature and refuses a body whose timestamp is more than
:data:`TOLERANCE` seconds away from its clock, so a captured request cannot be replayed later.

Supplier addresses (webhook, stock feed) are typed by the merchant: they are called through
core's connector kit (``core.connectors.fetch``), which refuses any address of the server's
own networks, checks every redirect the same way and bounds what is read.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import smtplib
import socket
import ssl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from typing import Any

from core.connectors import RemoteError, fetch
from core.i18n import _

TIMEOUT = 10.0
SIGNATURE_HEADER = "X-OMS-Signature"
TIMESTAMP_HEADER = "X-OMS-Timestamp"
#: seconds a signed webhook stays acceptable
TOLERANCE = 300


#: what a supplier's system may answer to a purchase order
ANSWER_LIMIT = 1024 * 1024


class DropshipError(RemoteError):
    """A failed exchange with a supplier or the SMTP server, with a message for the merchant
    (French)."""

    def __init__(self, message: str, status: int | None = None, **kw: Any) -> None:
        super().__init__(message, status=status, **kw)

    @classmethod
    def of(cls, exc: RemoteError) -> "DropshipError":
        return cls(exc.message, exc.status, message_en=exc.message_en, raw=exc.raw, retryable=exc.retryable)


# ----------------------------------------------------------------------------- signatures
def sign(body: bytes, secret: str) -> str:
    """Lowercase hex HMAC-SHA256 of ``body``."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(body: bytes, secret: str, signature: str | None) -> bool:
    return bool(signature) and hmac.compare_digest(sign(body, secret), signature.strip().lower())


def signed_content(timestamp: str, body: bytes) -> bytes:
    """What the webhook signature covers: the timestamp header, a dot, the raw body."""
    return timestamp.encode() + b"." + body


def sign_webhook(body: bytes, secret: str, timestamp: int | None = None) -> dict[str, str]:
    """The timestamp and signature headers for a webhook body."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    return {TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: sign(signed_content(stamp, body), secret)}


def verify_webhook(body: bytes, secret: str, timestamp: str | None, signature: str | None,
                   now: float | None = None, tolerance: int = TOLERANCE) -> str | None:
    """Check a received webhook; None when it is genuine and fresh, else why it is refused."""
    if not timestamp or not timestamp.strip().isdigit():
        return "missing_timestamp"
    if not verify(signed_content(timestamp.strip(), body), secret, signature):
        return "invalid_signature"
    if abs((time.time() if now is None else now) - int(timestamp)) > tolerance:
        return "stale_timestamp"
    return None


# ----------------------------------------------------------------------------- SMTP
@contextmanager
def smtp_session(host: str, port: int = 587, username: str = "", password: str = "", starttls: bool = True,
                 timeout: float = TIMEOUT) -> Iterator[tuple[smtplib.SMTP, str]]:
    """An SMTP session ready to send: connected, EHLO, STARTTLS (if asked), LOGIN (if a user
    name is set). Yields the connection and the name the server gives in its EHLO answer;
    every failure becomes a DropshipError with a French message."""
    if not host:
        raise DropshipError(_("Aucun serveur SMTP renseigné : indiquez le serveur d'envoi des e-mails."))
    where = f"{host}:{port}"
    try:
        smtp: smtplib.SMTP = (smtplib.SMTP_SSL(host, port, timeout=timeout, context=ssl.create_default_context())
                              if port == 465 else smtplib.SMTP(host, port, timeout=timeout))
    except socket.gaierror:
        raise DropshipError(f"Serveur SMTP introuvable : {host}.") from None
    except ConnectionRefusedError:
        raise DropshipError(_("Connexion refusée par %(where)s : vérifiez le serveur et le port.", where=where)) from None
    except (socket.timeout, TimeoutError):
        raise DropshipError(_("Le serveur SMTP %(where)s n'a pas répondu en %(timeout)s s.",
                              where=where, timeout=format(timeout, 'g'))) from None
    except ssl.SSLError as exc:
        raise DropshipError(_("Échec de la connexion chiffrée avec %(where)s : %(value)s.",
                              where=where, value=exc.reason or exc)) from None
    except (OSError, smtplib.SMTPException) as exc:
        raise DropshipError(_("Impossible de joindre le serveur SMTP %(where)s : %(exc)s", where=where, exc=exc)) from None
    try:
        code, answer = smtp.ehlo()
        if code != 250:
            raise DropshipError(f"Le serveur SMTP {where} refuse EHLO ({code}).")
        name = answer.decode(errors="replace").splitlines()[0].split()[0] if answer else host
        if starttls and port != 465:
            if not smtp.has_extn("starttls"):
                raise DropshipError(_("Le serveur SMTP %(where)s ne propose pas STARTTLS : désactivez l'option ou "
                                      "utilisez le port de soumission chiffré de votre fournisseur.", where=where))
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
        if username:
            smtp.login(username, password)
        yield smtp, name
        smtp.quit()
    except smtplib.SMTPAuthenticationError as exc:
        raise DropshipError(_("Identifiants SMTP refusés par %(where)s (%(smtp_code)s) : vérifiez l'utilisateur "
                              "et le mot de passe.", where=where, smtp_code=exc.smtp_code)) from None
    except smtplib.SMTPNotSupportedError:
        raise DropshipError(_("Le serveur SMTP %(where)s n'accepte pas l'authentification sur cette connexion : "
                              "activez STARTTLS.", where=where)) from None
    except smtplib.SMTPRecipientsRefused as exc:
        refused = ", ".join(f"{addr} ({code})" for addr, (code, _msg) in exc.recipients.items())
        raise DropshipError(_("Adresse refusée par le serveur SMTP %(where)s : %(refused)s.",
                              where=where, refused=refused)) from None
    except smtplib.SMTPSenderRefused as exc:
        raise DropshipError(_("Expéditeur %(sender)s refusé par le serveur SMTP %(where)s (%(smtp_code)s) : "
                              "vérifiez l'adresse d'expédition.",
                              sender=exc.sender, where=where, smtp_code=exc.smtp_code)) from None
    except ssl.SSLError as exc:
        raise DropshipError(_("Échec de la négociation TLS avec %(where)s : %(value)s.",
                              where=where, value=exc.reason or exc)) from None
    except (socket.timeout, TimeoutError):
        raise DropshipError(_("Le serveur SMTP %(where)s n'a pas répondu en %(timeout)s s.",
                              where=where, timeout=format(timeout, 'g'))) from None
    except (OSError, smtplib.SMTPException) as exc:
        raise DropshipError(_("Erreur SMTP avec %(where)s : %(exc)s", where=where, exc=exc)) from None
    finally:
        smtp.close()


def check_smtp(host: str, port: int = 587, username: str = "", password: str = "", starttls: bool = True,
               timeout: float = TIMEOUT) -> str:
    """Connect, EHLO, STARTTLS (if asked), LOGIN (if a user name is set), QUIT.

    Returns the name the server gives in its EHLO answer; raises DropshipError.
    """
    with smtp_session(host, port, username, password, starttls, timeout) as (_smtp, name):
        return name


def smtp_settings(settings: dict[str, Any]) -> dict[str, Any]:
    """The SMTP connection arguments held in the add-on's settings."""
    return {"host": settings.get("smtp_host") or "", "port": int(settings.get("smtp_port") or 587),
            "username": settings.get("smtp_username") or "", "password": settings.get("smtp_password") or "",
            "starttls": bool(settings.get("smtp_starttls", True))}


def send_email(settings: dict[str, Any], message: EmailMessage, timeout: float = TIMEOUT) -> None:
    """Send ``message`` through the merchant's SMTP server; raises DropshipError."""
    with smtp_session(timeout=timeout, **smtp_settings(settings)) as (smtp, _name):
        smtp.send_message(message)


# ----------------------------------------------------------------------------- webhooks
def post_webhook(url: str, payload: dict[str, Any], secret: str, timeout: float = TIMEOUT) -> dict[str, Any]:
    """POST ``payload`` to a supplier's system, signed with ``secret``; return its answer."""
    if not secret:
        raise DropshipError(_("Aucun secret de signature pour ce fournisseur : renseignez le secret partagé sur "
                              "sa fiche."))
    body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json", "Accept": "application/json", **sign_webhook(body, secret)}
    try:
        res = fetch(url, method="POST", content=body, headers=headers, timeout=timeout, total=2 * timeout,
                    max_bytes=ANSWER_LIMIT, what="le fournisseur", what_en="the supplier")
    except RemoteError as exc:
        raise DropshipError.of(exc) from None
    if res.status_code == 401:
        raise DropshipError(_("Signature refusée par le fournisseur (401) : vérifiez le secret partagé."), 401)
    if res.status_code >= 500:
        raise DropshipError(_("Le système du fournisseur est indisponible (%(status_code)s).",
                              status_code=res.status_code), res.status_code)
    if res.status_code >= 400:
        raise DropshipError(_("Bon de commande refusé par le fournisseur (%(status_code)s).",
                              status_code=res.status_code), res.status_code)
    try:
        answer = json.loads(res.content)
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


# ----------------------------------------------------------------------------- stock feeds
def fetch_feed(url: str, timeout: float = 30.0, limit: int = 20 * 1024 * 1024) -> bytes:
    """Download a supplier's stock file (redirects followed, each checked); raises
    DropshipError."""
    try:
        res = fetch(url, timeout=timeout, total=4 * timeout, max_bytes=limit,
                    what="le flux du fournisseur", what_en="the supplier's feed")
    except RemoteError as exc:
        raise DropshipError.of(exc) from None
    if res.status_code >= 400:
        raise DropshipError(_("Le flux du fournisseur répond %(status_code)s (%(url)s).",
                              status_code=res.status_code, url=url), res.status_code)
    return res.content
