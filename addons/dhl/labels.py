"""Labels through MyDHL: ``POST /shipments`` (label and documents in base64), found again by
its customer reference when an earlier request lost its answer, and "cancelled" the only way
DHL Express allows: the parcel is not handed over (MyDHL has no void).

The shipment is sent with the customer reference ``oms-<shipment id>``. A retry after a lost
answer (an earlier attempt recorded here, or counted by core before it called —
``Shipment.label_attempts`` is committed even when the process died during the call) first asks
DHL for the account's shipment with that reference (``GET /tracking``); when DHL has it, its
documents are fetched (``GET /shipments/{n}/get-image``) instead of buying a second waybill.
"""
from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from core import orders as order_flow
from core import shipping
from core.extensions import db
from core.jobs import enqueue
from core.models import Order, Shipment, Shop, Warehouse, utcnow
from core.types import Label

from . import mapping
from .checks import mydhl, sender_address
from .client import DhlError
from .mapping import Item, MissingData
from .models import DhlShipment
from core.i18n import _

ADDON = "dhl"
RETRY_INTERVALS = (60, 120, 300, 600, 1200, 1800, 3600, 3600)
#: DHL's own tracking page for a waybill number
TRACKING_PAGE = "https://www.dhl.com/fr-fr/home/suivi.html?tracking-id={}&submit=1"
#: MyDHL does not answer "cancelled": the merchant keeps the parcel
NOT_HANDED_OVER = ("MyDHL n'annule pas les étiquettes : ne remettez pas ce colis au coursier DHL "
                   "(lettre de transport {number}). Une étiquette jamais scannée n'est pas facturée.")


def row_of(shipment: Shipment) -> DhlShipment | None:
    return db.session.scalar(select(DhlShipment).where(DhlShipment.shipment_id == shipment.id))


def _row_for(shop: Shop, shipment: Shipment) -> DhlShipment:
    row = row_of(shipment)
    if row is None:
        row = DhlShipment(shop_id=shop.id, shipment_id=shipment.id, reference=f"oms-{shipment.id}",
                          message_reference=str(uuid.uuid4()), state="pending", attempts=0)
        db.session.add(row)
        db.session.flush()
    return row


def recipient(order: Order) -> dict[str, Any]:
    a = order.shipping_address or {}
    return {"name": a.get("name") or (order.customer.name if order.customer else ""), "company": a.get("company"),
            "line1": a.get("line1"), "line2": a.get("line2"), "postal_code": a.get("postal_code"),
            "city": a.get("city"), "region": a.get("region"), "country": (a.get("country") or "").upper(),
            "phone": a.get("phone") or order.phone, "email": a.get("email") or order.email}


def sender(shipment: Shipment, settings: dict[str, Any]) -> dict[str, Any]:
    """The warehouse's address when it has one, else the sender of the settings."""
    warehouse = db.session.get(Warehouse, shipment.warehouse_id) if shipment.warehouse_id else None
    address = (warehouse.address or {}) if warehouse is not None else {}
    if address.get("line1") and address.get("postal_code") and address.get("city"):
        return {"name": address.get("name") or warehouse.name, "company": address.get("company") or warehouse.name,
                "line1": address["line1"], "line2": address.get("line2"), "postal_code": address["postal_code"],
                "city": address["city"], "country": (warehouse.country or "FR").upper(),
                "phone": address.get("phone") or settings.get("sender_phone"), "email": address.get("email")}
    found = sender_address(settings)
    if not (found["name"] and found["line1"] and found["city"]):
        raise MissingData(_("Adresse d'expédition manquante : renseignez l'adresse de l'entrepôt ou l'expéditeur "
                            "dans les paramètres DHL Express."))
    return found


def items(shipment: Shipment) -> list[Item]:
    out = []
    for sl in shipment.lines:
        line = sl.order_line
        variant = line.variant
        out.append(Item(sku=line.sku, description=(line.title or (variant.title if variant else "") or line.sku),
                        quantity=sl.quantity, unit_price=Decimal(line.unit_price),
                        grams=(variant.weight_grams or 0) if variant else 0,
                        hs_code=((variant.hs_code or "").strip() if variant else ""),
                        origin=((variant.country_of_origin or "").strip().upper() if variant else "")))
    return out


def body_for(shop: Shop, order: Order, shipment: Shipment, row: DhlShipment, settings: dict[str, Any]) -> dict:
    frm, to = sender(shipment, settings), recipient(order)
    parcel_items = items(shipment)
    value = sum((it.unit_price * it.quantity for it in parcel_items), Decimal(0)) or Decimal(order.total or 0)
    day = row.planned_on or mapping.ship_day()
    row.planned_on = day
    chosen = row.product_code or shipment.service or ""
    product = chosen if chosen in mapping.PRODUCTS else (settings.get("default_product") or "P")
    if frm["country"] == to["country"] == "FR" and product in ("P", "U"):
        product = "N"  # a domestic parcel travels as Express Domestic
    row.product_code = product
    body = mapping.shipment_body(
        account=settings.get("account_number") or "", product=product, sender=frm, receiver=to,
        weight_grams=shipment.weight_grams or 0, reference=row.reference, order_number=order.number,
        currency=order.currency or "EUR", value=value, items=parcel_items, day=day,
        paperless_trade=bool(settings.get("paperless_trade")), invoice_number=order.number.lstrip("#") or str(order.id))
    row.customs = body["content"]["isCustomsDeclarable"]
    row.paperless = bool(body.get("valueAddedServices"))
    return body


