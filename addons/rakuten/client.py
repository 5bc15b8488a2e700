"""The wire of Rakuten France's seller web services, on core's connector kit.

Facts (see ``specs/README.md`` for every source):

* hosts ``https://ws.fr.shopping.rakuten.com`` (production) and
  ``https://sandbox.fr.shopping.rakuten.com`` (Rakuten's own test platform), services
  ``/sales_ws`` and ``/stock_ws``, ``?action=<name>`` — Rakuten's developer pages
  (global.fr.shopping.rakuten.com/developpeur/…, "2. Url"), marketplaces.md §5;
* authentication: ``login`` (the seller's login) and ``pwd`` (the web-service token, not
  the account password) as query parameters of every call, with the action's ``version`` —
  Rakuten's pages ("3. Paramètres"), "Identification par token";
* answers are XML; a refusal is an ``<errorresponse>`` (namespace
  ``https://static.fr.shopping.rakuten.com/res/schema/error``) with ``type``, ``code``,
  ``message`` and ``details/detail``, often **with HTTP 200** — Rakuten's pages ("5. Erreurs
  possibles") and the quazardous/priceminister-ws client, which looks for ``<errorresponse``
  in every body whatever the status;
* the inventory file goes as a multipart POST (field ``file``) — Rakuten's
  genericimportfile page ("Il faut transmettre le fichier d'import de stock en POST /
  multiPart").

The token travels in the query string: it is passed as ``params`` so that the kit's log line
(the path only) never carries it.
"""
from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from core.connectors import HttpClient, OutboundRefused, Remote, RemoteError, RetryPolicy, TransportError
from core.connectors import redact
from core.connectors.http import retry_after

from .versions import ACTIONS
from core.i18n import _

DEFAULT_BASE_URL = "https://ws.fr.shopping.rakuten.com"
REMOTE = Remote("rakuten", "Rakuten France", ("ws.fr.shopping.rakuten.com", "sandbox.fr.shopping.rakuten.com"))
#: a few seconds of retries for reads: longer outages go back to the job queue
RETRY = RetryPolicy(attempts=4, base=0.5, cap=5.0, max_wait=15.0)
#: writes (accept, refuse, cancel, import a file) are never resent blind: a 429 means "not
#: done" and is waited out up to this long; a 5xx or no answer is ambiguous (read it back)
WRITE_429_WAIT = 30.0
WRITE_ACTIONS = frozenset({"acceptsale", "refusesale", "cancelitem", "genericimportfile"})


