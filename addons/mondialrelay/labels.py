"""Labels, tracking and relay-point search of Mondial Relay shipments (the hooks' work).

Delivery mode: an order with a Mondial Relay pick-up point goes to that point (``24R``,
``Location`` = the point id, ``FR-066974``); any other order goes home with the mode of the
settings (``HOM``), or is refused when the settings allow relay points only.
"""
from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select

from core import pickup
from core.extensions import db
from core.jobs import enqueue
from core.models import Order, Shipment, ShipmentStatus, Shop
from core.types import Label, NormalizedAddress, NormalizedPickupPoint

from .client import MondialRelayClient, MondialRelayError
from .models import MondialRelayShipment
from core.i18n import _

ADDON = "mondialrelay"
#: the carrier name a labelled shipment carries, as channels know it (Shopify's carrier list)
CARRIER = "mondial_relay"
#: countries Mondial Relay delivers to (relay points and home), all in the EU: no customs
SERVED = ("FR", "BE", "LU", "NL", "ES", "PT", "DE", "AT", "IT", "PL")
#: the label job's waits after an outage (seconds); then the parcel waits for the merchant
RETRY_DELAYS = (60, 300, 900, 3600, 3 * 3600)
#: STAT of WSI2_TracingColisDetaille → shipment status
TRACKING = {"80": ShipmentStatus.SHIPPED, "81": ShipmentStatus.IN_TRANSIT, "82": ShipmentStatus.DELIVERED,
            "83": ShipmentStatus.EXCEPTION}
MAX_WEIGHT = 30000


class MissingData(ValueError):
    """Data to fix before Mondial Relay can be asked (French message)."""


def client_for(shop: Shop, **options: Any) -> MondialRelayClient:
    return MondialRelayClient.from_settings(shop.addon_settings(ADDON), shop.id, **options)


def row_of(shipment: Shipment) -> MondialRelayShipment | None:
    if shipment.id is None:
        return None
    return db.session.scalar(select(MondialRelayShipment).where(MondialRelayShipment.shipment_id == shipment.id))


def ours(shipment: Shipment) -> bool:
    """A shipment of this carrier: asked for (``mondialrelay``) or labelled (``mondial_relay``)."""
    return shipment.carrier in (ADDON, CARRIER)


def tracking_url(settings: dict[str, Any], number: str, postal_code: str = "") -> str:
    return ("https://www.mondialrelay.fr/suivi-de-colis/?NumeroExpedition="
            f"{number}&CodePostal={postal_code}&ens={(settings.get('enseigne') or '').upper()}")


def relay_location(point: NormalizedPickupPoint | None, country: str) -> str | None:
    """``FR-066974`` from a point id as channels give it (``066974``, ``FR-066974``, ``FR066974``)."""
    if point is None or point.network not in ("mondialrelay", "mondial_relay", ""):
        return None
    raw = point.id.strip().upper()
    match = re.fullmatch(r"([A-Z]{2})?-?(\d{1,6})", raw)
    if not match:
        return None
    return f"{match.group(1) or (point.address.country or country or 'FR').upper()}-{int(match.group(2)):06d}"


def _split_name(name: str) -> tuple[str, str]:
    parts = name.strip().split(" ", 1)
    return (parts[0], parts[1]) if len(parts) == 2 else ("", parts[0])


