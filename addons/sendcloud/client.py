"""A thin client for the Sendcloud API, v3 and v2.

HTTP Basic authentication (public key as user name, secret key as password). v3 is the
current API: v2 is in maintenance mode and closed to parcel creation for accounts created
after 2026-04-13, and v3 shipping options (``POST /shipping-options``) replace the v2
shipping methods. Accounts created before that date may keep v2 parcels (``POST /parcels``);
the add-on's settings choose. Both versions live under one root (``…/api``): the client
adds ``/v3`` or ``/v2``.

Calls go through core's connector kit: one pooled connection set per shop, reads (GET)
retried on 429/5xx with a short bounded backoff (a label page waits seconds, not minutes),
parcel creation never sent twice by the transport (its retries are the label job's, keyed by
the shipment's external reference), exchanges logged with the keys masked. The API address
is Sendcloud's panel unless the installation runs the emulators or the operator allows the
override's host.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import httpx

from core.connectors import HttpClient, OutboundRefused, Remote, RemoteError, RetryPolicy, TransportError, redact
from core.i18n import _

DEFAULT_BASE_URL = "https://panel.sendcloud.sc/api"
VERSIONS = ("v3", "v2")
TIMEOUT = 10.0
#: statuses worth a new try later: rate limit and server errors (None: no answer at all)
TRANSIENT = {429, 500, 502, 503, 504}
REMOTE = Remote("sendcloud", "Sendcloud", ("panel.sendcloud.sc",))
#: reads retried within a few seconds: quotes and labels are asked for while a page waits
RETRY = RetryPolicy(attempts=3, base=0.25, cap=2.0, max_wait=3.0)
_GRAMS = {"kg": Decimal(1000), "g": Decimal(1), "lbs": Decimal("453.59237"), "oz": Decimal("28.349523125")}


class SendcloudError(RemoteError):
    """A failed Sendcloud call, with a message for the merchant (French)."""

    def __init__(self, message: str, status: int | None = None, detail: str = "", **kw: Any) -> None:
        kw.setdefault("retryable", status is None or status in TRANSIENT)
        super().__init__(message, status=status, raw=kw.pop("raw", detail), **kw)
        self.detail = detail

    @property
    def transient(self) -> bool:
        """Sendcloud unreachable, too slow, rate-limited or failing: try again later."""
        return self.retryable


def api_root(base_url: str | None) -> str:
    """``https://panel.sendcloud.sc/api/v3`` or ``…/api`` → ``…/api`` (the version is added per call)."""
    root = (base_url or DEFAULT_BASE_URL).rstrip("/")
    for version in VERSIONS:
        if root.endswith("/" + version):
            return root[: -len(version) - 1]
    return root


@dataclass(frozen=True)
class ShippingOption:
    code: str
    name: str
    carrier_code: str
    carrier_name: str
    min_weight_grams: int | None
    max_weight_grams: int | None


def grams(weight: dict[str, Any] | None) -> int | None:
    """``{"value": "2.5", "unit": "kg"}`` → 2500."""
    if not weight:
        return None
    try:
        value = Decimal(str(weight.get("value")))
    except (InvalidOperation, ValueError):
        return None
    factor = _GRAMS.get(str(weight.get("unit") or "kg"))
    return None if factor is None else int((value * factor).to_integral_value())


