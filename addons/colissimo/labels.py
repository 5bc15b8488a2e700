"""Colissimo labels (``generateLabel``: home, pick-up point, overseas, international with its
CN23), return labels (CORE / CORI), and the local cancellation Colissimo works with.

Colissimo bills a label at its first scan and has no cancel call (the official plugin deletes
labels locally): a cancelled label is simply never deposited, and a retry after a lost answer
makes a new label — the unused one is never billed. The merchant is told both on the order.
"""
from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from core import orders as order_flow
from core import shipping
from core.extensions import db
from core.jobs import enqueue
from core.models import Order, Shipment, Shop, Warehouse
from core.types import Label

from . import mapping
from .client import ColissimoClient, ColissimoError
from .mapping import Item, MissingData, Refused
from .models import ColissimoParcel, ColissimoReturn
from core.i18n import _

ADDON = "colissimo"
RETRY_INTERVALS = (60, 120, 300, 600, 1200, 1800, 3600, 3600)
TRACKING_PAGE = "https://www.laposte.fr/outils/suivre-vos-envois?code={}"
NOT_DEPOSITED = ("Étiquette Colissimo {number} annulée : ne déposez pas ce colis. Colissimo ne facture "
                 "une étiquette qu'à son premier scan.")


def client(shop: Shop) -> ColissimoClient:
    return ColissimoClient(shop.addon_settings(ADDON), shop.id)


def row_of(shipment: Shipment) -> ColissimoParcel | None:
    return db.session.scalar(select(ColissimoParcel).where(ColissimoParcel.shipment_id == shipment.id))


def pickup_point_of(order: Order) -> str | None:
    """The Colissimo point the buyer chose, when the order carries one (core keeps the
    channel's ``pickup_point``: an object or a dict with ``id`` and ``network``)."""
    point = getattr(order, "pickup_point", None)
    if point is None:
        return None
    get = point.get if isinstance(point, dict) else (lambda k, d=None: getattr(point, k, d))
    network = str(get("network", "") or "").lower()
    return str(get("id")) if get("id") and network in ("colissimo", "laposte", "la poste") else None


def sender(shipment: Shipment | None, settings: dict[str, Any]) -> dict[str, Any]:
    warehouse = db.session.get(Warehouse, shipment.warehouse_id) if shipment and shipment.warehouse_id else None
    a = (warehouse.address or {}) if warehouse is not None else {}
    if a.get("line1") and a.get("postal_code") and a.get("city"):
        return {"name": a.get("name") or warehouse.name, "company": a.get("company") or settings.get("sender_company"),
                "line1": a["line1"], "line2": a.get("line2"), "postal_code": a["postal_code"], "city": a["city"],
                "country": (warehouse.country or "FR").upper(), "phone": a.get("phone"), "email": a.get("email")}
    return {"name": settings.get("sender_company") or "", "company": settings.get("sender_company") or "",
            "line1": settings.get("sender_line") or "", "postal_code": settings.get("sender_zip") or "",
            "city": settings.get("sender_city") or "", "country": "FR", "phone": settings.get("sender_phone"),
            "email": settings.get("sender_email")}


def recipient(order: Order) -> dict[str, Any]:
    a = order.shipping_address or {}
    return {"name": a.get("name") or (order.customer.name if order.customer else ""), "company": a.get("company"),
            "line1": a.get("line1"), "line2": a.get("line2"), "postal_code": a.get("postal_code"),
            "city": a.get("city"), "region": a.get("region"), "country": (a.get("country") or "").upper(),
            "phone": a.get("phone") or order.phone, "email": a.get("email") or order.email}


def items(lines: list[tuple[Any, int]]) -> list[Item]:
    out = []
    for line, qty in lines:
        variant = line.variant
        out.append(Item(sku=line.sku, description=line.title or (variant.title if variant else "") or line.sku,
                        quantity=qty, unit_price=Decimal(line.unit_price),
                        grams=(variant.weight_grams or 0) if variant else 0,
                        hs_code=(variant.hs_code or "").strip() if variant else "",
                        origin=(variant.country_of_origin or "").strip().upper() if variant else ""))
    return out


def _row_for(shop: Shop, shipment: Shipment) -> ColissimoParcel:
    row = row_of(shipment)
    if row is None:
        row = ColissimoParcel(shop_id=shop.id, shipment_id=shipment.id, state="pending", attempts=0)
        db.session.add(row)
        db.session.flush()
    return row


def body_for(shop: Shop, order: Order, shipment: Shipment, row: ColissimoParcel) -> dict[str, Any]:
    settings = shop.addon_settings(ADDON)
    to = recipient(order)
    point = row.pickup_point_id or pickup_point_of(order)
    chosen = row.product_code or (shipment.service if shipment.service in mapping.PRODUCTS else None)
    product = chosen or mapping.product_for(to["country"] or "FR", str(to["postal_code"] or ""),
                                            signature=settings.get("product_code") == "DOS", relay=bool(point))
    if product == "HD" and not point:
        raise MissingData(_("Colissimo Point Retrait : la commande n'indique aucun point retrait ; choisissez-en "
                            "un (Intégrations › Colissimo › Points retrait) ou un autre produit."))
    frm = sender(shipment, settings)
    declaration = None
    if mapping.needs_customs(frm["country"], to["country"] or "FR", str(to["postal_code"] or "")):
        declaration = mapping.customs(items([(sl.order_line, sl.quantity) for sl in shipment.lines]),
                                      order.currency or "EUR", order.number.lstrip("#") or str(order.id))
    row.product_code, row.pickup_point_id = product, point if product == "HD" else None
    return mapping.letter(
        product=product, reference=f"oms-{shipment.id}", order_number=order.number, weight_grams=shipment.weight_grams
        or 0, sender=mapping.address(frm, who="sender"), addressee=mapping.address(to, who="addressee",
                                                                                    relay=product == "HD"),
        deposit=date.today(), commercial_name=settings.get("sender_company") or shop.name,
        pickup_location=row.pickup_point_id, declaration=declaration,
        output=settings.get("output_format") or "PDF_10x15_300dpi")


