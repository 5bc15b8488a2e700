"""The Fnac Darty Marketplace API client: XML over HTTPS on core's connector kit.

Wire facts (official XSDs, ``shared/specs/fnac``; official PHP client ``FnacMarketplace/
fnacapiclient``): ``POST <host>/api.php/<service>`` with an XML body whose root element is the
service; ``auth`` trades the partner id, the shop id and the shop's key for a token with its
``validity``; every later request carries ``partner_id``, ``shop_id`` and ``token``. Errors come
inside HTTP 200 answers (``status="ERROR"`` with ``<error>`` elements): they are raised here as
:class:`FnacError`; what concerns one order, line or offer is left to ``mapping``.

Fnac and Darty shops are distinct shops (their own shop id and key) under the seller's one
partner id: each OMS shop holds its own pair. Rate limits are not published by Fnac Darty: the
kit's retries honour a 429's ``Retry-After`` when one comes.
"""
from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any
from xml.etree import ElementTree as ET

from core.connectors import (HttpClient, OutboundRefused, Remote, RemoteError, RetryPolicy, TransportError, error_from,
                             retry_after)

from . import wire
from .wire import FAILED, Problem, element
from core.i18n import _

DEFAULT_BASE_URL = "https://vendeur.fnac.com/api.php"
#: Fnac Darty's production host and its acceptance-test host (client README, config example)
REMOTE = Remote("fnac", "Fnac Darty", ("vendeur.fnac.com", "marketplace.ws.fd-recette.net"))
#: a few seconds of retries; longer outages go back to the job queue (a retryable error)
RETRY = RetryPolicy(attempts=4, base=0.5, cap=5.0, max_wait=15.0)
#: a token is renewed this long before the validity Fnac Darty gave it
RENEW_BEFORE = 300.0
#: the answer's ``results_count`` default of ``orders_query`` and ``offers_query`` (XSD)
PAGE_SIZE = 100
#: at most this many order ids in one ``orders_fnac_id`` (OrdersQueryService.xsd, maxOccurs)
MAX_ORDER_IDS = 50


class FnacError(RemoteError):
    """A refusal or an outage of Fnac Darty; ``str()`` is the merchant's French sentence."""

    def __init__(self, message: str, *, problems: list[Problem] | None = None, credentials: bool = False,
                 **kw: Any) -> None:
        super().__init__(message, **kw)
        self.problems = list(problems or [])
        #: the partner id, shop id or key are refused: the merchant must fix the settings
        self.credentials = credentials


@dataclass
class Answer:
    """A parsed answer: its root element, overall status and top-level errors."""

    root: ET.Element
    status: str
    problems: list[Problem] = field(default_factory=list)


# ----------------------------------------------------------------------------- tokens
_tokens: dict[tuple[str, str, str, str], tuple[str, float]] = {}
_tokens_lock = threading.Lock()


def forget_tokens() -> None:
    """Drop every cached token (tests; new credentials saved), and the learnt pacing."""
    with _tokens_lock:
        _tokens.clear()
        _pace.clear()


# ----------------------------------------------------------------------------- pacing
#: Fnac Darty publishes no rate limit. After a 429 the client spaces its requests to that
#: shop by the wait Fnac Darty asked for, for PACE_FOR seconds: one 429, not one per call.
PACE_FOR = 600.0
_pace: dict[tuple[str, str], list[float]] = {}  # (host, shop id) -> [interval, until, last request]


def _is_token_problem(problems: list[Problem]) -> bool:
    """Fnac Darty refuses an expired or unknown token with an error naming it (its codes are not
    published: the code or the text mentioning the token is what the client goes by)."""
    return any("TOKEN" in p.code.upper() or "token" in p.message.lower() for p in problems)


def _sentence(problems: list[Problem]) -> str:
    return " ; ".join(str(p) for p in problems[:3]) or "sans détail"


