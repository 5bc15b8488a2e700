"""A thin client of Mondial Relay's two web services, on core's connector kit.

Mondial Relay has two APIs with two sets of credentials:

- **API 1** (SOAP 1.1, ``https://api.mondialrelay.com/Web_Services.asmx``): the brand code
  (``Enseigne``) and its private key. Each call carries ``Security``, the upper-case MD5 of the
  call's parameter values concatenated in the WSDL's order (empty ones included) followed by
  the private key. Used here for the relay-point search ``WSI4_PointRelais_Recherche`` and the
  tracking ``WSI2_TracingColisDetaille``. Errors are a ``STAT`` code other than ``0`` in a 200.
- **API 2** "Connect" (XML over HTTPS, ``https://connect-api.mondialrelay.com/api/shipment``):
  a login, a password and a customer id inside the request's ``Context``. Used for
  ``ShipmentCreationRequest`` (shipment number and label). Its ``StatusList`` may hold
  warnings next to a success; any other level is a failure.

Weights are in grams on both. Reads (search, tracking) are retried by the kit on 429/5xx;
shipment creation is never resent by the transport (the label job decides, see ``labels``).
XML is built and read with the standard library (no entity is ever resolved).
"""
from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any

from core.connectors import HttpClient, OutboundRefused, Remote, RemoteError, RetryPolicy, TransportError, redact
from core.i18n import _

API1_URL = "https://api.mondialrelay.com/Web_Services.asmx"
API2_URL = "https://connect-api.mondialrelay.com/api/shipment"
SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
WS_NS = "http://www.mondialrelay.fr/webservice/"
REQ_NS = "http://www.example.org/Request"
RES_NS = "http://www.example.org/Response"
REMOTE = Remote("mondialrelay", "Mondial Relay", ("api.mondialrelay.com", "connect-api.mondialrelay.com",
                                                   "connect-api-sandbox.mondialrelay.com", "www.mondialrelay.com",
                                                   "www.mondialrelay.fr"))
RETRY = RetryPolicy(attempts=3, base=0.25, cap=2.0, max_wait=3.0)
TIMEOUT = 10.0

#: WSI4_PointRelais_Recherche parameters, in the WSDL's order (the signature follows it)
SEARCH_PARAMS = ("Enseigne", "Pays", "NumPointRelais", "Ville", "CP", "Latitude", "Longitude", "Taille", "Poids",
                 "Action", "DelaiEnvoi", "RayonRecherche", "TypeActivite", "NACE", "NombreResultats")
TRACE_PARAMS = ("Enseigne", "Expedition", "Langue")
#: API 1 STAT codes a merchant can act on (the others are named by number)
STAT_MESSAGES = {
    "1": "code enseigne invalide", "2": _("code enseigne vide ou inexistant"), "3": _("numéro de compte enseigne invalide"),
    "9": _("ville non reconnue ou non unique"), "10": _("type de collecte invalide"), "20": _("poids du colis invalide"),
    "24": _("numéro d'expédition invalide"), "26": _("temps de montage invalide"), "30": "point relais invalide",
    "36": "code postal non reconnu", "38": "code postal absent", "40": "pays non desservi",
    "80": _("colis enregistré"), "81": _("colis en traitement chez Mondial Relay"), "82": _("colis livré"),
    "83": _("anomalie sur le colis"), "94": "colis inexistant", "97": _("clé de sécurité invalide : vérifiez la clé privée"),
    "98": _("erreur du service Mondial Relay"), "99": _("erreur générique du service Mondial Relay"),
}
DAYS = ("Lundi", "Mardi", "Mercredi", "Jeudi", "Vendredi", "Samedi", "Dimanche")


class MondialRelayError(RemoteError):
    """A refusal or an outage of Mondial Relay; ``str()`` is the merchant's French sentence."""


def security(values: list[str], private_key: str) -> str:
    """``UPPER(MD5(value1 + value2 + … + private key))``."""
    return hashlib.md5(("".join(values) + private_key).encode("utf-8")).hexdigest().upper()


