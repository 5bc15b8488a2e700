"""Thin clients for Colissimo's web services and La Poste's tracking API.

* SLS ("Simple Label Solution") REST 2.0, ``https://ws.colissimo.fr/sls-ws/SlsServiceWSRest/2.0``:
  ``POST /generateLabel`` answers ``multipart/mixed`` (a JSON part ``<jsonInfos>`` and the
  binary label ``<label>``, plus the CN23 outside the EU) — split on bytes in :mod:`.mapping`;
  ``POST /checkGenerateLabel`` validates without printing. Authentication: the ``apiKey``
  header (the current mode) or ``contractNumber`` + ``password`` in the body, never both.
* Point retrait v2, ``https://ws.colissimo.fr/pointretrait-ws-cxf/rest/v2/pointretrait``:
  ``POST /findRDVPointRetraitAcheminement`` (points near an address, with opening hours).
* La Poste Suivi v2, ``https://api.laposte.fr/suivi/v2``: ``GET /idships/{id,id,…}`` (up to 10
  numbers a call), header ``X-Okapi-Key``.

Every call goes through core's connector kit (pooled client, bounded retries of reads,
redacted logs). A label POST is never resent by the transport; Colissimo bills a label at its
first scan, so a retry after a lost answer makes a new label and the unused one is never billed.
"""
from __future__ import annotations

from typing import Any

import httpx

from core.connectors import HttpClient, OutboundRefused, Remote, RemoteError, RetryPolicy, TransportError, redact
from core.connectors.http import retry_after
from core.i18n import _

SLS_BASE_URL = "https://ws.colissimo.fr/sls-ws/SlsServiceWSRest/2.0"
POINTS_BASE_URL = "https://ws.colissimo.fr/pointretrait-ws-cxf/rest/v2/pointretrait"
TRACKING_BASE_URL = "https://api.laposte.fr/suivi/v2"
REMOTE = Remote("colissimo", "Colissimo", ("ws.colissimo.fr",))
TRACKING_REMOTE = Remote("laposte_suivi", "Suivi La Poste", ("api.laposte.fr",))
TIMEOUT = 15.0
RETRY = RetryPolicy(attempts=3, base=0.25, cap=2.0, max_wait=3.0)
TRANSIENT = {429, 500, 502, 503, 504}
#: La Poste's Suivi v2 takes up to this many numbers in one call
TRACK_BATCH = 10


class ColissimoError(RemoteError):
    """A refusal or an outage, with a sentence for the merchant (French)."""

    def __init__(self, message: str, status: int | None = None, detail: str = "", **kw: Any) -> None:
        kw.setdefault("retryable", status is None or status in TRANSIENT)
        super().__init__(message, status=status, raw=kw.pop("raw", detail), **kw)
        self.detail = detail

    @property
    def transient(self) -> bool:
        return self.retryable


def _raise_for_status(res: httpx.Response, what: str) -> None:
    code = res.status_code
    if code < 400:
        return
    detail = ""
    try:
        body = res.json()
        messages = body.get("messages") if isinstance(body, dict) else None
        if messages:
            detail = "; ".join(f"{m.get('id')} {m.get('messageContent')}" for m in messages if isinstance(m, dict))
        elif isinstance(body, dict):
            detail = str(body.get("errorLabel") or body.get("message") or body.get("returnMessage") or
                         body.get("error") or "")
    except ValueError:
        pass
    s = f" [{detail}]" if detail else ""
    if code in (401, 403):
        msg = f"Identifiants refusés par {what} ({code}){s} : vérifiez la clé dans les paramètres."
    elif code == 429:
        msg = f"Trop de requêtes vers {what} (429) : réessayez dans une minute."
    elif code >= 500:
        msg = f"{what} est indisponible ({code}){s} : réessayez plus tard."
    else:
        msg = f"Requête refusée par {what} ({code}){s}."
    raise ColissimoError(msg, code, detail, raw=redact.text(res.text), retry_after=retry_after(res))


