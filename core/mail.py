"""The installation's own e-mail: invitations and the owners' daily digest.

Configured with ``OMS_SMTP_HOST``, ``OMS_SMTP_PORT`` (587), ``OMS_SMTP_USER``,
``OMS_SMTP_PASSWORD``, ``OMS_SMTP_STARTTLS`` (1) and ``OMS_MAIL_FROM``. Port 465 speaks TLS
from the first byte. Without a host nothing is sent: :func:`send` says so and the caller
shows the merchant what would have been sent (the invitation link). The password is never
logged.
"""
from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr, make_msgid

from flask import current_app
from .i18n import _

log = logging.getLogger(__name__)
TIMEOUT = 15.0


class MailError(RuntimeError):
    """The message could not be handed to the SMTP server (a sentence for the merchant)."""


def configured() -> bool:
    return bool(current_app.config.get("SMTP_HOST"))


def sender() -> str:
    config = current_app.config
    return config.get("MAIL_FROM") or config.get("SMTP_USER") or "oms@localhost"


def send(to: str, subject: str, text: str, html: str | None = None) -> bool:
    """Send one message; False when no SMTP server is configured, :class:`MailError` when
    the server refused or could not be reached."""
    config = current_app.config
    host = config.get("SMTP_HOST")
    if not host:
        return False
    msg = EmailMessage()
    msg["From"] = formataddr(("OMS", sender()))
    msg["To"] = to
    msg["Subject"] = subject
    msg["Message-ID"] = make_msgid(domain=sender().rpartition("@")[2] or "localhost")
    msg.set_content(text)
    if html:
        msg.add_alternative(html, subtype="html")
    port = int(config.get("SMTP_PORT") or 587)
    try:
        if port == 465:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=TIMEOUT, context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(host, port, timeout=TIMEOUT)
        with smtp:
            smtp.ehlo()
            if port != 465 and config.get("SMTP_STARTTLS") and smtp.has_extn("starttls"):
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            if config.get("SMTP_USER"):
                smtp.login(config["SMTP_USER"], config.get("SMTP_PASSWORD") or "")
            smtp.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        log.warning("mail to %s not sent: %s", to, exc.__class__.__name__)
        raise MailError(_("le serveur d'e-mail %(host)s:%(port)s n'a pas accepté le message : vérifiez "
                          "OMS_SMTP_HOST, OMS_SMTP_PORT et l'identifiant d'envoi", host=host, port=port)) from None
    return True