@dataclass
class RelayPoint:
    id: str  # "FR-066974": country and the six-digit Num, as API 2 expects it
    num: str
    name: str
    line1: str
    line2: str
    postal_code: str
    city: str
    country: str
    latitude: str = ""
    longitude: str = ""
    distance_m: int | None = None
    opening_hours: list[str] = field(default_factory=list)


@dataclass
class Created:
    number: str
    label_url: str
    warnings: list[str]


@dataclass
class Trace:
    stat: str
    label: str
    events: list[dict[str, str]]


def _text(el: ET.Element | None, name: str, ns: str = WS_NS) -> str:
    if el is None:
        return ""
    found = el.find(f"{{{ns}}}{name}")
    return (found.text or "").strip() if found is not None and found.text else ""


def hours(slots: list[str]) -> str:
    """``["0900", "1230", "1400", "1900"]`` → ``09:00–12:30, 14:00–19:00`` (``0000`` closed)."""
    out = []
    for start, end in zip(slots[0::2], slots[1::2]):
        if start and end and start != "0000" and end != "0000":
            out.append(f"{start[:2]}:{start[2:]}–{end[:2]}:{end[2:]}")
    return ", ".join(out)


class MondialRelayClient:
    def __init__(self, *, enseigne: str = "", private_key: str = "", login: str = "", password: str = "",
                 customer_id: str = "", api1_url: str | None = None, api2_url: str | None = None,
                 shop_id: int | None = None, timeout: float = TIMEOUT, retry: RetryPolicy = RETRY,
                 **options: Any) -> None:
        try:
            self.api1_url = REMOTE.base_url(api1_url, API1_URL, what="l'API 1", what_en="API 1")
            self.api2_url = REMOTE.base_url(api2_url, API2_URL, what="l'API 2", what_en="API 2")
        except OutboundRefused as exc:
            raise MondialRelayError(exc.message, message_en=exc.message_en, retryable=False) from None
        self.enseigne = enseigne.strip().upper()
        self.private_key = private_key
        self.login = login.strip()
        self.password = password
        self.customer_id = customer_id.strip().upper()
        self.http = HttpClient(REMOTE, "", shop_id=shop_id, timeout=timeout, retry=retry, **options)

    @classmethod
    def from_settings(cls, settings: dict[str, Any], shop_id: int | None = None, **options: Any) -> "MondialRelayClient":
        return cls(enseigne=settings.get("enseigne") or "", private_key=settings.get("private_key") or "",
                   login=settings.get("api2_login") or "", password=settings.get("api2_password") or "",
                   customer_id=settings.get("api2_customer_id") or "", api1_url=settings.get("api1_url") or None,
                   api2_url=settings.get("api2_url") or None, shop_id=shop_id, **options)

    # ---------------------------------------------------------------- API 1 (SOAP, signed)
    def _need_api1(self) -> None:
        if not self.enseigne or not self.private_key:
            raise MondialRelayError(_("Identifiants API 1 incomplets : renseignez le code enseigne et la clé "
                                      "privée."),
                                    message_en="API 1 credentials missing: fill in the brand code and private key.",
                                    retryable=False)

    def soap_body(self, operation: str, names: tuple[str, ...], values: dict[str, str]) -> bytes:
        ordered = [str(values.get(n, "") or "") for n in names]
        envelope = ET.Element(f"{{{SOAP_NS}}}Envelope")
        body = ET.SubElement(envelope, f"{{{SOAP_NS}}}Body")
        op = ET.SubElement(body, f"{{{WS_NS}}}{operation}")
        for name, value in zip(names, ordered):
            ET.SubElement(op, f"{{{WS_NS}}}{name}").text = value
        ET.SubElement(op, f"{{{WS_NS}}}Security").text = security(ordered, self.private_key)
        return ET.tostring(envelope, encoding="utf-8", xml_declaration=True)

    def _soap(self, operation: str, names: tuple[str, ...], values: dict[str, str]) -> ET.Element:
        self._need_api1()
        body = self.soap_body(operation, names, {**values, "Enseigne": self.enseigne})
        try:
            res = self.http.request("POST", self.api1_url, content=body, idempotent=True, headers={
                "Content-Type": "text/xml; charset=utf-8", "SOAPAction": f'"{WS_NS}{operation}"'})
        except TransportError as exc:
            raise MondialRelayError(exc.message, message_en=exc.message_en, raw=exc.raw) from None
        if res.status_code >= 400 and res.status_code != 500:
            raise _http_error(res)
        try:
            root = ET.fromstring(res.content)
        except ET.ParseError:
            raise _http_error(res) if res.status_code >= 400 else MondialRelayError(
                _("Réponse illisible de Mondial Relay (XML attendu)."), message_en="Unreadable Mondial Relay answer.",
                status=res.status_code, raw=redact.text(res.text)) from None
        fault = root.find(f".//{{{SOAP_NS}}}Fault")
        if fault is not None or res.status_code >= 400:
            text = (fault.findtext("faultstring") if fault is not None else "") or ""
            raise MondialRelayError(_("Mondial Relay a refusé la demande : %(value)s.",
                                      value=text or res.status_code),
                                    message_en=f"Mondial Relay refused the request: {text}", status=res.status_code,
                                    raw=redact.text(res.text), retryable=res.status_code >= 500)
        result = root.find(f".//{{{WS_NS}}}{operation}Result")
        if result is None:
            raise MondialRelayError(_("Réponse incomplète de Mondial Relay."), message_en="Incomplete Mondial Relay answer.",
                                    status=res.status_code, raw=redact.text(res.text))
        return result

    def search(self, *, country: str, postal_code: str, city: str = "", weight_grams: int | None = None,
               action: str = "24R", radius_km: int = 20, limit: int = 10) -> list[RelayPoint]:
        """Relay points near a postal code (``WSI4_PointRelais_Recherche``), nearest first."""
        result = self._soap("WSI4_PointRelais_Recherche", SEARCH_PARAMS, {
            "Pays": country.upper(), "Ville": city, "CP": postal_code, "Poids": str(weight_grams or ""),
            "Action": action, "RayonRecherche": str(radius_km), "NombreResultats": str(limit)})
        stat = _text(result, "STAT")
        if stat != "0":
            raise stat_error(stat)
        points = []
        for el in result.iter(f"{{{WS_NS}}}PointRelais_Details"):
            num = _text(el, "Num")
            country_code = _text(el, "Pays") or country.upper()
            days = []
            for day in DAYS:
                slots = [(s.text or "").strip() for s in el.findall(f"{{{WS_NS}}}Horaires_{day}/{{{WS_NS}}}string")]
                days.append(f"{day.lower()} : {hours(slots) or 'fermé'}")
            distance = _text(el, "Distance")
            points.append(RelayPoint(
                id=f"{country_code}-{num}", num=num, name=_text(el, "LgAdr1"), line1=_text(el, "LgAdr3"),
                line2=_text(el, "LgAdr4"), postal_code=_text(el, "CP"), city=_text(el, "Ville"), country=country_code,
                latitude=_text(el, "Latitude"), longitude=_text(el, "Longitude"),
                distance_m=int(distance) if distance.isdigit() else None, opening_hours=days))
        return points

    def trace(self, number: str, language: str = "FR") -> Trace:
        """Where a parcel is (``WSI2_TracingColisDetaille``): STAT 80–83 are its states."""
        result = self._soap("WSI2_TracingColisDetaille", TRACE_PARAMS, {"Expedition": number, "Langue": language})
        stat = _text(result, "STAT")
        if stat not in ("0", "80", "81", "82", "83"):
            raise stat_error(stat)
        events = []
        for el in result.iter(f"{{{WS_NS}}}ret_WSI2_sub_TracingColisDetaille"):
            if _text(el, "Libelle"):
                events.append({"label": _text(el, "Libelle"), "date": _text(el, "Date"), "time": _text(el, "Heure"),
                               "place": _text(el, "Emplacement")})
        return Trace(stat=stat, label=_text(result, "Libelle01"), events=events)

    # ---------------------------------------------------------------- API 2 (Connect)
    def shipment_body(self, shipment: dict[str, Any] | None, output_format: str = "10x15") -> bytes:
        """The ``ShipmentCreationRequest`` of one shipment (``labels.shipment_data`` builds it)."""
        ET.register_namespace("", REQ_NS)

        def sub(parent: ET.Element, name: str, text: Any = None, **attrs: str) -> ET.Element:
            el = ET.SubElement(parent, f"{{{REQ_NS}}}{name}", {k: str(v) for k, v in attrs.items()})
            if text is not None:
                el.text = str(text)
            return el

        root = ET.Element(f"{{{REQ_NS}}}ShipmentCreationRequest")
        ctx = sub(root, "Context")
        sub(ctx, "Login", self.login)
        sub(ctx, "Password", self.password)
        sub(ctx, "CustomerId", self.customer_id)
        sub(ctx, "Culture", "fr-FR")
        sub(ctx, "VersionAPI", "1.0")
        out = sub(root, "OutputOptions")
        sub(out, "OutputFormat", output_format)
        sub(out, "OutputType", "PdfUrl")
        shipments = sub(root, "ShipmentsList")
        if shipment is None:
            return ET.tostring(root, encoding="utf-8", xml_declaration=True)
        item = sub(shipments, "Shipment")
        sub(item, "OrderNo", shipment["order_no"])
        sub(item, "CustomerNo", shipment.get("customer_no", ""))
        sub(item, "ParcelCount", 1)
        sub(item, "DeliveryMode", Mode=shipment["delivery_mode"], Location=shipment.get("delivery_location", ""))
        sub(item, "CollectionMode", Mode=shipment.get("collection_mode", "CCC"),
            Location=shipment.get("collection_location", ""))
        parcel = sub(sub(item, "Parcels"), "Parcel")
        sub(parcel, "Content", shipment.get("content", "")[:40])
        sub(parcel, "Weight", Value=int(shipment["weight_grams"]), Unit="gr")
        sub(item, "DeliveryInstruction", shipment.get("instruction", "")[:30])
        for role in ("Sender", "Recipient"):
            addr = sub(sub(item, role), "Address")
            data = shipment[role.lower()]
            for key in ("Title", "Firstname", "Lastname", "Streetname", "HouseNo", "CountryCode", "PostCode", "City",
                        "AddressAdd1", "AddressAdd2", "AddressAdd3", "PhoneNo", "MobileNo", "Email"):
                sub(addr, key, data.get(key, ""))
        return ET.tostring(root, encoding="utf-8", xml_declaration=True)

    def check_api2(self) -> None:
        """A ``ShipmentCreationRequest`` with an empty ``ShipmentsList``: Mondial Relay checks
        the ``Context`` credentials (``10001`` when refused) and creates nothing."""
        self._need_api2()
        root = ET.fromstring(self.shipment_body(None))
        res = self._post_api2(ET.tostring(root, encoding="utf-8", xml_declaration=True))
        for st in res.iter(f"{{{RES_NS}}}Status"):
            if st.get("Code") == "10001":
                raise _api2_error([("10001", f"{st.get('Message', '')} (10001)")], 200, "")

    def _need_api2(self) -> None:
        if not self.login or not self.password or not self.customer_id:
            raise MondialRelayError(_("Identifiants API 2 incomplets : renseignez l'identifiant, le mot de passe "
                                      "et le code client de l'API Connect."),
                                    message_en="API 2 credentials missing.", retryable=False)

    def _post_api2(self, body: bytes) -> ET.Element:
        try:
            res = self.http.request("POST", self.api2_url, content=body, idempotent=False,
                                    headers={"Content-Type": "application/xml", "Accept": "application/xml"})
        except TransportError as exc:
            raise MondialRelayError(exc.message, message_en=exc.message_en, raw=exc.raw) from None
        if res.status_code >= 400:
            raise _http_error(res)
        try:
            return ET.fromstring(res.content)
        except ET.ParseError:
            raise MondialRelayError(_("Réponse illisible de Mondial Relay (XML attendu)."),
                                    message_en="Unreadable Mondial Relay answer.", status=res.status_code,
                                    raw=redact.text(res.text)) from None

    def create_shipment(self, shipment: dict[str, Any], output_format: str = "10x15") -> Created:
        """``ShipmentCreationRequest`` of one shipment: its number and the label's URL."""
        self._need_api2()
        root = self._post_api2(self.shipment_body(shipment, output_format))
        warnings, failures = [], []
        for st in root.iter(f"{{{RES_NS}}}Status"):
            line = f"{st.get('Message', '')} ({st.get('Code', '')})"
            (warnings if st.get("Level") == "Warning" else failures).append((st.get("Code", ""), line))
        if failures:
            raise _api2_error(failures, 200, "")
        shipment_el = root.find(f".//{{{RES_NS}}}Shipment")
        output = root.find(f".//{{{RES_NS}}}Label/{{{RES_NS}}}Output")
        if shipment_el is None or not shipment_el.get("ShipmentNumber") or output is None or not output.text:
            raise MondialRelayError(_("Réponse incomplète de Mondial Relay : ni numéro d'expédition ni étiquette."),
                                    message_en="Incomplete Mondial Relay answer.", status=200, retryable=False)
        return Created(number=shipment_el.get("ShipmentNumber", ""), label_url=output.text.strip(),
                       warnings=[line for _c, line in warnings])

    def label_pdf(self, url: str) -> bytes:
        """The label PDF at the URL the shipment answer gave."""
        try:
            res = self.http.request("GET", REMOTE.base_url(url, url, what="l'étiquette", what_en="label"))
        except OutboundRefused as exc:
            raise MondialRelayError(exc.message, message_en=exc.message_en, retryable=False) from None
        except TransportError as exc:
            raise MondialRelayError(exc.message, message_en=exc.message_en, raw=exc.raw) from None
        if res.status_code >= 400 or not res.content.startswith(b"%PDF"):
            raise MondialRelayError(_("Mondial Relay n'a pas fourni le PDF de l'étiquette."),
                                    message_en="Mondial Relay gave no label PDF.", status=res.status_code)
        return res.content


