"""Pure mappings between the OMS and Colissimo / La Poste payloads (no I/O).

Sources: Colissimo "WS Affranchissement" (SLS) REST 2.0 documentation and the official
Colissimo WooCommerce plugin's payload (``LpcLabelGenerationPayload``: ``outputFormat``,
``letter.service|parcel|sender|addressee|customsDeclarations``, product codes); the point
retrait v2 documentation (``findRDVPointRetraitAcheminement``, ``listePointRetraitAcheminement``);
La Poste's Suivi v2 reference (``shipment.event[].code``). See ``specs/`` for the schemas.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from core.models import ShipmentStatus
from core.i18n import _

#: the EU customs territory (no CN23 from France)
EU = frozenset({"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT",
                "LT", "LU", "LV", "MC", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"})
#: overseas departments (DOM): Colissimo's COM/CDS products
OVERSEAS = ("971", "972", "973", "974", "975", "976", "977", "978")
PRODUCTS = {"DOM": "Colissimo Domicile sans signature", "DOS": "Colissimo Domicile avec signature",
            "HD": "Colissimo Point Retrait", "COM": "Colissimo Outre-Mer sans signature",
            "CDS": "Colissimo Outre-Mer avec signature", "COLI": "Colissimo Expert International",
            "CORE": "Colissimo Retour France", "CORI": "Colissimo Retour International"}
#: La Poste Suivi v2 event codes (prefix) → OMS status; codes not listed change nothing
EVENTS: list[tuple[str, ShipmentStatus]] = [
    ("DI", ShipmentStatus.DELIVERED), ("PC", ShipmentStatus.IN_TRANSIT), ("ET", ShipmentStatus.IN_TRANSIT),
    ("EP", ShipmentStatus.IN_TRANSIT), ("DO", ShipmentStatus.IN_TRANSIT), ("MD", ShipmentStatus.IN_TRANSIT),
    ("AG", ShipmentStatus.IN_TRANSIT), ("PB", ShipmentStatus.EXCEPTION), ("ND", ShipmentStatus.EXCEPTION),
    ("RE", ShipmentStatus.EXCEPTION),
]
LINE = 35
DAYS = ("Lundi", "Mardi", "Mercredi", "Jeudi", "Vendredi", "Samedi", "Dimanche")


class MissingData(ValueError):
    """The parcel cannot be labelled as it is: a French message."""


class Refused(ValueError):
    """Colissimo answered 200 with a refusal (``messages[].id`` not 0)."""


def kg(grams: int) -> str:
    """Colissimo wants kilograms as a string, at least 0.01."""
    value = max(Decimal(grams or 0) / 1000, Decimal("0.01"))
    return str(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def needs_customs(from_country: str, to_country: str, postal_code: str = "") -> bool:
    a, b = from_country.upper(), to_country.upper()
    if b == "FR" and postal_code.startswith(OVERSEAS):
        return True
    return a != b and not (a in EU and b in EU)


def product_for(country: str, postal_code: str, *, signature: bool, relay: bool) -> str:
    if relay:
        return "HD"
    if country.upper() == "FR" and postal_code.startswith(OVERSEAS):
        return "CDS" if signature else "COM"
    if country.upper() not in ("FR", "MC", "AD"):
        return "COLI" if country.upper() not in EU else ("DOS" if signature else "DOM")
    return "DOS" if signature else "DOM"


def address(a: dict[str, Any], *, who: str, relay: bool = False) -> dict[str, Any]:
    """An SLS address: ``line2`` is the street (35 characters), the overflow goes to ``line3``
    (merged back for Belgium and Switzerland, whose labels do not print ``line3``)."""
    missing = [label for key, label in (("name", "nom"), ("line1", "adresse"), ("postal_code", "code postal"),
                                        ("city", "ville"), ("country", "pays")) if not a.get(key)]
    if missing:
        where = "de livraison" if who == "addressee" else "d'expédition"
        raise MissingData(_("Adresse %(where)s incomplète (%(items)s) : corrigez-la puis réessayez.",
                            where=where, items=', '.join(missing)))
    country = str(a["country"]).upper()
    street, extra = str(a["line1"]).strip(), str(a.get("line2") or "").strip()
    if len(street) > LINE:
        cut = street.rfind(" ", 0, LINE)
        cut = cut if cut > 0 else LINE
        street, extra = street[:cut].strip(), f"{street[cut:].strip()} {extra}".strip()
    if country in ("BE", "CH") and extra:
        street, extra = f"{street} {extra}"[:LINE], ""
    name = str(a["name"]).strip()
    first, _space, last = name.partition(" ")
    out: dict[str, Any] = {"lastName": (last or first)[:LINE], "firstName": first[:29] if last else "",
                           "line2": street[:LINE], "countryCode": country, "city": str(a["city"])[:LINE],
                           "zipCode": str(a["postal_code"]).replace(" ", "")[:10]}
    if a.get("company"):
        out["companyName"] = str(a["company"])[:LINE]
    if extra:
        out["line3"] = extra[:LINE]
    if a.get("email"):
        out["email"] = str(a["email"])[:80]
    phone = re.sub(r"[^\d+]", "", str(a.get("phone") or ""))
    if phone:
        out["phoneNumber"] = phone[:15]
        if phone.startswith(("+336", "+337", "06", "07")):
            out["mobileNumber"] = phone[:15]
    if relay and "mobileNumber" not in out:
        raise MissingData(_("Un numéro de mobile est obligatoire pour une livraison en point retrait : ajoutez-le "
                            "à la commande."))
    if country in ("US", "CA") and a.get("region"):
        out["stateOrProvinceCode"] = str(a["region"])[:2]
        if country == "US":
            out["zipCode"] = out["zipCode"][:5]
    return {k: v for k, v in out.items() if v != ""}


@dataclass(frozen=True)
class Item:
    sku: str
    description: str
    quantity: int
    unit_price: Decimal
    grams: int
    hs_code: str
    origin: str


def customs(items: list[Item], currency: str, invoice_number: str) -> dict[str, Any]:
    gaps = [f"{it.sku} ({', '.join(n for n, ok in (('code SH', it.hs_code), ('pays d origine', it.origin), ('poids', it.grams)) if not ok)})"
            for it in items if not (it.hs_code and it.origin and it.grams)]
    if gaps:
        raise MissingData(_("Données douanières manquantes pour la déclaration CN23 : %(replace)s. Complétez la "
                            "fiche produit puis réessayez.",
                            replace='; '.join(gaps).replace('pays d origine', "pays d'origine")))
    return {"includeCustomsDeclarations": 1, "contents": {
        "article": [{"description": it.description[:64], "quantity": it.quantity, "weight": float(kg(it.grams)),
                     "value": float(Decimal(it.unit_price).quantize(Decimal("0.01"))), "hsCode": it.hs_code[:10],
                     "originCountry": it.origin, "currency": currency, "artref": it.sku[:44]} for it in items],
        "category": {"value": 3}},  # 3: commercial goods
        "invoiceNumber": invoice_number[:35]}


def letter(*, product: str, reference: str, order_number: str, weight_grams: int, sender: dict[str, Any],
           addressee: dict[str, Any], deposit: date, commercial_name: str, pickup_location: str | None = None,
           declaration: dict[str, Any] | None = None, output: str = "PDF_10x15_300dpi",
           return_type: int | None = None) -> dict[str, Any]:
    """The ``generateLabel`` body without credentials."""
    service: dict[str, Any] = {"productCode": product, "depositDate": deposit.isoformat(),
                               "orderNumber": order_number[:30], "commercialName": commercial_name[:38]}
    if return_type is not None:
        service["returnTypeChoice"] = return_type
    parcel: dict[str, Any] = {"weight": kg(weight_grams)}
    if pickup_location:
        parcel["pickupLocationId"] = pickup_location
    body: dict[str, Any] = {
        "outputFormat": {"x": 0, "y": 0, "outputPrintingType": output},
        "letter": {"service": service, "parcel": parcel,
                   "sender": {"senderParcelRef": reference[:30], "address": sender},
                   "addressee": {"addresseeParcelRef": order_number[:17], "address": addressee}},
    }
    if declaration:
        body["letter"]["customsDeclarations"] = declaration
    return body


@dataclass
class LabelAnswer:
    info: dict[str, Any]
    label: bytes | None
    cn23: bytes | None = None
    parts: dict[str, bytes] = field(default_factory=dict)

    @property
    def parcel_number(self) -> str:
        response = self.info.get("labelV2Response") or self.info.get("labelV31Response") or self.info.get(
            "labelResponse") or {}
        return str(response.get("parcelNumber") or "")


def boundary_of(content_type: str) -> bytes | None:
    match = re.search(r'boundary="?([^";]+)"?', content_type or "", re.I)
    return match.group(1).encode() if match else None


def split_multipart(content_type: str, body: bytes) -> dict[str, bytes]:
    """The parts of a ``multipart/mixed`` answer, by Content-ID (``jsonInfos``, ``label``,
    ``cn23``), split on bytes: the label part is binary and must not be decoded as text."""
    boundary = boundary_of(content_type)
    if boundary is None:
        raise Refused(_("réponse Colissimo multipart sans délimiteur"))
    parts: dict[str, bytes] = {}
    for index, chunk in enumerate(body.split(b"--" + boundary)):
        if index == 0 or chunk.startswith(b"--"):
            continue  # preamble, closing delimiter
        chunk = chunk[2:] if chunk.startswith(b"\r\n") else chunk.lstrip(b"\n")
        head, sep, payload = chunk.partition(b"\r\n\r\n")
        if not sep:
            head, sep, payload = chunk.partition(b"\n\n")
        if payload.endswith(b"\r\n"):
            payload = payload[:-2]
        elif payload.endswith(b"\n"):
            payload = payload[:-1]
        headers = {}
        for line in head.decode("latin-1").splitlines():
            name, _colon, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        cid = headers.get("content-id", "").strip("<>") or f"part{index}"
        parts[cid] = payload
    return parts


def check_messages(info: dict[str, Any]) -> None:
    """Success iff ``messages[0].id`` is 0 (warnings come in ``messages`` too)."""
    messages = [m for m in info.get("messages") or [] if isinstance(m, dict)]
    errors = [m for m in messages if str(m.get("id")) != "0" and str(m.get("type", "")).upper() != "INFO"
              and str(m.get("type", "")).upper() != "WARNING"]
    if errors:
        raise Refused("; ".join(f"{m.get('id')} {m.get('messageContent')}" for m in errors))


def label_answer(content_type: str, body: bytes) -> LabelAnswer:
    """A ``generateLabel`` answer: multipart (info + label [+ CN23]) or a mono-part JSON refusal."""
    if content_type.lower().startswith("multipart/"):
        parts = split_multipart(content_type, body)
        raw = parts.get("jsonInfos")
        if raw is None:
            raise Refused(_("réponse Colissimo sans partie jsonInfos"))
        info = json.loads(raw.decode("utf-8"))
        check_messages(info)
        return LabelAnswer(info, parts.get("label"), parts.get("cn23"), parts)
    try:
        info = json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise Refused(_("réponse illisible de Colissimo")) from None
    check_messages(info)
    raise Refused(str(info.get("errorLabel") or "réponse Colissimo sans étiquette"))


def status_of(entry: dict[str, Any]) -> tuple[ShipmentStatus | None, str]:
    """(OMS status, La Poste's words) of one Suivi v2 entry: its latest event."""
    shipment = entry.get("shipment") or {}
    events = shipment.get("event") or []
    if not events:
        return None, ""
    latest = max(events, key=lambda e: str(e.get("date") or ""))
    code = str(latest.get("code") or "")
    status = next((s for prefix, s in EVENTS if code.startswith(prefix)), None)
    return status, f"{code} {latest.get('label') or ''}".strip()[:200]


def tariff(lines: str | None, weight_grams: int) -> Decimal | None:
    """The merchant's contract price for this weight: lines ``poids maximal en grammes:prix``."""
    best = None
    for line in (lines or "").splitlines():
        if ":" not in line:
            continue
        grams, price = line.split(":", 1)
        try:
            limit, amount = int(grams.strip()), Decimal(price.strip().replace(",", "."))
        except (ValueError, InvalidOperation):
            continue
        if weight_grams <= limit and (best is None or limit < best[0]):
            best = (limit, amount)
    return best[1] if best else None


@dataclass(frozen=True)
class PickupPoint:
    id: str
    name: str
    line1: str
    postal_code: str
    city: str
    country: str
    kind: str
    distance_m: int | None
    hours: list[tuple[str, str]]
    latitude: str = ""
    longitude: str = ""


def points_from(body: dict[str, Any]) -> list[PickupPoint]:
    """``listePointRetraitAcheminement`` as pick-up points (error code 0 or it raises)."""
    if str(body.get("errorCode", "0")) != "0":
        raise Refused(f"{body.get('errorCode')} {body.get('errorMessage') or ''}".strip())
    out = []
    for p in body.get("listePointRetraitAcheminement") or []:
        hours = [(day, str(p.get(f"horairesOuverture{day}") or "").strip()) for day in DAYS]
        hours = [(day, h.replace(" ", ", ") if h and h != "00:00-00:00 00:00-00:00" else "fermé") for day, h in hours]
        out.append(PickupPoint(id=str(p.get("identifiant") or ""), name=str(p.get("nom") or ""),
                               line1=str(p.get("adresse1") or ""), postal_code=str(p.get("codePostal") or ""),
                               city=str(p.get("localite") or ""), country=str(p.get("codePays") or "FR"),
                               kind=str(p.get("typeDePoint") or ""),
                               distance_m=int(p["distanceEnMetre"]) if str(p.get("distanceEnMetre", "")).isdigit()
                               else None, hours=hours,
                               latitude=str(p.get("coordGeolocalisationLatitude") or ""),
                               longitude=str(p.get("coordGeolocalisationLongitude") or "")))
    return out
