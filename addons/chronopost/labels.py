"""Labels, tracking, cancellation and rates of Chronopost shipments (the hooks' work).

The product is chosen by the settings' rules: an order with a Chronopost relay point goes
Chrono Relais (86) to that point; outside France the international product of the settings
(Express 17 by default) with its customs value; otherwise the order's service level picks
(prime: Chrono 10, express: Chrono 13, standard: the default product of the settings).
"""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import select

from core import pickup
from core.extensions import db
from core.jobs import enqueue
from core.models import Order, Shipment, ShipmentStatus, Shop
from core.types import Label, NormalizedAddress, NormalizedPickupPoint, Rate

from .client import ChronopostClient, ChronopostError
from .models import ChronopostSkybill
from core.i18n import _

ADDON = "chronopost"
PRODUCTS = {"01": "Chrono 13", "02": "Chrono 10", "16": "Chrono 18", "86": "Chrono Relais",
            "17": "Chrono Express (international)", "37": "Chrono Premium (international)",
            "44": "Chrono Classic (international)"}
EU = {"AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT", "LT", "LU",
      "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK", "MC"}
RETRY_DELAYS = (60, 300, 900, 3600, 3 * 3600)
#: event codes of trackSkybillV2 → shipment status (any other event: on its way)
DELIVERED = {"D", "D1", "D2", "D3", "D4"}
PROBLEMS = {"NA", "PA", "RB", "CR", "IR"}
CREATED = {"DC", "EC"}


class MissingData(ValueError):
    """Data to fix before Chronopost can be asked (French message)."""


def client_for(shop: Shop, **options: Any) -> ChronopostClient:
    return ChronopostClient.from_settings(shop.addon_settings(ADDON), shop.id, **options)


def row_of(shipment: Shipment) -> ChronopostSkybill | None:
    if shipment.id is None:
        return None
    return db.session.scalar(select(ChronopostSkybill).where(ChronopostSkybill.shipment_id == shipment.id))


def tracking_url(number: str) -> str:
    return f"https://www.chronopost.fr/tracking-no-cms/suivi-page?listeNumerosLT={number}"


def needs_customs(country: str) -> bool:
    return country.upper() not in EU


def product_for(order: Order, settings: dict[str, Any]) -> str:
    country = ((order.shipping_address or {}).get("country") or "FR").upper()
    point = pickup.point_of(order)
    if point is not None and point.network == ADDON and country == "FR":
        return "86"
    if country != "FR":
        return settings.get("international_product") or "17"
    level = getattr(order.service_level, "value", order.service_level)
    if level == "prime":
        return "02"
    if level == "express":
        return settings.get("express_product") or "01"
    return settings.get("default_product") or "01"


def _kg(grams: int) -> str:
    return str((Decimal(grams) / 1000).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP))


def customs(shipment: Shipment, order: Order) -> dict[str, str]:
    """The declared value of a parcel leaving the EU; every item needs its HS code and origin."""
    problems, total = [], Decimal("0")
    for sl in shipment.lines:
        line, variant = sl.order_line, sl.order_line.variant
        gaps = [n for n, ok in (("code SH", variant and variant.hs_code), ("pays d'origine",
                                                                          variant and variant.country_of_origin)) if not ok]
        if gaps:
            problems.append(f"{line.sku} ({', '.join(gaps)})")
        total += Decimal(line.unit_price) * sl.quantity
    if problems:
        raise MissingData(_("Données douanières manquantes pour un envoi hors UE : %(items)s. Complétez la fiche "
                            "produit puis réessayez.", items='; '.join(problems)))
    return {"customsCurrency": order.currency or "EUR", "customsValue": str(total.quantize(Decimal("0.01")))}


