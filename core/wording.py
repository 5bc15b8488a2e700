"""Errors in the merchant's words.

What a merchant reads (a shop's last error, a connection test, the sync log's first line) is a
sentence: never an exception's class name, an ``errno`` or a stack detail. The raw text stays
in the sync log, behind "Détail technique". :func:`for_merchant` turns an exception into that
sentence; :func:`plain` cleans a stored error the same way (older rows, add-ons' messages).
"""
from __future__ import annotations

import re
import socket
import ssl

from flask_babel import lazy_gettext as _l

from .i18n import PREFIXED, Deferred, message_of

#: "ShopifyError: ", "httpx.ConnectTimeout: ", "StaleInventory: " at the start of a text
_CLASS_PREFIX = re.compile(r"^(?:[a-z_][\w]*\.)*[A-Z][A-Za-z0-9]*(?:Error|Exception|Refused|Timeout|Failure|"
                           r"Inventory|Conflict|Warning|Exit|Interrupt|Change|Later)?:(?:\s+|$)")
_ERRNO = re.compile(r"\[Errno -?\d+\]\s*")
#: low-level texts and what they mean for a merchant
_KNOWN = (
    (re.compile(r"Name or service not known|nodename nor servname|getaddrinfo failed|Temporary failure in name "
                r"resolution", re.I), "adresse du service introuvable : vérifiez l'adresse saisie, ou réessayez "
                                      "plus tard si le service est en panne"),
    (re.compile(r"Connection refused|ECONNREFUSED", re.I), "le service distant refuse la connexion : il est "
                                                          "peut-être arrêté, réessayez plus tard"),
    (re.compile(r"timed? ?out|Read timeout|ConnectTimeout|ReadTimeout", re.I), "le service distant n'a pas répondu "
                                                                              "à temps : un nouvel essai est prévu"),
    (re.compile(r"CERTIFICATE_VERIFY_FAILED|certificate verify failed", re.I), "le certificat HTTPS du service "
                                                                              "distant n'est pas valable"),
)


def plain(text: str | None) -> str:
    """A stored error without its class-name prefixes and errno numbers."""
    if not text:
        return ""
    if isinstance(text, Deferred):  # the project's own message: shown in the reader's language
        return text.params["message"] if text.msgid == PREFIXED else text
    out = str(text).strip()
    for pattern, sentence in _KNOWN:
        if pattern.search(out) and (_ERRNO.search(out) or _CLASS_PREFIX.match(out)):
            return sentence[0].upper() + sentence[1:]
    while True:
        cleaned = _CLASS_PREFIX.sub("", out, count=1)
        if cleaned == out:
            break
        out = cleaned
    out = _ERRNO.sub("", out).strip()
    return out or "Erreur inattendue : réessayez ; si elle revient, le détail est dans le journal"


def for_merchant(exc: BaseException) -> str:
    """The sentence a merchant reads for ``exc``."""
    translatable = message_of(exc)
    if translatable is not None:
        return translatable
    message = getattr(exc, "message", None)
    if isinstance(message, str) and message:  # the connector kit's RemoteError and its kin
        return plain(message)
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return plain("timed out")
    if isinstance(exc, ssl.SSLError):
        return plain("certificate verify failed: x")
    if isinstance(exc, (ConnectionRefusedError,)):
        return plain("Connection refused: x")
    if isinstance(exc, socket.gaierror):
        return plain("[Errno -2] Name or service not known")
    return plain(f"{exc.__class__.__name__}: {exc}")


def raw(exc: BaseException) -> str:
    """The technical text, for the sync log's detail."""
    return f"{exc.__class__.__name__}: {exc}"


#: what a job does, in the merchant's words, found from its function's name (first match)
JOB_KINDS = (
    ("orders", ("sync_orders", "import_orders", "poll_orders", "fetch_order", "sync_shop", "backlog", "reconcile_orders"),
     _l("Import des commandes")),
    ("returns", ("return", "refund", "slip"), _l("Retours et remboursements")),
    ("stock", ("push_stock", "stock", "inventory", "offers"), _l("Envoi du stock")),
    ("tracking", ("tracking", "fulfil", "shipment", "confirm_to_send"), _l("Envoi du suivi")),
    ("webhooks", ("webhook", "notification", "process_"), _l("Notifications reçues")),
    ("catalog", ("listing", "product", "catalog"), _l("Import du catalogue")),
    ("labels", ("label", "parcel", "poll_statuses", "poll_shop"), _l("Étiquettes et suivi des colis")),
    ("connection", ("connection", "check", "subscribe", "refresh"), _l("Connexion")),
    ("decisions", ("accept", "refuse", "decision"), _l("Acceptation des commandes")),
    ("purchase", ("purchase", "batch", "feed"), _l("Fournisseurs")),
    ("hooks", ("hook:",), _l("Réaction à un évènement")),
)


#: names that would match a later kind's needle first ("offers" is also stock's)
_BEFORE = (("catalog", ("import_offers", "read_offers", "import_catalog")),)


def job_kind(func: str) -> str:
    if (func or "").startswith("hook:"):
        return "hooks"
    name = (func or "").rsplit(".", 1)[-1].lower()
    for kind, needles in _BEFORE:
        if any(n in name for n in needles):
            return kind
    for kind, needles, _label in JOB_KINDS:
        if any(n in name for n in needles):
            return kind
    return "other"


def job_label(func: str) -> str:
    kind = job_kind(func)
    return next((label for k, _n, label in JOB_KINDS if k == kind), _l("Tâche de maintenance"))