class RakutenError(RemoteError):
    """A refusal or an outage of Rakuten; ``str()`` is the merchant's French sentence.
    ``code`` is Rakuten's error code (``ParameterError``, ``InvalidUserRights``…), and
    ``ambiguous`` says that a write may have been done without its answer reaching us."""

    def __init__(self, message: str, *, code: str = "", details: list[str] | None = None,
                 ambiguous: bool = False, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.code = code
        self.details = details or []
        self.ambiguous = ambiguous


def local(tag: str) -> str:
    """An element's name without its namespace (Rakuten gives each answer its own)."""
    return tag.rsplit("}", 1)[-1]


def child(el: ET.Element | None, name: str) -> ET.Element | None:
    if el is None:
        return None
    return next((c for c in el if local(c.tag) == name), None)


def children(el: ET.Element | None, name: str) -> list[ET.Element]:
    return [] if el is None else [c for c in el if local(c.tag) == name]


def text(el: ET.Element | None, *path: str, default: str = "") -> str:
    for name in path:
        el = child(el, name)
    return (el.text or "").strip() if el is not None and el.text else default


@dataclass(frozen=True)
class Answer:
    """A parsed answer: the result element and the ``lastversion`` Rakuten announced."""

    root: ET.Element
    response: ET.Element | None
    lastversion: str | None


def parse(body: bytes) -> ET.Element:
    """The XML document, or a RakutenError (an HTML page from a proxy, a cut answer)."""
    try:
        return ET.fromstring(body)
    except ET.ParseError:
        raise RakutenError(_("Rakuten a renvoyé une réponse illisible (pas du XML) : réessayez plus tard."),
                           message_en="Rakuten sent an unreadable answer (not XML): try again later.",
                           raw=redact.text(body[:2000].decode("utf-8", "replace")), retryable=True) from None


def error_of(root: ET.Element, status: int, raw: str) -> RakutenError | None:
    """The ``<errorresponse>`` inside an answer (HTTP 200 included), as a RakutenError."""
    if local(root.tag) != "errorresponse":
        return None
    err = child(root, "error")
    kind, code, message = text(err, "type"), text(err, "code"), text(err, "message")
    details = [(d.text or "").strip() for d in children(child(err, "details"), "detail") if (d.text or "").strip()]
    detail = "; ".join(details)
    if code in ("InvalidUserRights", "InvalidUser", "Unauthorized") or "unknown user" in message.lower() \
            or "password" in message.lower():
        fr = ("Rakuten refuse l'identifiant ou le jeton web-service : vérifiez-les dans les réglages (Mon compte › "
              "Mes informations développeur › jeton).")
        en = ("Rakuten refuses the login or the web-service token: check them in the settings (My account › "
              "My developer information › token).")
        return RakutenError(fr, message_en=en, code=code, details=details, status=status, raw=raw, retryable=False)
    if "version" in detail.lower() and "not supported" in detail.lower():
        fr = (f"Rakuten n'accepte plus la version demandée pour ce service ({detail}) : l'exploitant doit mettre "
              "à jour la version de l'action (oms rakuten-versions).")
        en = (f"Rakuten no longer accepts the version asked for this service ({detail}): the operator must update "
              "the action's version (oms rakuten-versions).")
        return RakutenError(fr, message_en=en, code=code, details=details, status=status, raw=raw, retryable=False)
    retryable = kind in ("ServerError", "Unknown error") or code in ("ServerError", "Unknown error",
                                                                    "TooManyRequests")
    fr = f"Rakuten a refusé la demande : {message or code}" + (f" ({detail})" if detail else "") + "."
    en = f"Rakuten refused the request: {message or code}" + (f" ({detail})" if detail else "") + "."
    return RakutenError(fr, message_en=en, code=code, details=details, status=status, raw=raw, retryable=retryable)


class Client:
    """Calls for one seller account. ``versions`` maps each action to the ``version`` sent
    (``versions.current_versions()``: configuration, not code)."""

    def __init__(self, login: str, token: str, versions: dict[str, str], *, base_url: str | None = None,
                 shop_id: int | None = None, sleep: Callable[[float], None] | None = None, **options: Any) -> None:
        try:
            root = REMOTE.base_url(base_url, DEFAULT_BASE_URL)
        except OutboundRefused as exc:
            raise RakutenError(exc.message, message_en=exc.message_en, retryable=False) from None
        options.setdefault("retry", RETRY)
        if sleep is not None:
            options["sleep"] = sleep
        self.sleep = options.get("sleep") or time.sleep
        self.login = login
        self.token = token
        self.versions = versions
        self.http = HttpClient(REMOTE, root, shop_id=shop_id, headers={"Accept": "application/xml"}, **options)

    # ------------------------------------------------------------------ the one call
    def call(self, action: str, params: dict[str, Any] | None = None, *, files: dict[str, Any] | None = None,
             safe_to_resend: bool | None = None) -> Answer:
        """One action: its answer, or RakutenError (an ``<errorresponse>`` found in any
        answer, HTTP 200 included). Reads are retried by the kit; writes are not resent
        blind (``WRITE_ACTIONS``): a 429 is waited out, anything else without a clear answer
        is ``ambiguous``."""
        spec = ACTIONS[action]
        query = {"action": action, "login": self.login, "pwd": self.token,
                 "version": self.versions.get(action, spec.version)}
        query.update({k: v for k, v in (params or {}).items() if v is not None and v != ""})
        write = action in WRITE_ACTIONS if safe_to_resend is None else not safe_to_resend
        method = "POST" if files else "GET"
        waited = 0.0
        while True:
            try:
                res = self.http.request(method, f"/{spec.service}", params=query, files=files,
                                        idempotent=not write)
            except TransportError as exc:
                raise RakutenError(exc.message, message_en=exc.message_en, raw=exc.raw, retryable=True,
                                   ambiguous=write) from None
            if write and res.status_code == 429:
                wait = retry_after(res) or 5.0
                if waited + wait <= WRITE_429_WAIT:
                    self.sleep(wait)
                    waited += wait
                    continue
            return self._answer(res, ambiguous=write)

    def _answer(self, res: httpx.Response, *, ambiguous: bool) -> Answer:
        raw = redact.text(res.text[:4000]) if res.content else ""
        if res.status_code == 429:
            raise RakutenError(_("Rakuten limite le nombre d'appels : la synchronisation reprendra un peu plus "
                                 "tard."),
                               message_en="Rakuten limits the number of calls: the sync will resume a little later.",
                               status=429, raw=raw, retryable=True, retry_after=retry_after(res))
        root = None
        if res.content and b"<" in res.content[:200]:
            try:
                root = ET.fromstring(res.content)
            except ET.ParseError:
                root = None
        if root is not None:
            error = error_of(root, res.status_code, raw)
            if error is not None:
                if res.status_code >= 500 and ambiguous:
                    error.ambiguous = True
                raise error
        if res.status_code in (401, 403):
            raise RakutenError(_("Rakuten refuse l'identifiant ou le jeton web-service : vérifiez-les dans les "
                                 "réglages."),
                               message_en="Rakuten refuses the login or the web-service token: check the settings.",
                               status=res.status_code, raw=raw, retryable=False)
        if res.status_code >= 400:
            raise RakutenError(_("Rakuten a répondu par une erreur (HTTP %(status_code)s) : réessayez plus tard.",
                                 status_code=res.status_code),
                               message_en=f"Rakuten answered with an error (HTTP {res.status_code}): try again later.",
                               status=res.status_code, raw=raw, ambiguous=ambiguous and res.status_code >= 500)
        if root is None:
            root = parse(res.content)
        response = child(root, "response")
        return Answer(root, response, text(response, "lastversion") or None)

    # ------------------------------------------------------------------ actions
    def new_sales(self) -> Answer:
        return self.call("getnewsales")

    def current_sales(self, purchasedate: str | None = None, nexttoken: str | None = None) -> Answer:
        return self.call("getcurrentsales", {"purchasedate": purchasedate, "nexttoken": nexttoken})

    def item_infos(self, itemid: str) -> Answer:
        return self.call("getiteminfos", {"itemid": itemid})

    def accept(self, itemid: str) -> Answer:
        return self.call("acceptsale", {"itemid": itemid})

    def refuse(self, itemid: str) -> Answer:
        return self.call("refusesale", {"itemid": itemid})

    def cancel(self, itemid: str, comment: str) -> Answer:
        return self.call("cancelitem", {"itemid": itemid, "comment": comment})

    def set_tracking(self, itemid: str, transporter: str, number: str, url: str | None) -> Answer:
        # setting the same tracking again changes nothing at Rakuten: safe to resend
        return self.call("settrackingpackageinfos", {"itemid": itemid, "transporter_name": transporter,
                                                     "tracking_number": number, "tracking_url": url},
                         safe_to_resend=True)

    def import_file(self, xml: bytes, filename: str) -> Answer:
        return self.call("genericimportfile", files={"file": (filename, xml, "text/xml")})

    def export(self, nexttoken: str | None = None) -> Answer:
        """The seller's adverts (inventory export), paged by ``nexttoken``."""
        return self.call("export", {"nexttoken": nexttoken})

    def import_report(self, fileid: str, nexttoken: str | None = None) -> Answer:
        return self.call("genericimportreport", {"fileid": fileid, "nexttoken": nexttoken})