def request(shop: Shop, order: Order, shipment: Shipment, *, now: datetime | None = None) -> dict[str, Any]:
    settings = shop.addon_settings(ADDON)
    address = order.shipping_address or {}
    country = (address.get("country") or "").upper()
    missing = [label for key, label in (("name", "nom"), ("line1", "adresse"), ("postal_code", "code postal"),
                                        ("city", "ville"), ("country", "pays")) if not address.get(key)]
    if missing:
        raise MissingData(_("Adresse du destinataire incomplète (%(items)s) : corrigez la commande.",
                            items=', '.join(missing)))
    grams = shipment.weight_grams
    if not grams or grams <= 0:
        raise MissingData(_("Poids du colis inconnu : pesez-le avant de demander l'étiquette Chronopost."))
    if grams > 30000:
        raise MissingData(_("Colis trop lourd pour Chronopost (%(grams)s g, 30 kg au plus).", grams=grams))
    product = product_for(order, settings)
    sender = {"shipperCivility": "M", "shipperName": settings.get("sender_name", "")[:35],
              "shipperName2": settings.get("sender_company", "")[:35], "shipperAdress1": settings.get("sender_street", "")[:38],
              "shipperZipCode": settings.get("sender_postal_code", ""), "shipperCity": settings.get("sender_city", "")[:30],
              "shipperCountry": (settings.get("sender_country") or "FR").upper(),
              "shipperPhone": settings.get("sender_phone", ""), "shipperEmail": settings.get("sender_email", ""),
              "shipperPreAlert": "0"}
    if not (sender["shipperName"] and sender["shipperAdress1"] and sender["shipperZipCode"] and sender["shipperCity"]):
        raise MissingData(_("Adresse de l'expéditeur manquante : complétez les paramètres Chronopost."))
    phone = address.get("phone") or order.phone or ""
    email = address.get("email") or order.email or ""
    point = pickup.point_of(order) if product == "86" else None
    recipient = {"recipientName": (address.get("company") or address.get("name", ""))[:35],
                 "recipientName2": address.get("name", "")[:35] if address.get("company") else "",
                 "recipientAdress1": address.get("line1", "")[:38], "recipientAdress2": (address.get("line2") or "")[:38],
                 "recipientZipCode": address.get("postal_code", ""), "recipientCity": address.get("city", "")[:30],
                 "recipientCountry": country, "recipientContactName": address.get("name", "")[:35],
                 "recipientEmail": email, "recipientPhone": phone, "recipientMobilePhone": phone,
                 "recipientPreAlert": "22" if email else "0"}
    if point is not None:  # the relay's address; the buyer's name stays the addressee
        recipient.update(recipientName=point.name[:35] or recipient["recipientName"],
                         recipientName2=address.get("name", "")[:35], recipientAdress1=point.address.line1[:38],
                         recipientAdress2=point.address.line2[:38], recipientZipCode=point.address.postal_code,
                         recipientCity=point.address.city[:30])
    skybill = {"bulkNumber": "1", "evtCode": "DC", "objectType": "MAR", "productCode": product, "service": "0",
               "shipDate": (now or datetime.now(timezone.utc)).strftime("%Y-%m-%dT%H:%M:%S"), "shipHour": "16",
               "weight": _kg(grams), "weightUnit": "KGM", "skybillRank": "1"}
    if needs_customs(country):
        skybill.update(customs(shipment, order))
    ref = {"shipperRef": f"OMS{shipment.id}", "recipientRef": point.id if point is not None else order.number[:35],
           "customerSkybillNumber": f"OMS{shipment.id}"}
    return {
        "headerValue": {"accountNumber": settings.get("account_number", ""), "idEmit": "CHRFR",
                        "subAccount": settings.get("sub_account") or None},
        "shipperValue": sender,
        "customerValue": {"customerCivility": "M", "customerName": sender["shipperName"],
                          "customerAdress1": sender["shipperAdress1"], "customerZipCode": sender["shipperZipCode"],
                          "customerCity": sender["shipperCity"], "customerCountry": sender["shipperCountry"],
                          "customerPreAlert": "0"},
        "recipientValue": recipient, "refValue": ref, "skybillValue": skybill,
        "skybillParamsValue": {"mode": settings.get("label_mode") or "PDF", "withReservation": "0"},
        "modeRetour": "1", "numberOfParcel": "1", "version": "2.0", "multiParcel": "N",
    }


def create_label(shop: Shop, order: Order, shipment: Shipment) -> Label | None:
    """The hook's work: the label, or the reason it waits in ``shipment.label_error``. An
    earlier attempt that left no answer is not repeated blindly: the merchant checks first."""
    row = row_of(shipment)
    unknown = row is None and (shipment.label_attempts or 0) > 1
    if unknown or (row is not None and row.state in ("lost", "sent")):
        if row is None:
            row = ChronopostSkybill(shop_id=shop.id, shipment_id=shipment.id, attempts=1)
            db.session.add(row)
        row.state = "lost"
        shipment.label_error = ("Une demande d'étiquette est partie sans réponse de Chronopost. Vérifiez dans votre "
                                f"espace Chronopost si l'envoi de référence OMS{shipment.id} existe, puis confirmez "
                                "sur la page Chronopost : aucune étiquette n'est achetée deux fois.")
        return None
    if row is None:
        row = ChronopostSkybill(shop_id=shop.id, shipment_id=shipment.id, attempts=0)
        db.session.add(row)
    try:
        data = request(shop, order, shipment)
    except MissingData as exc:
        row.state, row.last_error = "failed", str(exc)
        shipment.label_error = str(exc)
        return None
    row.state, row.product_code = "sent", data["skybillValue"]["productCode"]
    row.attempts += 1
    try:
        made = client_for(shop).shipping_multi_parcel_v5(data)
    except ChronopostError as exc:
        if exc.status in (None, 504):
            row.state, row.last_error = "lost", str(exc)
            shipment.label_error = (f"{exc} Chronopost n'a pas répondu : vérifiez dans votre espace Chronopost si "
                                    f"l'envoi OMS{shipment.id} existe, puis confirmez sur la page Chronopost.")
        elif exc.retryable:
            row.state, row.last_error = "failed", str(exc)
            _retry_later(shipment, str(exc))
        else:
            row.state, row.last_error = "failed", str(exc)
            shipment.label_error = str(exc)
        return None
    row.state, row.skybill, row.last_error = "created", made.number, None
    return Label(carrier=ADDON, service=PRODUCTS.get(row.product_code, row.product_code),
                 tracking_number=made.number, tracking_url=tracking_url(made.number), pdf=made.pdf,
                 external_id=made.number)


