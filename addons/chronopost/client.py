"""A thin client of Chronopost's SOAP web services (Apache CXF, SOAP 1.1), on core's kit.

Three services on ``https://ws.chronopost.fr``, each with the account number and password in
the body (no token):

- ``/shipping-cxf/ShippingServiceWS``: ``shippingMultiParcelV5`` (waybill number and PDF label);
- ``/tracking-cxf/TrackingServiceWS``: ``trackSkybillV2`` (events of one waybill) and
  ``cancelSkybill`` — the cancellation lives on the tracking service, not the shipping one;
- ``/quickcost-cxf/QuickcostServiceWS``: ``calculateProducts`` (the products the account can
  use between two postal codes: the connection test) and ``quickCost`` (a price);
- ``/recherchebt-ws-cxf/PointRelaisServiceWS``: ``recherchePointChronopost`` (the Chrono
  Relais points near an address, with their opening hours).

Errors are ``return/errorCode`` other than 0 in a 200 answer (a SOAP fault for a malformed
request). Reads are retried by the kit on 429/5xx; a label request is never resent by the
transport. XML is built and read with the standard library (no entity is resolved).
"""
from __future__ import annotations

import base64
import binascii
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from core.connectors import HttpClient, OutboundRefused, Remote, RemoteError, RetryPolicy, TransportError, redact
from core.i18n import _

DEFAULT_BASE_URL = "https://ws.chronopost.fr"
SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
SHIPPING_NS = "http://cxf.shipping.soap.chronopost.fr/"
TRACKING_NS = "http://cxf.tracking.soap.chronopost.fr/"
QUICKCOST_NS = "http://cxf.quickcost.soap.chronopost.fr/"
RELAY_NS = "http://cxf.rechercheBt.soap.chronopost.fr/"
SERVICES = {SHIPPING_NS: "/shipping-cxf/ShippingServiceWS", TRACKING_NS: "/tracking-cxf/TrackingServiceWS",
            QUICKCOST_NS: "/quickcost-cxf/QuickcostServiceWS", RELAY_NS: "/recherchebt-ws-cxf/PointRelaisServiceWS"}
#: ``jour`` of ``listeHoraireOuverture``: 1 is Monday
DAYS = {1: "lundi", 2: "mardi", 3: "mercredi", 4: "jeudi", 5: "vendredi", 6: "samedi", 7: "dimanche"}
REMOTE = Remote("chronopost", "Chronopost", ("ws.chronopost.fr",))
RETRY = RetryPolicy(attempts=3, base=0.25, cap=2.0, max_wait=3.0)
TIMEOUT = 15.0
#: errorCode values of the shipping service a merchant can act on
ERRORS = {"1": _("erreur du système Chronopost"), "2": _("compte ou mot de passe invalide"),
          "3": _("code produit non autorisé pour ce compte"), "6": _("code postal du destinataire invalide"),
          "7": "poids invalide", "25": _("le pays de destination n'est pas desservi par ce produit"),
          "30": _("le point relais est invalide"), "33": _("le colis est déjà pris en charge : il ne s'annule plus"),
          "34": _("numéro d'envoi inconnu")}


class ChronopostError(RemoteError):
    """A refusal or an outage of Chronopost; ``str()`` is the merchant's French sentence."""


@dataclass
class Skybill:
    number: str
    pdf: bytes


@dataclass
class RelayPoint:
    id: str
    name: str
    line1: str
    line2: str
    postal_code: str
    city: str
    country: str
    distance_m: int | None
    opening_hours: list[str]


@dataclass
class Event:
    code: str
    label: str
    at: str
    office: str


def _el(parent: ET.Element, name: str, value: Any = None) -> ET.Element:
    el = ET.SubElement(parent, name)  # CXF: the operation is qualified, its children are not
    if value is not None:
        el.text = str(value)
    return el


def _tree(parent: ET.Element, data: dict[str, Any]) -> None:
    for key, value in data.items():
        if isinstance(value, dict):
            _tree(_el(parent, key), value)
        elif isinstance(value, list):
            for item in value:
                _tree(_el(parent, key), item) if isinstance(item, dict) else _el(parent, key, item)
        elif value is not None:
            _el(parent, key, value)