class SendcloudClient:
    def __init__(self, public_key: str, secret_key: str, base_url: str | None = None,
                 timeout: float = TIMEOUT, version: str = "v3", shop_id: int | None = None,
                 retry: RetryPolicy = RETRY) -> None:
        if not public_key or not secret_key:
            raise SendcloudError(_("Paramètres Sendcloud incomplets : renseignez la clé publique et la clé "
                                   "secrète."))
        if version not in VERSIONS:
            raise SendcloudError(_("Version d'API Sendcloud inconnue : %(version)s", version=version))
        try:
            root = api_root(REMOTE.base_url(base_url, DEFAULT_BASE_URL))
        except OutboundRefused as exc:
            raise SendcloudError(exc.message, message_en=exc.message_en, retryable=False) from None
        self.root = root
        self.version = version
        self.timeout = timeout
        self.http = HttpClient(REMOTE, root, shop_id=shop_id, timeout=timeout, retry=retry,
                               auth=(public_key, secret_key))

    @property
    def base_url(self) -> str:
        return f"{self.root}/{self.version}"

    def _send(self, method: str, path: str, *, json: dict[str, Any] | None = None,
              params: dict[str, Any] | None = None, accept: str = "application/json") -> httpx.Response:
        try:
            res = self.http.request(method, f"/{self.version}{path}", json=json, params=params,
                                    headers={"Accept": accept})
        except TransportError as exc:
            raise SendcloudError(exc.message, message_en=exc.message_en, raw=exc.raw) from None
        _raise_for_status(res)
        return res

    def request(self, method: str, path: str, json: dict[str, Any] | None = None,
                params: dict[str, Any] | None = None) -> dict[str, Any]:
        res = self._send(method, path, json=json, params=params)
        try:
            body = res.json()
        except ValueError:
            raise SendcloudError(_("Réponse illisible de Sendcloud (JSON attendu)."), res.status_code) from None
        return body if isinstance(body, dict) else {}

    def document(self, path: str, params: dict[str, Any] | None = None) -> bytes:
        """A PDF document (label, customs declaration)."""
        res = self._send("GET", path, params=params, accept="application/pdf")
        if not res.content.startswith(b"%PDF"):
            raise SendcloudError(_("Sendcloud n'a pas renvoyé de PDF pour l'étiquette."), res.status_code)
        return res.content

    # ---------------------------------------------------------------- v3
    def announce_shipment(self, body: dict[str, Any]) -> dict[str, Any]:
        """``POST /shipments/announce``: create the shipment and its labels synchronously."""
        return self.request("POST", "/shipments/announce", json=body).get("data") or {}

    def find_shipment(self, external_reference_id: str) -> dict[str, Any] | None:
        """The shipment announced with this reference, or None (404: none)."""
        try:
            data = self.request("GET", "/shipments", params={"external_reference_id": external_reference_id}).get("data")
        except SendcloudError as exc:
            if exc.status == 404:
                return None
            raise
        return data[0] if isinstance(data, list) and data else None

    def get_shipment(self, shipment_id: str) -> dict[str, Any]:
        return self.request("GET", f"/shipments/{shipment_id}").get("data") or {}

    def cancel_shipment(self, shipment_id: str) -> dict[str, Any]:
        return self.request("POST", f"/shipments/{shipment_id}/cancel").get("data") or {}

    def parcel_label(self, parcel_id: int) -> bytes:
        """``GET /parcels/{id}/documents/label`` as an A6 PDF."""
        return self.document(f"/parcels/{parcel_id}/documents/label", params={"paper_size": "A6"})

    # ---------------------------------------------------------------- v2
    def create_parcel(self, parcel: dict[str, Any]) -> dict[str, Any]:
        """v2 ``POST /parcels`` with ``request_label``: the parcel with its label and tracking."""
        return self.request("POST", "/parcels", json={"parcel": parcel}).get("parcel") or {}

    def find_parcel(self, external_reference: str) -> dict[str, Any] | None:
        """The v2 parcel created with this reference, or None (404: none)."""
        try:
            parcels = self.request("GET", "/parcels", params={"external_reference": external_reference}).get("parcels")
        except SendcloudError as exc:
            if exc.status == 404:
                return None
            raise
        return parcels[0] if isinstance(parcels, list) and parcels else None

    def get_parcel(self, parcel_id: int) -> dict[str, Any]:
        return self.request("GET", f"/parcels/{parcel_id}").get("parcel") or {}

    def cancel_parcel(self, parcel_id: int) -> dict[str, Any]:
        return self.request("POST", f"/parcels/{parcel_id}/cancel")

    def label_printer_pdf(self, parcel_id: int) -> bytes:
        """v2 ``GET /labels/label_printer/{id}``: the A6 label."""
        return self.document(f"/labels/label_printer/{parcel_id}")

    def shipping_methods(self) -> list[ShippingOption]:
        """v2 ``GET /shipping_methods`` of the default sender address."""
        data = self.request("GET", "/shipping_methods").get("shipping_methods") or []
        out = []
        for item in data:
            out.append(ShippingOption(code=str(item.get("id", "")), name=str(item.get("name", "")),
                                      carrier_code=str(item.get("carrier", "")), carrier_name=str(item.get("carrier", "")),
                                      min_weight_grams=grams({"value": item.get("min_weight"), "unit": "kg"}),
                                      max_weight_grams=grams({"value": item.get("max_weight"), "unit": "kg"})))
        return out

    def shipping_options(self, from_country: str, to_country: str, weight_grams: int = 1000) -> list[ShippingOption]:
        """The shipping options of the account for one parcel of ``weight_grams``
        (``POST /shipping-options``, without price quotes)."""
        body = {"from_country_code": from_country, "to_country_code": to_country,
                "parcels": [{"weight": {"value": f"{Decimal(weight_grams) / 1000:.3f}", "unit": "kg"}}],
                "calculate_quotes": False}
        data = self.request("POST", "/shipping-options", json=body).get("data") or []
        out = []
        for item in data:
            carrier = item.get("carrier") or {}
            weight = item.get("weight") or {}
            out.append(ShippingOption(code=str(item.get("code", "")), name=str(item.get("name", "")),
                                      carrier_code=str(carrier.get("code", "")),
                                      carrier_name=str(carrier.get("name", "")),
                                      min_weight_grams=grams(weight.get("min")),
                                      max_weight_grams=grams(weight.get("max"))))
        return out


def _raise_for_status(res: httpx.Response) -> None:
    code = res.status_code
    if code < 400:
        return
    detail = ""
    try:
        body = res.json()
        errors = body.get("errors") or []
        if errors and isinstance(errors[0], dict):  # v3 (JSON:API)
            detail = errors[0].get("detail") or errors[0].get("title") or ""
        elif isinstance(body.get("error"), dict):  # v2
            detail = str(body["error"].get("message") or "")
    except (ValueError, AttributeError):
        pass
    suffix = f" [{detail}]" if detail else ""
    if code == 401:
        msg = ("Clés API Sendcloud refusées (401){s} : vérifiez la clé publique et la clé secrète "
               "(Sendcloud › Paramètres › Intégrations › Sendcloud API).")
    elif code == 403:
        msg = "Accès refusé par Sendcloud (403){s} : l'intégration n'a pas accès à cette fonction."
    elif code == 404:
        msg = "Introuvable chez Sendcloud (404){s} : vérifiez l'adresse de l'API et la version choisie."
    elif code == 429:
        msg = "Trop de requêtes vers Sendcloud (429) : réessayez dans une minute."
    elif code >= 500:
        msg = "Sendcloud est indisponible ({code}){s} : réessayez plus tard."
    else:
        msg = "Requête refusée par Sendcloud ({code}){s}."
    raise SendcloudError(msg.format(code=code, s=suffix), code, detail, raw=redact.text(res.text))