def _retry_later(shipment: Shipment, reason: str) -> None:
    attempt = shipment.label_attempts or 1
    if attempt > len(RETRY_DELAYS):
        shipment.label_error = f"{reason} Réessayez depuis la page du colis."
        return
    shipment.label_error = f"{reason} Nouvel essai automatique dans quelques minutes ; le colis attend, rien n'est perdu."
    enqueue("core.shipping.label_job", shipment.id, job_id=f"chronopost-label-{shipment.id}-{attempt}", unique=True,
            shop_id=shipment.order.shop_id, delay=RETRY_DELAYS[attempt - 1])


def confirm_lost(shipment: Shipment, exists_number: str | None, user_id: int | None = None) -> None:
    """After a lost answer: the waybill exists (the parcel leaves with its number, the label
    printed from the Chronopost account) or it does not (the next request may leave)."""
    from core import shipping

    number = (exists_number or "").strip().upper() or None
    shipping.confirm_lost_label(shipment, row_of(shipment), number, number_field="skybill",
                                tracking_url=tracking_url, user_id=user_id)


def cancel(shop: Shop, shipment: Shipment) -> bool | None:
    """``cancelSkybill`` on the tracking service; a waybill already scanned cannot be cancelled."""
    row = row_of(shipment)
    if row is None:
        return True if shipment.carrier == ADDON and shipment.status == ShipmentStatus.DRAFT else None
    if row.state != "created" or not row.skybill:
        row.state = "cancelled"
        return True
    try:
        client_for(shop).cancel_skybill(row.skybill)
    except ChronopostError as exc:
        row.last_error = f"Annulation refusée par Chronopost : {exc}"
        shipment.label_error = row.last_error
        return False
    row.state = "cancelled"
    return True


def track(shop: Shop, shipment: Shipment) -> str | None:
    row = row_of(shipment)
    number = (row.skybill if row is not None else None) or shipment.tracking_number
    if row is None or not number:
        return None
    events = client_for(shop).track(number)
    if not events:
        return None
    codes = [e.code for e in events]
    row.event_code = codes[-1]
    if any(c in DELIVERED for c in codes):
        return ShipmentStatus.DELIVERED.value
    if codes[-1] in PROBLEMS:
        return ShipmentStatus.EXCEPTION.value
    if all(c in CREATED for c in codes):
        return ShipmentStatus.SHIPPED.value
    return ShipmentStatus.IN_TRANSIT.value


def quote(shop: Shop, order: Order, parcels: list[dict[str, Any]]) -> list[Rate]:
    settings = shop.addon_settings(ADDON)
    address = order.shipping_address or {}
    product = product_for(order, settings)
    client = client_for(shop)
    total = Decimal("0")
    for parcel in parcels or [{"weight_grams": 1000}]:
        grams = int(parcel.get("weight_grams") or 1000)
        price = client.quick_cost(settings.get("sender_postal_code") or "", address.get("postal_code") or "",
                                  _kg(grams), product)
        if price is None:
            return []
        total += price
    return [Rate(carrier=ADDON, service=PRODUCTS.get(product, product), price=total, currency="EUR", method_id=product)]


def search(shop: Shop, order: Order, query: dict[str, Any], *, today: datetime | None = None
           ) -> list[NormalizedPickupPoint]:
    """Chrono Relais points near the searched postal code (France only, where product 86 runs)."""
    country = (query.get("country") or "FR").upper()
    if country != "FR":
        return []
    address = order.shipping_address or {}
    same_place = (address.get("postal_code") or "").strip() == query.get("postal_code")
    grams = sum((ln.variant.weight_grams or 0) * ln.quantity for ln in order.lines if ln.variant) or 1000
    day = (today or datetime.now(timezone.utc)).strftime("%d/%m/%Y")
    found = client_for(shop).search_points(
        address=(address.get("line1") or "") if same_place else "", postal_code=query.get("postal_code") or "",
        city=query.get("city") or (address.get("city") if same_place else "") or "", country=country,
        weight_kg=_kg(grams), shipping_date=day)
    return [NormalizedPickupPoint(id=p.id, network=ADDON, name=p.name,
                                  address=NormalizedAddress(name=p.name, line1=p.line1, line2=p.line2,
                                                            postal_code=p.postal_code, city=p.city, country=p.country),
                                  opening_hours=p.opening_hours, distance_m=p.distance_m) for p in found]