class ChronopostClient:
    def __init__(self, account_number: str, password: str, *, base_url: str | None = None,
                 shop_id: int | None = None, timeout: float = TIMEOUT, retry: RetryPolicy = RETRY,
                 **options: Any) -> None:
        if not account_number or not password:
            raise ChronopostError(_("Paramètres Chronopost incomplets : renseignez le numéro de compte et le mot "
                                    "de passe."),
                                  message_en="Chronopost settings incomplete.", retryable=False)
        try:
            self.root = REMOTE.base_url(base_url, DEFAULT_BASE_URL).rstrip("/")
        except OutboundRefused as exc:
            raise ChronopostError(exc.message, message_en=exc.message_en, retryable=False) from None
        self.account_number = account_number.strip()
        self.password = password
        self.http = HttpClient(REMOTE, self.root, shop_id=shop_id, timeout=timeout, retry=retry, **options)

    @classmethod
    def from_settings(cls, settings: dict[str, Any], shop_id: int | None = None, **options: Any) -> "ChronopostClient":
        return cls(settings.get("account_number") or "", settings.get("password") or "",
                   base_url=settings.get("api_base_url") or None, shop_id=shop_id, **options)

    # ---------------------------------------------------------------- transport
    def envelope(self, ns: str, operation: str, data: dict[str, Any]) -> bytes:
        env = ET.Element(f"{{{SOAP_NS}}}Envelope")
        op = ET.SubElement(ET.SubElement(env, f"{{{SOAP_NS}}}Body"), f"{{{ns}}}{operation}")
        _tree(op, data)
        return ET.tostring(env, encoding="utf-8", xml_declaration=True)

    def call(self, ns: str, operation: str, data: dict[str, Any], *, idempotent: bool = True) -> ET.Element:
        """The ``return`` element of the operation's answer (errorCode checked by the caller)."""
        body = self.envelope(ns, operation, data)
        try:
            res = self.http.request("POST", SERVICES[ns], content=body, idempotent=idempotent,
                                    headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'})
        except TransportError as exc:
            raise ChronopostError(exc.message, message_en=exc.message_en, raw=exc.raw) from None
        code = res.status_code
        try:
            root = ET.fromstring(res.content)
        except ET.ParseError:
            root = None
        fault = root.find(f".//{{{SOAP_NS}}}Fault") if root is not None else None
        if fault is not None and code < 500:
            text = fault.findtext("faultstring") or ""
            raise ChronopostError(_("Chronopost a refusé la demande : %(text)s.", text=text), message_en=f"Chronopost fault: {text}",
                                  status=code, raw=redact.text(res.text), retryable=False)
        if code >= 400 or root is None:
            raise _http_error(code, res.text)
        answer = root.find(f".//{{{ns}}}{operation}Response/return")
        if answer is None:
            raise ChronopostError(_("Réponse incomplète de Chronopost."), message_en="Incomplete Chronopost answer.",
                                  status=code, raw=redact.text(res.text), retryable=False)
        return answer

    @staticmethod
    def check(answer: ET.Element, what: str) -> None:
        code = (answer.findtext("errorCode") or "0").strip()
        if code != "0":
            message = (answer.findtext("errorMessage") or "").strip()
            known = ERRORS.get(code, "")
            parts = [known] if known else []
            if message and message.lower() != known.lower():
                parts.append(message)
            text = "; ".join(parts) or f"code {code}"
            raise ChronopostError(_("Chronopost a refusé %(what)s : %(text)s (erreur %(code)s).",
                                    what=what, text=text, code=code),
                                  message_en=f"Chronopost refused {what}: {message} ({code})",
                                  status=200, retryable=code == "1")

    # ---------------------------------------------------------------- operations
    def calculate_products(self, dep_zip: str, arr_zip: str, arr_country: str = "FR", weight_kg: str = "1",
                           arr_city: str = "") -> list[str]:
        answer = self.call(QUICKCOST_NS, "calculateProducts", {
            "accountNumber": self.account_number, "password": self.password, "depCountryCode": "FR",
            "depZipCode": dep_zip, "arrCountryCode": arr_country, "arrZipCode": arr_zip, "arrCity": arr_city,
            "type": "M", "weight": weight_kg})
        self.check(answer, "le test de connexion")
        return [(p.findtext("productCode") or "").strip() for p in answer.findall("productList")]

    def quick_cost(self, dep_zip: str, arr_zip: str, weight_kg: str, product_code: str) -> Decimal | None:
        answer = self.call(QUICKCOST_NS, "quickCost", {
            "accountNumber": self.account_number, "password": self.password, "depCode": dep_zip,
            "arrCode": arr_zip, "weight": weight_kg, "productCode": product_code, "type": "M"})
        self.check(answer, "le devis")
        try:
            return Decimal((answer.findtext("amountTTC") or "").strip())
        except InvalidOperation:
            return None

    def shipping_multi_parcel_v5(self, data: dict[str, Any]) -> Skybill:
        """One waybill and its PDF label (``labels.request`` builds ``data``)."""
        ordered: dict[str, Any] = {}
        for key, value in data.items():  # the WSDL's order: password right after skybillParamsValue
            ordered[key] = value
            if key == "skybillParamsValue":
                ordered["password"] = self.password
        answer = self.call(SHIPPING_NS, "shippingMultiParcelV5", ordered, idempotent=False)
        self.check(answer, "l'étiquette")
        result = answer.find("resultMultiParcelValue")
        number = (result.findtext("skybillNumber") or "").strip() if result is not None else ""
        try:
            pdf = base64.b64decode(result.findtext("pdfEtiquette") or "", validate=True) if result is not None else b""
        except (binascii.Error, ValueError):
            pdf = b""
        if not number or not pdf.startswith(b"%PDF"):
            raise ChronopostError(_("Réponse incomplète de Chronopost : ni numéro d'envoi ni étiquette PDF."),
                                  message_en="Incomplete Chronopost label answer.", status=200, retryable=False)
        return Skybill(number=number, pdf=pdf)

    def track(self, skybill: str, language: str = "fr_FR") -> list[Event]:
        answer = self.call(TRACKING_NS, "trackSkybillV2", {"language": language, "skybillNumber": skybill})
        self.check(answer, "le suivi")
        out = []
        for ev in answer.findall("listEventInfoComp/events"):
            out.append(Event(code=(ev.findtext("code") or "").strip(), label=(ev.findtext("eventLabel") or "").strip(),
                             at=(ev.findtext("eventDate") or "").strip(), office=(ev.findtext("officeLabel") or "").strip()))
        return out

    def cancel_skybill(self, skybill: str, language: str = "fr_FR") -> None:
        answer = self.call(TRACKING_NS, "cancelSkybill", {"accountNumber": self.account_number,
                                                          "password": self.password, "language": language,
                                                          "skybillNumber": skybill}, idempotent=True)
        self.check(answer, "l'annulation")


    def search_points(self, *, address: str, postal_code: str, city: str, country: str, weight_kg: str,
                      shipping_date: str, max_points: int = 10, max_distance_km: int = 10) -> list[RelayPoint]:
        """The Chrono Relais points (``type`` P, product 86) near an address; ``shipping_date``
        is dd/mm/yyyy (points closed that day are left out unless ``holidayTolerant``)."""
        answer = self.call(RELAY_NS, "recherchePointChronopost", {
            "accountNumber": self.account_number, "password": self.password, "address": address,
            "zipCode": postal_code, "city": city, "countryCode": country, "type": "P", "productCode": "86",
            "service": "L", "weight": weight_kg, "shippingDate": shipping_date, "maxPointChronopost": max_points,
            "maxDistanceSearch": max_distance_km, "holidayTolerant": 1})
        self.check(answer, "la recherche de points relais")
        out = []
        for p in answer.findall("listePointRelais"):
            if (p.findtext("actif") or "true").strip() == "false":
                continue
            hours = []
            for day in sorted(p.findall("listeHoraireOuverture"), key=lambda d: int(d.findtext("jour") or 0)):
                text = (day.findtext("horairesAsString") or "").strip()
                name = DAYS.get(int(day.findtext("jour") or 0))
                if name and text:
                    hours.append(f"{name} : {text}")
            distance = (p.findtext("distanceEnMetre") or "").strip()
            out.append(RelayPoint(
                id=(p.findtext("identifiant") or "").strip(), name=(p.findtext("nom") or "").strip(),
                line1=(p.findtext("adresse1") or "").strip(),
                line2=" ".join(x for x in ((p.findtext("adresse2") or "").strip(),
                                           (p.findtext("adresse3") or "").strip()) if x),
                postal_code=(p.findtext("codePostal") or "").strip(), city=(p.findtext("localite") or "").strip(),
                country=(p.findtext("codePays") or country).strip().upper(),
                distance_m=int(distance) if distance.isdigit() else None, opening_hours=hours))
        return [p for p in out if p.id]


def _http_error(code: int, text: str) -> ChronopostError:
    if code == 429:
        msg = "Trop de requêtes vers Chronopost (429) : réessayez dans une minute."
    elif code >= 500:
        msg = f"Chronopost est indisponible ({code}) : réessayez plus tard, rien n'est perdu."
    else:
        msg = f"Requête refusée par Chronopost ({code})."
    return ChronopostError(msg, message_en=f"Chronopost HTTP {code}", status=code, raw=redact.text(text),
                           retryable=code == 429 or code >= 500)
