"""Tracking sent back by suppliers (their page, a CSV file, their API): each parcel becomes
a core shipment of the purchase order's lines, shipped through ``core.orders.ship``, so the
sales channel passes the tracking to the customer like any other parcel."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from core import orders as order_flow
from core.extensions import db
from core.models import OrderStatus, Shipment, ShipmentStatus, utcnow

from .csvfiles import CsvFileError, read_csv
from .models import DropshipLine, DropshipPurchaseOrder, DropshipTracking
from .models import PurchaseOrderStatus as PO
from core.i18n import _

ADDON = "dropship"
#: the columns of a tracking file
TRACKING_COLUMNS = ("po_reference", "carrier", "tracking_number", "tracking_url")


class TrackingError(ValueError):
    """A refused tracking, with a French message for the supplier or the merchant."""


@dataclass(frozen=True)
class TrackingOutcome:
    tracking: DropshipTracking
    created: bool


def remaining(po: DropshipPurchaseOrder) -> dict[int, int]:
    """Per line of the purchase order (its id): units not shipped yet."""
    return {ln.id: max(ln.order_line.quantity - order_flow.shipped_quantity(ln.order_line), 0) for ln in po.lines}


def confirm(po: DropshipPurchaseOrder) -> bool:
    """The supplier acknowledges the purchase order; True when that changed something."""
    if po.status == PO.CANCELLED:
        raise TrackingError(_("Le bon de commande %(reference)s est annulé.", reference=po.reference))
    if po.confirmed_at is not None:
        return False
    po.confirmed_at = utcnow()
    if po.status in (PO.PENDING, PO.QUEUED, PO.SENT, PO.FAILED):
        po.status = PO.CONFIRMED
    order_flow.record(po.order, "dropship", _("%(name)s a confirmé le bon de commande %(reference)s",
                                              name=po.supplier.name, reference=po.reference),
                      source=ADDON, data={"purchase_order": po.id})
    return True


def apply_tracking(po: DropshipPurchaseOrder, *, carrier: str, tracking_number: str, tracking_url: str = "",
                   quantities: dict[int, int] | None = None, source: str,
                   user_id: int | None = None) -> TrackingOutcome:
    """Record a parcel of the purchase order and ship it: by default every unit not shipped
    yet, else ``quantities`` (purchase order line id → units). The same tracking number
    again changes nothing. Raises TrackingError; nothing is changed then."""
    number = (tracking_number or "").strip()[:128]
    if not number:
        raise TrackingError(_("Saisissez le numéro de suivi."))
    existing = db.session.scalar(select(DropshipTracking).where(DropshipTracking.purchase_order_id == po.id,
                                                                DropshipTracking.tracking_number == number))
    if existing is not None:
        return TrackingOutcome(existing, False)
    url = (tracking_url or "").strip()
    if url and not url.lower().startswith(("https://", "http://")):
        raise TrackingError(_("Le lien de suivi doit commencer par https://."))
    order = po.order
    if po.status == PO.CANCELLED or order.status == OrderStatus.CANCELLED:
        raise TrackingError(_("La commande %(number)s est annulée : ne l'expédiez pas.", number=order.number))
    left = remaining(po)
    lines = {ln.id: ln for ln in po.lines}
    if quantities:
        plan: list[tuple[DropshipLine, int]] = []
        for line_id, qty in quantities.items():
            if line_id not in lines:
                raise TrackingError(_("Cette ligne n'appartient pas au bon de commande."))
            if qty < 0 or qty > left[line_id]:
                raise TrackingError(_("%(supplier_sku)s : %(qty)s unité(s) demandée(s), %(left)s restant à "
                                      "expédier.",
                                      supplier_sku=lines[line_id].supplier_sku, qty=qty, left=left[line_id]))
            if qty:
                plan.append((lines[line_id], qty))
    else:
        plan = [(ln, left[ln.id]) for ln in po.lines if left[ln.id] > 0]
    if not plan:
        raise TrackingError(f"Tout le bon de commande {po.reference} est déjà expédié." if not quantities
                            else "Indiquez au moins une quantité à expédier.")
    shipping = {ln.order_line_id: qty for ln, qty in plan}
    completes = all(order_flow.shipped_quantity(ol) + shipping.get(ol.id, 0) >= ol.quantity for ol in order.lines)
    if (completes and order.status != OrderStatus.SHIPPED
            and OrderStatus.SHIPPED not in order_flow.TRANSITIONS[order.status]):
        raise TrackingError(_("La commande %(number)s est %(labels)s : le marchand doit la reprendre avant "
                              "d'enregistrer cette expédition.",
                              number=order.number, labels=order_flow.LABELS[order.status]))

    name = (carrier or "").strip()
    shipment = Shipment(order_id=order.id, warehouse_id=po.supplier.warehouse_id, service=name[:120] or None,
                        tracking_number=number, tracking_url=url[:500] or None, status=ShipmentStatus.DRAFT,
                        currency=order.currency)
    order_flow.ship(order, shipment, [(ln.order_line, qty) for ln, qty in plan], user_id=user_id)
    tracking = DropshipTracking(purchase_order_id=po.id, shipment_id=shipment.id, carrier=name[:120],
                                tracking_number=number, tracking_url=url[:500] or None, source=source,
                                created_at=utcnow())
    po.trackings.append(tracking)
    if po.confirmed_at is None:
        po.confirmed_at = tracking.created_at
    done = all(v == 0 for v in remaining(po).values())
    po.status = PO.SHIPPED if done else PO.PARTIALLY_SHIPPED
    if done:
        po.shipped_at = tracking.created_at
    order_flow.record(order, "dropship", f"{po.supplier.name} a expédié {po.reference} : {name} {number}".strip(),
                      source=ADDON, user_id=user_id, data={"purchase_order": po.id, "shipment": shipment.id})
    db.session.flush()
    return TrackingOutcome(tracking, True)


# ----------------------------------------------------------------------------- CSV files
@dataclass
class CsvReport:
    applied: list[str] = field(default_factory=list)  # references shipped
    unchanged: list[str] = field(default_factory=list)  # tracking already known
    errors: list[dict[str, Any]] = field(default_factory=list)  # {"line", "reason"}


def apply_tracking_csv(content: bytes, find: Callable[[str], DropshipPurchaseOrder | None], *, source: str,
                       user_id: int | None = None) -> CsvReport:
    """Apply a tracking file (po_reference, carrier, tracking_number, tracking_url): good rows
    are applied, bad ones reported with their line number and reason. ``find`` returns the
    purchase order of a reference among those the uploader may update, else None."""
    report = CsvReport()
    try:
        rows = read_csv(content, required=("po_reference", "tracking_number"))
    except CsvFileError as exc:
        report.errors.append({"line": exc.line, "reason": str(exc)})
        return report
    for line_no, row in rows:
        reference = row.get("po_reference", "")
        if not reference:
            report.errors.append({"line": line_no, "reason": "référence du bon de commande manquante"})
            continue
        po = find(reference)
        if po is None:
            report.errors.append({"line": line_no, "reason": f"bon de commande {reference} inconnu"})
            continue
        try:
            outcome = apply_tracking(po, carrier=row.get("carrier", ""), tracking_number=row.get("tracking_number", ""),
                                     tracking_url=row.get("tracking_url", ""), source=source, user_id=user_id)
        except TrackingError as exc:
            report.errors.append({"line": line_no, "reason": f"{reference} : {exc}"})
            continue
        (report.applied if outcome.created else report.unchanged).append(reference)
    return report