class ColissimoClient:
    def __init__(self, settings: dict[str, Any], shop_id: int | None = None, *, http: httpx.Client | None = None,
                 timeout: float = TIMEOUT) -> None:
        self.api_key = (settings.get("api_key") or "").strip()
        self.contract = (settings.get("contract_number") or "").strip()
        self.password = settings.get("password") or ""
        if not self.api_key and not (self.contract and self.password):
            raise ColissimoError(_("Paramètres Colissimo incomplets : renseignez la clé API Colissimo (ou le "
                                   "numéro de contrat et le mot de passe des web services)."), retryable=False)
        try:
            sls = REMOTE.base_url(settings.get("api_base_url"), SLS_BASE_URL)
            points = REMOTE.base_url(settings.get("points_base_url"), POINTS_BASE_URL, what="l'API des points retrait",
                                     what_en="pick-up point API")
        except OutboundRefused as exc:
            raise ColissimoError(exc.message, message_en=exc.message_en, retryable=False) from None
        headers = {"Accept": "application/json"}
        if self.api_key:
            headers["apiKey"] = self.api_key
        self.sls = HttpClient(REMOTE, sls, shop_id=shop_id, timeout=timeout, retry=RETRY, headers=headers, http=http)
        self.points = HttpClient(REMOTE, points, shop_id=shop_id, timeout=timeout, retry=RETRY, headers=headers,
                                 http=http)

    def credentials(self) -> dict[str, str]:
        """What goes in the body: nothing in the API-key mode, else the contract and password."""
        return {} if self.api_key else {"contractNumber": self.contract, "password": self.password}

    def _post(self, http: HttpClient, path: str, body: dict[str, Any], *, what: str) -> httpx.Response:
        try:
            res = http.request("POST", path, json=body)
        except TransportError as exc:
            raise ColissimoError(exc.message, message_en=exc.message_en, raw=exc.raw) from None
        _raise_for_status(res, what)
        return res

    def generate_label(self, body: dict[str, Any]) -> httpx.Response:
        """``POST /generateLabel`` (the raw answer: a multipart body, or a JSON refusal)."""
        return self._post(self.sls, "/generateLabel", {**self.credentials(), **body}, what="Colissimo")

    def check_label(self, body: dict[str, Any]) -> dict[str, Any]:
        """``POST /checkGenerateLabel``: the same checks, nothing printed nor billed."""
        res = self._post(self.sls, "/checkGenerateLabel", {**self.credentials(), **body}, what="Colissimo")
        try:
            return res.json()
        except ValueError:
            raise ColissimoError(_("Réponse illisible de Colissimo (JSON attendu)."), res.status_code) from None

    def find_points(self, query: dict[str, Any]) -> dict[str, Any]:
        """``POST /findRDVPointRetraitAcheminement``."""
        body = {"accountNumber": self.contract, **({"password": self.password} if not self.api_key else {}), **query}
        res = self._post(self.points, "/findRDVPointRetraitAcheminement", body, what="Colissimo (points retrait)")
        try:
            return res.json()
        except ValueError:
            raise ColissimoError(_("Réponse illisible de Colissimo (JSON attendu)."), res.status_code) from None


class SuiviClient:
    """La Poste Suivi v2 with the merchant's Okapi key."""

    def __init__(self, key: str, base_url: str | None = None, shop_id: int | None = None, *,
                 http: httpx.Client | None = None) -> None:
        if not key:
            raise ColissimoError(_("Renseignez la clé API La Poste (Suivi v2) pour suivre les colis."), retryable=False)
        try:
            root = TRACKING_REMOTE.base_url(base_url, TRACKING_BASE_URL, what="l'API de suivi", what_en="tracking API")
        except OutboundRefused as exc:
            raise ColissimoError(exc.message, message_en=exc.message_en, retryable=False) from None
        self.http = HttpClient(TRACKING_REMOTE, root, shop_id=shop_id, timeout=TIMEOUT, retry=RETRY, http=http,
                               headers={"X-Okapi-Key": key, "Accept": "application/json"})

    def idships(self, numbers: list[str], lang: str = "fr_FR") -> list[dict[str, Any]]:
        """``GET /idships/{n1,n2,…}`` (≤ 10): one entry per number, found or not."""
        if not numbers or len(numbers) > TRACK_BATCH:
            raise ValueError(_("1 à %(track_batch)s numéros par appel", track_batch=TRACK_BATCH))
        try:
            res = self.http.request("GET", f"/idships/{','.join(numbers)}", params={"lang": lang})
        except TransportError as exc:
            raise ColissimoError(exc.message, message_en=exc.message_en, raw=exc.raw) from None
        if res.status_code in (200, 207, 404) and res.headers.get("content-type", "").startswith("application/json"):
            body = res.json()
            return body if isinstance(body, list) else [body]
        _raise_for_status(res, "le suivi La Poste")
        return []