def stat_error(stat: str) -> MondialRelayError:
    text = STAT_MESSAGES.get(stat, f"code {stat}")
    retryable = stat in ("98", "99")
    return MondialRelayError(_("Mondial Relay a refusé la demande : %(text)s (STAT %(stat)s).",
                               text=text, stat=stat),
                             message_en=f"Mondial Relay refused the request (STAT {stat}).", retryable=retryable)


def _api2_error(failures: list[tuple[str, str]], status: int, raw: str) -> MondialRelayError:
    text = "; ".join(line for _c, line in failures)
    if failures[0][0] == "10001":
        msg = (f"Identifiants API 2 refusés par Mondial Relay : {text}. Vérifiez l'identifiant et le mot de passe "
               "Connect (ce ne sont pas le code enseigne et la clé privée de l'API 1).")
    else:
        msg = f"Mondial Relay a refusé l'expédition : {text}."
    return MondialRelayError(msg, message_en=f"Mondial Relay refused: {text}", status=status, raw=raw,
                             retryable=False)


def _http_error(res) -> MondialRelayError:
    code = res.status_code
    if code == 429:
        msg = "Trop de requêtes vers Mondial Relay (429) : réessayez dans une minute."
    elif code >= 500:
        msg = f"Mondial Relay est indisponible ({code}) : réessayez plus tard, rien n'est perdu."
    elif code in (401, 403):
        msg = f"Accès refusé par Mondial Relay ({code}) : vérifiez les identifiants."
    else:
        msg = f"Requête refusée par Mondial Relay ({code})."
    return MondialRelayError(msg, message_en=f"Mondial Relay HTTP {code}", status=code, raw=redact.text(res.text),
                             retryable=code == 429 or code >= 500)
