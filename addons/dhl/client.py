"""Thin clients for DHL Express's MyDHL API and DHL's Shipment Tracking – Unified API.

MyDHL API (``https://express.api.dhl.com/mydhlapi``): HTTP Basic with the API key as user name
and the API secret as password; the Express account number is not a credential, it travels in
the body (``accounts: [{typeCode: "shipper", number}]``) or the query. Every call carries
``Message-Reference`` (a UUID, 28–36 characters) and ``Message-Reference-Date``, plus the
platform headers DHL asks integrators to fill. Errors are problem documents
(``{instance, detail, title, message, status, additionalDetails}``, ``status`` a string).

Shipment Tracking – Unified (``https://api-eu.dhl.com/track/shipments``): header
``DHL-API-Key`` only; ``service`` is always sent, otherwise the API may answer with another
DHL service's parcel of the same number. 404 is "not visible yet", not a failure.

Reads (GET) are retried by the kit on 429/5xx with a short bounded backoff; ``POST /shipments``
is never resent by the transport: a label is paid for, and a request without an answer is
looked up by its customer reference before it is repeated (see :mod:`.labels`).
"""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

import httpx

from core.connectors import HttpClient, OutboundRefused, Remote, RemoteError, RetryPolicy, TransportError, redact
from core.connectors.http import retry_after
from core.i18n import _

MYDHL_BASE_URL = "https://express.api.dhl.com/mydhlapi"
TRACKING_BASE_URL = "https://api-eu.dhl.com/track"
REMOTE = Remote("dhl", "DHL Express", ("express.api.dhl.com", "api-mock.dhl.com"))
TRACKING_REMOTE = Remote("dhl_tracking", "Suivi DHL", ("api-eu.dhl.com",))
TIMEOUT = 15.0
#: label and rate pages wait seconds, not minutes
RETRY = RetryPolicy(attempts=3, base=0.25, cap=2.0, max_wait=3.0)
TRANSIENT = {429, 500, 502, 503, 504}
PLUGIN_HEADERS = {"Plugin-Name": "OMS", "Plugin-Version": "1.0.0",
                  "Shipping-System-Platform-Name": "OMS", "Shipping-System-Platform-Version": "1"}


class DhlError(RemoteError):
    """A failed DHL call, with a sentence for the merchant (French)."""

    def __init__(self, message: str, status: int | None = None, detail: str = "", **kw: Any) -> None:
        kw.setdefault("retryable", status is None or status in TRANSIENT)
        super().__init__(message, status=status, raw=kw.pop("raw", detail), **kw)
        self.detail = detail

    @property
    def transient(self) -> bool:
        return self.retryable


def _problem_detail(res: httpx.Response) -> str:
    try:
        body = res.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    detail = str(body.get("detail") or body.get("message") or body.get("title") or "")
    extra = body.get("additionalDetails") or []
    if extra and isinstance(extra, list):
        detail = f"{detail} ({'; '.join(str(x) for x in extra[:3])})" if detail else "; ".join(map(str, extra[:3]))
    return detail[:400]


def raise_for_status(res: httpx.Response, what: str = "DHL Express") -> None:
    code = res.status_code
    if code < 400:
        return
    detail = _problem_detail(res)
    s = f" [{detail}]" if detail else ""
    if code == 401:
        msg = (f"Identifiants {what} refusés (401){s} : vérifiez la clé et le secret API de votre application "
               "sur developer.dhl.com.")
    elif code == 403:
        msg = f"Accès refusé par {what} (403){s} : votre application n'a pas accès à ce service."
    elif code == 404:
        msg = f"Introuvable chez {what} (404){s}."
    elif code == 429:
        msg = f"Trop de requêtes vers {what} (429) : le quota de votre clé est atteint, réessayez plus tard."
    elif code >= 500:
        msg = f"{what} est indisponible ({code}){s} : réessayez plus tard."
    else:
        msg = f"Requête refusée par {what} ({code}){s}."
    raise DhlError(msg, code, detail, raw=redact.text(res.text), retry_after=retry_after(res))


def message_headers(reference: str | None = None, now: datetime | None = None) -> dict[str, str]:
    """``Message-Reference`` (28–36 characters) and its date, in RFC 1123 form."""
    at = now or datetime.now(timezone.utc)
    return {"Message-Reference": reference or str(uuid.uuid4()),
            "Message-Reference-Date": at.strftime("%a, %d %b %Y %H:%M:%S GMT"), **PLUGIN_HEADERS}