def create(shop: Shop, order: Order, shipment: Shipment) -> Label:
    row = _row_for(shop, shipment)
    body = body_for(shop, order, shipment, row)
    if row.attempts or (shipment.label_attempts or 0) > 1:
        order_flow.record(order, "label", _("nouvelle demande d'étiquette Colissimo : une étiquette d'un essai "
                                            "précédent, jamais déposée, n'est pas facturée"), source=ADDON, data={"shipment": shipment.id})
    row.attempts += 1
    res = client(shop).generate_label(body)
    try:
        answer = mapping.label_answer(res.headers.get("content-type", ""), res.content)
    except Refused as exc:
        raise ColissimoError(_("Colissimo refuse l'étiquette : %(exc)s", exc=exc), res.status_code, str(exc),
                             retryable=False) from None
    number = answer.parcel_number
    if not number or not answer.label:
        raise ColissimoError(_("Colissimo n'a renvoyé ni numéro de colis ni étiquette."), res.status_code, retryable=False)
    row.parcel_number, row.cn23, row.state, row.last_error = number, answer.cn23, "created", None
    return Label(carrier=ADDON, service=mapping.PRODUCTS.get(row.product_code or "", row.product_code or ""),
                 tracking_number=number, tracking_url=TRACKING_PAGE.format(number), pdf=answer.label,
                 external_id=number)


def create_label_now(shop: Shop, order: Order, shipment: Shipment) -> Label | None:
    try:
        return create(shop, order, shipment)
    except MissingData as exc:
        _failed(shipment, str(exc))
    except ColissimoError as exc:
        if exc.transient:
            _wait_and_retry(shipment, exc)
        else:
            _failed(shipment, str(exc))
    return None


def _failed(shipment: Shipment, message: str) -> None:
    row = row_of(shipment)
    if row is not None:
        row.state, row.last_error = "failed", message
    shipment.label_error = message


def _wait_and_retry(shipment: Shipment, exc: ColissimoError) -> None:
    row = row_of(shipment)
    if row is not None:
        row.state, row.last_error = "pending", str(exc)
    shipment.label_error = f"{exc} L'étiquette sera demandée à nouveau automatiquement ; le colis attend."
    enqueue("addons.colissimo.jobs.create_label", shipment.id, job_id=f"colissimo-create_label-{shipment.id}",
            unique=True, shop_id=shipment.order.shop_id, retries=len(RETRY_INTERVALS), intervals=RETRY_INTERVALS,
            delay=RETRY_INTERVALS[0])


def retry_label(shipment_id: int) -> str:
    """The retry job (core's claim, the request, core's commit); raises while Colissimo is down."""
    return shipping.retry_label_job(shipment_id, ADDON, create, _failed, data_errors=(MissingData,),
                                    remote_errors=(ColissimoError,))



def cancel(shop: Shop, shipment: Shipment) -> bool | None:
    if shipment.carrier != ADDON:
        return None
    row = row_of(shipment)
    if row is not None:
        row.state = "voided"
    if shipment.tracking_number:
        order_flow.record(shipment.order, "shipment", NOT_DEPOSITED.format(number=shipment.tracking_number),
                          source=ADDON, data={"shipment": shipment.id})
    return True


# ----------------------------------------------------------------------------- returns
def return_label(shop: Shop, order: Order, *, weight_grams: int | None = None) -> ColissimoReturn:
    """A return label: the customer is the sender, the merchant the addressee; CORE from
    France, CORI from abroad (with its CN23 outside the EU). Raises ``MissingData`` or
    ``ColissimoError``."""
    settings = shop.addon_settings(ADDON)
    customer = recipient(order)
    home = sender(order.shipments[0] if order.shipments else None, settings)
    country = customer["country"] or "FR"
    product = "CORE" if country in ("FR", "MC") else "CORI"
    lines = [(line, line.quantity) for line in order.lines]
    grams = weight_grams or shipping.shipment_weight(lines) or 1000
    declaration = None
    if mapping.needs_customs(home["country"], country):
        declaration = mapping.customs(items(lines), order.currency or "EUR", f"R{order.number.lstrip('#')}")
    body = mapping.letter(product=product, reference=f"oms-retour-{order.id}", order_number=order.number,
                          weight_grams=grams, sender=mapping.address(customer, who="sender"),
                          addressee=mapping.address(home, who="addressee"), deposit=date.today() + timedelta(days=1),
                          commercial_name=settings.get("sender_company") or shop.name, declaration=declaration,
                          return_type=2)
    res = client(shop).generate_label(body)
    try:
        answer = mapping.label_answer(res.headers.get("content-type", ""), res.content)
    except Refused as exc:
        raise ColissimoError(_("Colissimo refuse l'étiquette retour : %(exc)s", exc=exc), res.status_code, str(exc),
                             retryable=False) from None
    made = ColissimoReturn(shop_id=shop.id, order_id=order.id, product_code=product,
                           parcel_number=answer.parcel_number, label=answer.label or b"")
    db.session.add(made)
    order_flow.record(order, "return", _("étiquette retour Colissimo %(product)s %(parcel_number)s",
                                         product=product, parcel_number=answer.parcel_number), source=ADDON)
    return made