def _label(row: DhlShipment, number: str, docs: dict[str, bytes], service: str) -> Label:
    pdf = docs.get("label") or docs.get("waybillDoc") or docs.get("waybill")
    if not pdf:
        raise DhlError(_("DHL Express n'a renvoyé aucune étiquette pour cette lettre de transport."), 200, retryable=False)
    row.tracking_number = number
    row.invoice = docs.get("invoice") or row.invoice
    row.state = "created"
    row.last_error = None
    row.next_check_at = utcnow() + timedelta(hours=2)
    return Label(carrier=ADDON, service=service, tracking_number=number, tracking_url=TRACKING_PAGE.format(number),
                 pdf=pdf, external_id=number)


def create(shop: Shop, order: Order, shipment: Shipment) -> Label:
    """The label: found again at DHL after a lost answer, else bought once. Raises
    ``MissingData`` or ``DhlError``."""
    settings = shop.addon_settings(ADDON)
    row = _row_for(shop, shipment)
    client = mydhl(settings, shop.id)
    body = body_for(shop, order, shipment, row, settings)
    service = mapping.PRODUCTS.get(row.product_code or "", (row.product_code or "DHL Express", ""))[0]
    tried_before = bool(row.attempts) or (shipment.label_attempts or 0) > 1
    known = row.tracking_number
    day = row.planned_on or mapping.ship_day()
    if known is None and tried_before:
        known = client.find_by_reference(row.reference, (day - timedelta(days=2)).isoformat(),
                                         (day + timedelta(days=1)).isoformat())
    if known:  # DHL already has this parcel's waybill: its documents, not a second waybill
        row.attempts += 1
        docs = mapping.documents({"documents": client.get_image(known, day.strftime("%Y-%m"))})
        return _label(row, known, docs, service)
    row.attempts += 1
    answer = client.create_shipment(body, message_reference=row.message_reference)
    number = str(answer.get("shipmentTrackingNumber") or "")
    if not number:
        raise DhlError(_("DHL Express n'a pas renvoyé de numéro de lettre de transport."), 200, retryable=False)
    return _label(row, number, mapping.documents(answer), service)


def create_label_now(shop: Shop, order: Order, shipment: Shipment) -> Label | None:
    """The hook's work: the label at once, or the reason it waits (``shipment.label_error``),
    with an automatic retry when DHL itself failed or did not answer."""
    try:
        return create(shop, order, shipment)
    except MissingData as exc:
        _failed(shipment, str(exc))
    except DhlError as exc:
        if exc.transient:
            _wait_and_retry(shipment, exc)
        else:
            _failed(shipment, f"DHL Express a refusé l'étiquette : {exc}")
    return None


def _failed(shipment: Shipment, message: str) -> None:
    row = row_of(shipment)
    if row is not None:
        row.state, row.last_error = "failed", message
    shipment.label_error = message


def _wait_and_retry(shipment: Shipment, exc: DhlError) -> None:
    row = row_of(shipment)
    if row is not None:
        row.state, row.last_error = "pending", str(exc)
    shipment.label_error = (f"{exc} L'étiquette sera demandée à nouveau automatiquement, après vérification "
                            "chez DHL qu'elle n'existe pas déjà ; le colis attend, rien n'est perdu.")
    enqueue("addons.dhl.jobs.create_label", shipment.id, job_id=f"dhl-create_label-{shipment.id}", unique=True,
            shop_id=shipment.order.shop_id, retries=len(RETRY_INTERVALS), intervals=RETRY_INTERVALS,
            delay=RETRY_INTERVALS[0])


def retry_label(shipment_id: int) -> str:
    """The retry job: core's claim, the look-up then the request, core's commit. Raises while
    DHL stays unreachable, so the job is retried."""
    return shipping.retry_label_job(shipment_id, ADDON, create, _failed, data_errors=(MissingData,),
                                    remote_errors=(DhlError,), refused="DHL Express a refusé l'étiquette : ")



def cancel(shop: Shop, shipment: Shipment) -> bool | None:
    """MyDHL has no void: the label is kept out of DHL's hands. The merchant is told on the
    order; a pickup booked for this parcel alone is cancelled at DHL (a job)."""
    if shipment.carrier != ADDON:
        return None
    row = row_of(shipment)
    number = (row.tracking_number if row else None) or shipment.tracking_number
    if row is not None:
        row.state = "voided"
        row.next_check_at = None
    if number:
        order_flow.record(shipment.order, "shipment", NOT_HANDED_OVER.format(number=number), source=ADDON,
                          data={"shipment": shipment.id})
    if row is not None and row.pickup_id is not None:
        enqueue("addons.dhl.jobs.release_pickup", row.pickup_id, job_id=f"dhl-release_pickup-{row.pickup_id}",
                unique=True, shop_id=shop.id)
    return True