def shipment_data(shop: Shop, order: Order, shipment: Shipment) -> dict[str, Any]:
    settings = shop.addon_settings(ADDON)
    address = order.shipping_address or {}
    country = (address.get("country") or "").upper()
    if country not in SERVED:
        raise MissingData(_("Mondial Relay ne livre pas ce pays (%(value)s) : choisissez un autre transporteur "
                            "pour ce colis.", value=country or 'inconnu'))
    grams = shipment.weight_grams
    if not grams or grams <= 0:
        raise MissingData(_("Poids du colis inconnu : pesez-le (Mondial Relay veut le poids en grammes)."))
    if grams > MAX_WEIGHT:
        raise MissingData(_("Colis trop lourd pour Mondial Relay (%(grams)s g, 30 000 g au plus).", grams=grams))
    location = relay_location(pickup.point_of(order), country)
    if location:
        mode = "24R"
    elif settings.get("home_mode", "HOM"):
        mode, location = settings.get("home_mode", "HOM"), ""
    else:
        raise MissingData(_("Cette commande n'a pas de point relais Mondial Relay : choisissez-en un sur la page "
                            "de la commande (les réglages n'autorisent pas la livraison à domicile)."))
    first, last = _split_name(address.get("name") or "")
    missing = [label for key, label in (("line1", "adresse"), ("postal_code", "code postal"), ("city", "ville"))
               if not address.get(key)]
    if not last:
        missing.insert(0, "nom")
    if missing:
        raise MissingData(_("Adresse du destinataire incomplète (%(items)s) : corrigez la commande.",
                            items=', '.join(missing)))
    phone = address.get("phone") or order.phone or ""
    recipient = {"Firstname": first[:30], "Lastname": last[:30], "Streetname": address.get("line1", "")[:30],
                 "CountryCode": country, "PostCode": address.get("postal_code", ""),
                 "City": address.get("city", "")[:30], "AddressAdd1": (address.get("company") or "")[:30],
                 "AddressAdd2": (address.get("line2") or "")[:30], "PhoneNo": phone[:20], "MobileNo": phone[:20],
                 "Email": (address.get("email") or order.email or "")[:70]}
    sender = {"Lastname": settings.get("sender_name", "")[:30], "Streetname": settings.get("sender_street", "")[:30],
              "CountryCode": (settings.get("sender_country") or "FR").upper(),
              "PostCode": settings.get("sender_postal_code", ""), "City": settings.get("sender_city", "")[:30],
              "PhoneNo": settings.get("sender_phone", ""), "Email": settings.get("sender_email", "")}
    if not (sender["Lastname"] and sender["Streetname"] and sender["PostCode"] and sender["City"]):
        raise MissingData(_("Adresse de l'expéditeur manquante : complétez les paramètres Mondial Relay."))
    content = ", ".join(sorted({sl.order_line.title or sl.order_line.sku for sl in shipment.lines}))
    collection = settings.get("collection_mode") or "CCC"
    return {"order_no": f"OMS{shipment.id}"[:15], "customer_no": str(order.customer_id or "")[:9],
            "delivery_mode": mode, "delivery_location": location, "collection_mode": collection,
            "collection_location": settings.get("collection_relay", "") if collection == "REL" else "",
            "weight_grams": grams, "content": content or order.number, "sender": sender, "recipient": recipient}


def create_label(shop: Shop, order: Order, shipment: Shipment) -> Label | None:
    """The hook's work: the label, or the reason it waits in ``shipment.label_error``."""
    settings = shop.addon_settings(ADDON)
    row = row_of(shipment)
    if row is not None and row.state == "created" and row.number:
        return _label(shop, shipment, row, settings)  # created earlier, its PDF still to fetch
    # core commits each attempt before calling: an earlier attempt that left no row died on
    # the way, maybe after Mondial Relay created the shipment
    unknown = row is None and (shipment.label_attempts or 0) > 1
    if unknown or (row is not None and row.state == "lost"):
        if row is None:
            row = MondialRelayShipment(shop_id=shop.id, shipment_id=shipment.id, attempts=1)
            db.session.add(row)
        row.state = "lost"
        shipment.label_error = (f"Une demande d'étiquette est partie sans réponse de Mondial Relay. Vérifiez dans "
                                f"votre espace Connect si l'expédition OMS{shipment.id} existe, puis confirmez sur "
                                "la page du colis : aucune étiquette n'est achetée deux fois.")
        return None
    if row is None:
        row = MondialRelayShipment(shop_id=shop.id, shipment_id=shipment.id, attempts=0)
        db.session.add(row)
    try:
        data = shipment_data(shop, order, shipment)
    except MissingData as exc:
        row.state, row.last_error = "failed", str(exc)
        shipment.label_error = str(exc)
        return None
    row.state, row.delivery_mode, row.relay_id = "sent", data["delivery_mode"], data["delivery_location"] or None
    row.attempts += 1
    client = client_for(shop)
    try:
        created = client.create_shipment(data, settings.get("label_format") or "10x15")
    except MondialRelayError as exc:
        if exc.status in (None, 504):  # no answer: it may have been created
            row.state, row.last_error = "lost", str(exc)
            shipment.label_error = (f"{exc} Mondial Relay n'a pas répondu : vérifiez dans votre espace Connect si "
                                    f"l'expédition OMS{shipment.id} existe, puis confirmez sur la page du colis.")
        elif exc.retryable:
            row.state, row.last_error = "failed", str(exc)
            _retry_later(shipment, str(exc))
        else:
            row.state, row.last_error = "failed", str(exc)
            shipment.label_error = str(exc)
        return None
    row.state, row.number, row.label_url, row.last_error = "created", created.number, created.label_url, None
    return _label(shop, shipment, row, settings)


