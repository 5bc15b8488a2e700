"""Colissimo's "Simple Label Solution" REST web services (generateLabel, checkGenerateLabel)
and La Poste's tracking API (Suivi v2, key in the X-Okapi-Key header).

generateLabel answers ``multipart/mixed``: a JSON part (messages and ``labelV2Response``
with the parcel number) and the label itself. A message ``id`` other than "0" is a refusal.
"""
from __future__ import annotations

import email.parser
import email.policy
import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import httpx


class ColissimoError(RuntimeError):
    """A refusal or an outage, with a message for the merchant."""


@dataclass(frozen=True)
class GeneratedLabel:
    parcel_number: str
    pdf: bytes


def tracking_url(parcel_number: str) -> str:
    return f"https://www.laposte.fr/outils/suivre-vos-envois?code={parcel_number}"


class Client:
    def __init__(self, settings: dict[str, Any], *, timeout: float = 15.0) -> None:
        self.settings = settings
        self.http = httpx.Client(timeout=timeout)

    # ------------------------------------------------------------------ labels
    def _letter(self, *, reference: str, weight_grams: int, to: dict[str, str]) -> dict[str, Any]:
        s = self.settings
        return {
            "contractNumber": s.get("contract_number", ""),
            "password": s.get("password", ""),
            "outputFormat": {"x": 0, "y": 0, "outputPrintingType": "PDF_10x15_300dpi"},
            "letter": {
                "service": {"productCode": s.get("product_code") or "DOM", "depositDate": date.today().isoformat(),
                            "orderNumber": reference},
                "parcel": {"weight": str((Decimal(max(weight_grams, 10)) / 1000).quantize(Decimal("0.01")))},
                "sender": {"senderParcelRef": reference, "address": {
                    "companyName": s.get("sender_company", ""), "line2": s.get("sender_line", ""),
                    "countryCode": "FR", "city": s.get("sender_city", ""), "zipCode": s.get("sender_zip", "")}},
                "addressee": {"address": {
                    "lastName": to.get("name", ""), "line2": to.get("line1", ""),
                    "countryCode": to.get("country", "FR"), "city": to.get("city", ""),
                    "zipCode": to.get("postal_code", ""), "email": to.get("email", "")}},
            },
        }

    def _post(self, operation: str, body: dict[str, Any]) -> httpx.Response:
        url = f"{self.settings.get('api_base_url', '').rstrip('/')}/{operation}"
        try:
            res = self.http.post(url, json=body)
        except httpx.TransportError as exc:
            raise ColissimoError(f"Colissimo injoignable : {exc.__class__.__name__}") from exc
        if res.status_code >= 500:
            raise ColissimoError(f"Colissimo indisponible (HTTP {res.status_code})")
        return res

    @staticmethod
    def _raise_on_messages(info: dict[str, Any]) -> None:
        errors = [m for m in info.get("messages", []) if str(m.get("id")) != "0"]
        if errors:
            raise ColissimoError("Colissimo refuse : " + "; ".join(f"{m.get('id')} {m.get('messageContent')}"
                                                                   for m in errors))

    def check(self) -> None:
        """checkGenerateLabel: validates the credentials and a sample parcel, prints nothing."""
        res = self._post("checkGenerateLabel", self._letter(
            reference="test", weight_grams=500,
            to={"name": "Test", "line1": "1 rue de Rivoli", "city": "Paris", "postal_code": "75001", "country": "FR"}))
        self._raise_on_messages(res.json())

    def generate_label(self, *, reference: str, weight_grams: int, to: dict[str, str]) -> GeneratedLabel:
        res = self._post("generateLabel", self._letter(reference=reference, weight_grams=weight_grams, to=to))
        if not res.headers.get("content-type", "").startswith("multipart/"):
            self._raise_on_messages(res.json())
            raise ColissimoError(f"réponse inattendue de Colissimo (HTTP {res.status_code})")
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + res.headers["content-type"].encode() + b"\r\n\r\n" + res.content)
        info, pdf = None, None
        for part in message.iter_parts():
            payload = part.get_payload(decode=True)
            if part.get_content_type() == "application/json":
                info = json.loads(payload)
            else:
                pdf = payload
        if info is None:
            raise ColissimoError("réponse Colissimo sans partie JSON")
        self._raise_on_messages(info)
        number = info["labelV2Response"]["parcelNumber"]
        if not pdf:
            raise ColissimoError(f"étiquette absente de la réponse pour le colis {number}")
        return GeneratedLabel(parcel_number=number, pdf=pdf)

    # ------------------------------------------------------------------ tracking
    def status(self, parcel_number: str) -> str:
        """The parcel's state from La Poste's tracking API, as a ShipmentStatus value."""
        key = self.settings.get("okapi_key")
        if not key:
            raise ColissimoError("renseignez la clé API La Poste pour suivre les colis")
        url = f"{self.settings.get('tracking_base_url', '').rstrip('/')}/idships/{parcel_number}"
        try:
            res = self.http.get(url, headers={"X-Okapi-Key": key, "Accept": "application/json"})
        except httpx.TransportError as exc:
            raise ColissimoError(f"suivi La Poste injoignable : {exc.__class__.__name__}") from exc
        if res.status_code in (401, 403):
            raise ColissimoError("clé API La Poste refusée")
        if res.status_code >= 400:
            raise ColissimoError(f"suivi refusé (HTTP {res.status_code})")
        events = res.json().get("shipment", {}).get("event", [])
        codes = [e.get("code", "") for e in events]
        if any(c.startswith("DI") for c in codes):
            return "delivered"
        if any(c.startswith(("ND", "AG")) for c in codes[:1]):
            return "exception"
        return "in_transit"


def tariff(settings: dict[str, Any], weight_grams: int) -> Decimal | None:
    """The merchant's own contract price for this weight (their tariff lines), or None."""
    best = None
    for line in (settings.get("tariffs") or "").splitlines():
        if ":" not in line:
            continue
        grams, price = line.split(":", 1)
        try:
            limit, amount = int(grams.strip()), Decimal(price.strip())
        except (ValueError, ArithmeticError):
            continue
        if weight_grams <= limit and (best is None or limit < best[0]):
            best = (limit, amount)
    return best[1] if best else None