class FnacClient:
    """One Fnac Darty shop's API: ``partner_id`` (the seller), ``shop_id`` and ``key`` (the shop)."""

    def __init__(self, partner_id: str, shop_id: str, key: str, *, base_url: str | None = None,
                 local_shop_id: int | None = None, clock: Any = None, **options: Any) -> None:
        """``options`` go to the kit's ``HttpClient`` (``retry``, ``timeout``, ``sleep``, ``http``...)."""
        self.partner_id = (partner_id or "").strip().lower()
        self.shop_id = (shop_id or "").strip().lower()
        self.key = (key or "").strip()
        self.clock = clock
        try:
            root = REMOTE.base_url(base_url or None, DEFAULT_BASE_URL)
        except OutboundRefused as exc:
            raise FnacError(exc.message, message_en=exc.message_en, retryable=False) from None
        options.setdefault("retry", RETRY)
        self.base_url = root.rstrip("/")
        self._pace_key = (self.base_url, self.shop_id)
        self.http = HttpClient(REMOTE, self.base_url, shop_id=local_shop_id, **options, on_retry=self._retried,
                               headers={"Content-Type": "text/xml; charset=utf-8", "Accept": "text/xml"})
        self.calls = 0

    @classmethod
    def from_settings(cls, settings: dict[str, Any], local_shop_id: int | None = None, **options: Any) -> "FnacClient":
        return cls(settings.get("partner_id") or "", settings.get("shop_id") or "", settings.get("key") or "",
                   base_url=settings.get("api_base_url") or None, local_shop_id=local_shop_id, **options)

    # ------------------------------------------------------------------ time and tokens
    def now(self) -> float:
        return self.clock.time() if self.clock is not None else time.time()

    def _retried(self, res: Any, wait: float) -> None:
        if res is not None and res.status_code == 429:
            self._throttled(retry_after(res) or wait)

    def _throttled(self, wait: float) -> None:
        with _tokens_lock:
            pace = _pace.setdefault(self._pace_key, [0.0, 0.0, 0.0])
            pace[0], pace[1] = min(60.0, max(pace[0], wait, 0.05)), self.now() + PACE_FOR

    def _paced(self) -> None:
        """Wait for the shop's next slot while a recent 429 set a pace."""
        with _tokens_lock:
            pace = _pace.get(self._pace_key)
            gap = (pace[2] + pace[0] - self.now()) if pace and self.now() < pace[1] else 0.0
        if gap > 0:
            self.http.sleep(gap)

    def _sent(self) -> None:
        """Note when the last request to the shop ended (retries included): the pace counts from it."""
        with _tokens_lock:
            pace = _pace.get(self._pace_key)
            if pace:
                pace[2] = self.now()

    def _cache_key(self) -> tuple[str, str, str, str]:
        return (self.base_url, self.partner_id, self.shop_id, hashlib.sha256(self.key.encode()).hexdigest())

    def token(self, *, fresh: bool = False) -> str:
        """A valid token: the cached one until ``RENEW_BEFORE`` seconds before its validity ends."""
        key = self._cache_key()
        with _tokens_lock:
            cached = _tokens.get(key)
        if cached and not fresh and cached[1] - RENEW_BEFORE > self.now():
            return cached[0]
        token, until = self.authenticate()
        with _tokens_lock:
            _tokens[key] = (token, until)
        return token

    def authenticate(self) -> tuple[str, float]:
        """``auth``: the token and when it stops being valid (epoch seconds)."""
        if not (self.partner_id and self.shop_id and self.key):
            raise FnacError(_("Identifiant partenaire, identifiant de boutique ou clé Fnac Darty manquant : "
                              "complétez les réglages."),
                            message_en="Fnac Darty partner id, shop id or key missing: complete the settings.",
                            retryable=False)
        root = element("auth", children=[element("partner_id", self.partner_id), element("shop_id", self.shop_id),
                                         element("key", self.key)])
        answer = self._post("auth", root, idempotent=True)
        token = wire.text(answer.root, "token")
        if answer.status in FAILED or not token:
            raise FnacError(_("Fnac Darty refuse l'identifiant partenaire, l'identifiant de boutique ou la clé "
                              "(%(problems)s) : vérifiez-les dans les réglages de la boutique.",
                              problems=_sentence(answer.problems)),
                            message_en="Fnac Darty refused the partner id, shop id or key "
                                       f"({_sentence(answer.problems)}): check them in the shop's settings.",
                            problems=answer.problems, status=200, retryable=False, credentials=True)
        validity = wire.parse_datetime(wire.text(answer.root, "validity"))
        until = validity.timestamp() if validity else self.now() + 3600
        return token, until

    # ------------------------------------------------------------------ one service call
    def call(self, service: str, children: list[ET.Element] | None = None, *, write: bool = False,
             **attrs: Any) -> Answer:
        """One service call with the shop's token; an expired token is renewed once. A write
        (``orders_update``) is not resent by the kit: an answer lost on the way is checked by
        reading the order before it is sent again (see ``jobs``)."""
        for attempt in (1, 2):
            root = element(service, partner_id=self.partner_id, shop_id=self.shop_id,
                           token=self.token(fresh=attempt == 2), **attrs)
            root.extend(children or [])
            answer = self._post(service, root, idempotent=not write)
            if answer.status in FAILED and _is_token_problem(answer.problems) and attempt == 1:
                continue
            break
        if answer.status in FAILED and (answer.problems or not [el for el in answer.root if el.tag != "error"]):
            # refused as a whole; an ERROR whose orders, lines or offers carry the errors is
            # returned: the caller reads them one by one (``mapping.read_update``, ``read_batch``)
            raise FnacError(_("Fnac Darty a refusé la demande %(service)s : %(problems)s.",
                              service=service, problems=_sentence(answer.problems)),
                            message_en=f"Fnac Darty refused the {service} request: {_sentence(answer.problems)}.",
                            problems=answer.problems, status=200, raw=ET.tostring(answer.root, encoding="unicode")[:2000],
                            retryable=False)
        return answer

    def _post(self, service: str, root: ET.Element, *, idempotent: bool) -> Answer:
        body, waited = wire.document(root), 0.0
        for attempt in range(self.http.retry.attempts):
            self.calls += 1
            self._paced()
            try:
                res = self.http.request("POST", f"/{service}", content=body, idempotent=idempotent)
            except TransportError as exc:  # no answer, after the retries
                raise FnacError(exc.message, message_en=exc.message_en, raw=exc.raw) from None
            finally:
                self._sent()
            # a write is never resent blindly (the kit retries only reads); a 429 though says the
            # request was not taken: it waits as asked and goes again
            wait = retry_after(res) if res.status_code == 429 and not idempotent else None
            if wait is not None:
                self._throttled(wait)
            if wait is None or waited + wait > self.http.retry.max_wait or attempt + 1 == self.http.retry.attempts:
                break
            self.http.sleep(wait)
            waited += wait
        if res.status_code in (401, 403):
            raise error_from(res, _("Fnac Darty refuse l'accès (HTTP %(status_code)s) : vérifiez les identifiants "
                                    "dans les réglages.", status_code=res.status_code),
                             f"Fnac Darty refused access (HTTP {res.status_code}): check the credentials in the "
                             "settings.", cls=FnacError, credentials=True)
        if res.status_code >= 400:  # 429 and 5xx are retryable (status, Retry-After kept)
            raise error_from(res, _("Fnac Darty n'a pas pu traiter la demande %(service)s (HTTP %(status_code)s) "
                                    "; nouvel essai plus tard.", service=service, status_code=res.status_code),
                             f"Fnac Darty could not process the {service} request (HTTP {res.status_code}); "
                             "trying again later.", cls=FnacError)
        try:
            parsed = wire.parse(res.content)
        except wire.XmlRefused:
            raise FnacError(_("Réponse illisible de Fnac Darty à la demande %(service)s ; nouvel essai plus tard.",
                              service=service),
                            message_en=f"Unreadable answer from Fnac Darty to the {service} request; trying again later.",
                            status=res.status_code, raw=res.text[:2000], retryable=True) from None
        if parsed.tag != f"{service}_response":
            raise FnacError(_("Réponse inattendue de Fnac Darty à la demande %(service)s.", service=service),
                            message_en=f"Unexpected answer from Fnac Darty to the {service} request.",
                            status=res.status_code, raw=res.text[:2000], retryable=True)
        return Answer(parsed, (parsed.get("status") or "").upper(), wire.problems(parsed))

    # ------------------------------------------------------------------ services
    def orders_query(self, *, page: int = 1, date_type: str | None = None, since: datetime | None = None,
                     until: datetime | None = None, order_ids: list[str] | None = None,
                     states: list[str] | None = None, results_count: int = PAGE_SIZE) -> Answer:
        children = [element("paging", page)]
        if date_type:
            children.append(element("date", type=date_type, children=[
                *([element("min", wire.iso(since))] if since else []),
                *([element("max", wire.iso(until))] if until else [])]))
        if states:
            children.append(element("states", children=[element("state", s) for s in states]))
        if order_ids:
            children.append(element("orders_fnac_id", children=[element("order_fnac_id", o)
                                                                for o in order_ids[:MAX_ORDER_IDS]]))
        children.append(element("sort_by", "ASC"))
        return self.call("orders_query", children, results_count=results_count)

    def orders_update(self, orders: list[ET.Element]) -> Answer:
        return self.call("orders_update", orders, write=True)

    def offers_update(self, offers: list[ET.Element]) -> Answer:
        # quantities and prices are absolute figures: sending them again changes nothing
        return self.call("offers_update", offers)

    def batch_status(self, batch_id: str) -> Answer:
        return self.call("batch_status", [element("batch_id", batch_id)])

    def carriers_query(self) -> Answer:
        return self.call("carriers_query", [element("query", "all")])

    def offers_query(self, *, page: int = 1, results_count: int = PAGE_SIZE) -> Answer:
        return self.call("offers_query", [element("paging", page)], results_count=results_count)


def utc_from(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=timezone.utc)