def _label(shop: Shop, shipment: Shipment, row: MondialRelayShipment, settings: dict[str, Any]) -> Label | None:
    try:
        pdf = client_for(shop).label_pdf(row.label_url or "")
    except MondialRelayError as exc:
        _retry_later(shipment, f"Expédition {row.number} créée, PDF de l'étiquette pas encore reçu : {exc}")
        return None
    postal = (shipment.order.shipping_address or {}).get("postal_code", "")
    service = "Point Relais" if row.delivery_mode == "24R" else "Domicile"
    return Label(carrier=CARRIER, service=f"{service} ({row.delivery_mode})", tracking_number=row.number or "",
                 tracking_url=tracking_url(settings, row.number or "", postal), pdf=pdf, external_id=row.number)


def _retry_later(shipment: Shipment, reason: str) -> None:
    attempt = shipment.label_attempts or 1
    if attempt > len(RETRY_DELAYS):
        shipment.label_error = f"{reason} Réessayez depuis la page du colis."
        return
    shipment.label_error = f"{reason} Nouvel essai automatique dans quelques minutes ; le colis attend, rien n'est perdu."
    enqueue("core.shipping.label_job", shipment.id, job_id=f"mondialrelay-label-{shipment.id}-{attempt}", unique=True,
            shop_id=shipment.order.shop_id, delay=RETRY_DELAYS[attempt - 1])


def confirm_lost(shipment: Shipment, exists_number: str | None, user_id: int | None = None) -> None:
    """The merchant checked the Connect portal after a lost answer: the shipment exists there
    (its number is given: the parcel leaves with it, its label printed from the portal), or it
    does not (the next request may leave)."""
    from core import shipping

    settings = shipment.order.shop.addon_settings(ADDON)
    postal = (shipment.order.shipping_address or {}).get("postal_code", "")
    shipping.confirm_lost_label(shipment, row_of(shipment), exists_number, number_field="number",
                                tracking_url=lambda number: tracking_url(settings, number, postal), user_id=user_id)


def cancel(shop: Shop, shipment: Shipment) -> bool | None:
    """Mondial Relay has no cancellation call: an unused label is simply never handed over and
    is not charged. The row is marked, the merchant told by the order history."""
    row = row_of(shipment)
    if row is None:
        return True if shipment.carrier == ADDON else None
    row.state = "cancelled"
    return True


def track(shop: Shop, shipment: Shipment) -> str | None:
    row = row_of(shipment)
    if row is None or not row.number:
        return None
    trace = client_for(shop).trace(row.number)
    row.stat = trace.stat
    status = TRACKING.get(trace.stat)
    return status.value if status else None


def search(shop: Shop, order: Order, query: dict[str, Any]) -> list[NormalizedPickupPoint]:
    country = (query.get("country") or "FR").upper()
    if country not in SERVED:
        return []
    weight = sum((ln.variant.weight_grams or 0) * ln.quantity for ln in order.lines if ln.variant) or None
    found = client_for(shop).search(country=country, postal_code=query.get("postal_code", ""),
                                    city=query.get("city", ""), weight_grams=weight)
    return [NormalizedPickupPoint(id=p.id, network=ADDON, name=p.name,
                                  address=NormalizedAddress(name=p.name, line1=p.line1, line2=p.line2,
                                                            postal_code=p.postal_code, city=p.city, country=p.country),
                                  opening_hours=p.opening_hours, distance_m=p.distance_m) for p in found]