class MyDhlClient:
    def __init__(self, api_key: str, api_secret: str, account_number: str, base_url: str | None = None, *,
                 shop_id: int | None = None, timeout: float = TIMEOUT, retry: RetryPolicy = RETRY,
                 http: httpx.Client | None = None) -> None:
        if not api_key or not api_secret or not account_number:
            raise DhlError(_("Paramètres DHL Express incomplets : renseignez la clé API, le secret API et le "
                             "numéro de compte DHL Express."), retryable=False)
        try:
            root = REMOTE.base_url(base_url, MYDHL_BASE_URL)
        except OutboundRefused as exc:
            raise DhlError(exc.message, message_en=exc.message_en, retryable=False) from None
        self.account_number = account_number
        self.http = HttpClient(REMOTE, root, shop_id=shop_id, timeout=timeout, retry=retry,
                               auth=(api_key, api_secret), http=http,
                               headers={"Accept": "application/json", "x-version": "3.1.1"})

    def _call(self, method: str, path: str, *, reference: str | None = None, **kw: Any) -> httpx.Response:
        try:
            res = self.http.request(method, path, headers=message_headers(reference), **kw)
        except TransportError as exc:
            raise DhlError(exc.message, message_en=exc.message_en, raw=exc.raw) from None
        raise_for_status(res)
        return res

    def _json(self, res: httpx.Response) -> dict[str, Any]:
        try:
            body = res.json()
        except ValueError:
            raise DhlError(_("Réponse illisible de DHL Express (JSON attendu)."), res.status_code) from None
        return body if isinstance(body, dict) else {}

    # ---------------------------------------------------------------- rates and products
    def rates(self, body: dict[str, Any]) -> dict[str, Any]:
        """``POST /rates`` (multi-piece): the products and prices of the lane for the account."""
        return self._json(self._call("POST", "/rates", json=body, idempotent=True))

    def rate_one(self, params: dict[str, Any]) -> dict[str, Any]:
        """``GET /rates`` for one piece (the connection test)."""
        return self._json(self._call("GET", "/rates", params={"accountNumber": self.account_number, **params}))

    # ---------------------------------------------------------------- shipments
    def create_shipment(self, body: dict[str, Any], *, message_reference: str) -> dict[str, Any]:
        """``POST /shipments``: the label, waybill and invoice (base64), never resent here."""
        return self._json(self._call("POST", "/shipments", json=body, reference=message_reference,
                                     params={"strictValidation": "false", "bypassPLTError": "false",
                                             "validateDataOnly": "false"}))

    def find_by_reference(self, reference: str, date_from: str, date_to: str) -> str | None:
        """The waybill number of the account's shipment sent with this customer reference
        (``GET /tracking`` by ``shipmentReference``), or None when DHL has none."""
        try:
            body = self._json(self._call("GET", "/tracking", params={
                "shipmentReference": reference, "shipmentReferenceType": "CU",
                "shipperAccountNumber": self.account_number, "dateRangeFrom": date_from, "dateRangeTo": date_to,
                "trackingView": "shipment-details-only", "levelOfDetail": "shipment"}))
        except DhlError as exc:
            if exc.status == 404:
                return None
            raise
        for shipment in body.get("shipments") or []:
            number = shipment.get("shipmentTrackingNumber")
            if number:
                return str(number)
        return None

    def get_image(self, number: str, year_month: str, type_code: str = "waybill") -> list[dict[str, Any]]:
        """``GET /shipments/{n}/get-image``: documents of an existing shipment (base64)."""
        body = self._json(self._call("GET", f"/shipments/{number}/get-image", params={
            "shipperAccountNumber": self.account_number, "typeCode": type_code, "pickupYearAndMonth": year_month,
            "encodingFormat": "pdf"}))
        return list(body.get("documents") or [])

    # ---------------------------------------------------------------- pickups
    def create_pickup(self, body: dict[str, Any]) -> dict[str, Any]:
        return self._json(self._call("POST", "/pickups", json=body))

    def cancel_pickup(self, dispatch_confirmation_number: str, requestor: str, reason: str) -> None:
        self._call("DELETE", f"/pickups/{dispatch_confirmation_number}",
                   params={"requestorName": requestor[:45], "reason": reason[:80]})


class TrackingClient:
    """Shipment Tracking – Unified, one merchant's key."""

    def __init__(self, api_key: str, base_url: str | None = None, *, shop_id: int | None = None,
                 timeout: float = TIMEOUT, http: httpx.Client | None = None) -> None:
        if not api_key:
            raise DhlError(_("Renseignez la clé de l'API Shipment Tracking – Unified pour suivre les colis DHL."),
                           retryable=False)
        try:
            root = TRACKING_REMOTE.base_url(base_url, TRACKING_BASE_URL, what="l'API de suivi", what_en="tracking API")
        except OutboundRefused as exc:
            raise DhlError(exc.message, message_en=exc.message_en, retryable=False) from None
        # one try: every call counts against the key's small daily quota
        self.http = HttpClient(TRACKING_REMOTE, root, shop_id=shop_id, timeout=timeout,
                               retry=RetryPolicy(attempts=1, max_wait=0.0), http=http,
                               headers={"DHL-API-Key": api_key, "Accept": "application/json"})

    def shipment(self, number: str, service: str = "express", language: str = "fr") -> dict[str, Any] | None:
        """``GET /shipments?trackingNumber=…&service=…``: the parcel, or None (404: not visible yet)."""
        try:
            res = self.http.request("GET", "/shipments", params={"trackingNumber": number, "service": service,
                                                                  "language": language})
        except TransportError as exc:
            raise DhlError(exc.message, message_en=exc.message_en, raw=exc.raw) from None
        if res.status_code == 404:
            return None
        raise_for_status(res, "le suivi DHL")
        try:
            shipments = res.json().get("shipments") or []
        except (ValueError, AttributeError):
            raise DhlError(_("Réponse illisible du suivi DHL (JSON attendu)."), res.status_code) from None
        return shipments[0] if shipments else None
