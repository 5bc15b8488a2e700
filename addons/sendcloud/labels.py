"""Labels through Sendcloud: announce a shipment (v3 ``POST /shipments/announce``, or v2
``POST /parcels`` for accounts that keep parcels), fetch its PDF, cancel it.

A shipment is announced with ``external_reference`` ``oms-<shipment id>``, unique at
Sendcloud: a retry after a lost answer (an earlier attempt recorded here, or counted by core
before it called — ``Shipment.label_attempts``, committed even when the process died during
the call) first looks the shipment up by that reference, so a parcel is never announced twice. Destinations outside the EU get customs data (HS code,
country of origin, value and weight of each item); an item missing them is refused before
any call, with the SKU to fix. When Sendcloud is down (no answer, 429, 5xx) the shipment
stays a draft and a job tries again (``jobs.create_label``), so nothing is lost.
"""
from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import select

from core import shipping
from core.extensions import db
from core.jobs import enqueue
from core.models import Order, Shipment, Shop, Warehouse
from core.types import Label

from .checks import client_from_settings
from .client import SendcloudClient, SendcloudError
from .models import SendcloudParcel
from .rules import NoMethod, choose, method_name, needs_customs
from core.i18n import _

ADDON = "sendcloud"
#: waits between automatic retries of a label while Sendcloud is unreachable (seconds)
RETRY_INTERVALS = (60, 120, 300, 600, 1200, 1800, 3600, 3600)


class MissingData(ValueError):
    """The parcel cannot be announced as it is (address, customs data): a French message."""


def parcel_row(shipment: Shipment) -> SendcloudParcel | None:
    return db.session.scalar(select(SendcloudParcel).where(SendcloudParcel.shipment_id == shipment.id))


def _row_for(shop: Shop, shipment: Shipment, version: str) -> SendcloudParcel:
    row = parcel_row(shipment)
    if row is None:
        row = SendcloudParcel(shop_id=shop.id, shipment_id=shipment.id, api_version=version,
                              external_reference=f"oms-{shipment.id}", state="pending", attempts=0)
        db.session.add(row)  # written with the method chosen next, at the next query's flush
    return row


def _version(settings: dict[str, Any]) -> str:
    return "v2" if settings.get("api_version") == "v2" else "v3"


# ----------------------------------------------------------------------------- request bodies
def _kg(grams: int | float | Decimal) -> Decimal:
    return (Decimal(grams) / 1000).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)


def _money(value: Decimal) -> str:
    return str(Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def recipient(order: Order) -> dict[str, str]:
    address = order.shipping_address or {}
    fields = {
        "name": address.get("name") or (order.customer.name if order.customer else "") or "",
        "company_name": address.get("company") or "",
        "address_line_1": address.get("line1") or "",
        "address_line_2": address.get("line2") or "",
        "postal_code": address.get("postal_code") or "",
        "city": address.get("city") or "",
        "country_code": (address.get("country") or "").upper(),
        "state_province_code": address.get("region") or "",
        "email": address.get("email") or order.email or "",
        "phone_number": address.get("phone") or order.phone or "",
    }
    missing = [label for key, label in (("name", "nom"), ("address_line_1", "adresse"), ("postal_code", "code postal"),
                                        ("city", "ville"), ("country_code", "pays")) if not fields[key]]
    if missing:
        raise MissingData(_("Adresse de livraison incomplète (%(items)s) : corrigez la commande.",
                            items=', '.join(missing)))
    return {k: v for k, v in fields.items() if v}


def sender(shipment: Shipment, settings: dict[str, Any]) -> dict[str, str]:
    """The warehouse's address when it has one, else the sender given in the settings."""
    warehouse = db.session.get(Warehouse, shipment.warehouse_id) if shipment.warehouse_id else None
    address = (warehouse.address or {}) if warehouse is not None else {}
    country = (settings.get("from_country_code") or (warehouse.country if warehouse else None) or "FR").upper()
    if address.get("line1") and address.get("postal_code") and address.get("city"):
        fields = {"name": address.get("name") or warehouse.name, "company_name": address.get("company") or "",
                  "address_line_1": address["line1"], "address_line_2": address.get("line2") or "",
                  "postal_code": address["postal_code"], "city": address["city"],
                  "country_code": (warehouse.country or country).upper(), "phone_number": address.get("phone") or "",
                  "email": address.get("email") or ""}
    else:
        fields = {"name": settings.get("sender_name") or settings.get("sender_company") or "",
                  "company_name": settings.get("sender_company") or "",
                  "address_line_1": settings.get("sender_address") or "",
                  "postal_code": settings.get("sender_postal_code") or "", "city": settings.get("sender_city") or "",
                  "country_code": country, "phone_number": settings.get("sender_phone") or "",
                  "email": settings.get("sender_email") or ""}
    if not (fields["name"] and fields["address_line_1"] and fields["postal_code"] and fields["city"]):
        raise MissingData(_("Adresse d'expédition manquante : renseignez l'adresse de l'entrepôt ou l'expéditeur "
                            "dans les paramètres Sendcloud."))
    return {k: v for k, v in fields.items() if v}


def items(shipment: Shipment, order: Order, *, customs: bool) -> list[dict[str, Any]]:
    """The parcel's items; with ``customs``, each must have its HS code, origin and weight."""
    out: list[dict[str, Any]] = []
    problems: list[str] = []
    for sl in shipment.lines:
        line = sl.order_line
        variant = line.variant
        hs_code = (variant.hs_code or "").strip() if variant else ""
        origin = (variant.country_of_origin or "").strip().upper() if variant else ""
        grams = variant.weight_grams if variant else None
        if customs:
            gaps = [name for name, ok in (("code SH", hs_code), ("pays d'origine", origin), ("poids", grams)) if not ok]
            if gaps:
                problems.append(f"{line.sku} ({', '.join(gaps)})")
                continue
        out.append({"sku": line.sku, "description": (line.title or (variant.title if variant else "") or line.sku)[:255],
                    "quantity": sl.quantity, "unit_price": Decimal(line.unit_price), "grams": grams or 0,
                    "hs_code": hs_code, "origin_country": origin,
                    "product_id": str(variant.product_id) if variant else ""})
    if problems:
        raise MissingData(_("Données douanières manquantes pour un envoi hors UE : %(items)s. Complétez la fiche "
                            "produit puis réessayez.", items='; '.join(problems)))
    return out


def v3_body(shop: Shop, order: Order, shipment: Shipment, settings: dict[str, Any], method: str,
            reference: str) -> dict[str, Any]:
    to = recipient(order)
    frm = sender(shipment, settings)
    customs = needs_customs(frm["country_code"], to["country_code"])
    parcel: dict[str, Any] = {"weight": {"value": str(_kg(shipment.weight_grams or 0)), "unit": "kg"}}
    body: dict[str, Any] = {
        "label_details": {"mime_type": "application/pdf", "dpi": 72},
        "to_address": to,
        "from_address": frm,
        "ship_with": {"type": "shipping_option_code", "properties": {"shipping_option_code": method}},
        "order_number": order.number,
        "external_reference_id": reference,
        "reference": order.external_id,
        "total_order_price": {"value": _money(order.total), "currency": order.currency},
        "parcels": [parcel],
    }
    if customs:
        parcel["parcel_items"] = [{
            "item_id": it["sku"], "description": it["description"], "quantity": it["quantity"],
            "weight": {"value": float(_kg(it["grams"])), "unit": "kg"},
            "price": {"value": _money(it["unit_price"]), "currency": order.currency},
            "hs_code": it["hs_code"], "origin_country": it["origin_country"], "sku": it["sku"],
            "product_id": it["product_id"]} for it in items(shipment, order, customs=True)]
        body["customs_information"] = {
            "invoice_number": (order.number.lstrip("#") or str(order.id))[:40],
            "export_reason": "commercial_goods", "export_type": "commercial_b2c",
            "invoice_date": date.today().isoformat()}
    return body


def v2_parcel(shop: Shop, order: Order, shipment: Shipment, settings: dict[str, Any], method: str,
              reference: str) -> dict[str, Any]:
    to = recipient(order)
    frm = sender(shipment, settings)
    if not (method.isascii() and method.isdigit()):
        raise MissingData(_("La méthode « %(method)s » n'est pas un numéro de méthode v2 : choisissez une méthode "
                            "listée par le test de connexion.", method=method))
    parcel: dict[str, Any] = {
        "name": to["name"], "company_name": to.get("company_name", ""), "address": to["address_line_1"],
        "address_2": to.get("address_line_2", ""), "city": to["city"], "postal_code": to["postal_code"],
        "country": to["country_code"], "email": to.get("email", ""), "telephone": to.get("phone_number", ""),
        "request_label": True, "shipment": {"id": int(method)},
        "weight": str(_kg(shipment.weight_grams or 0)), "order_number": order.number,
        "external_reference": reference, "total_order_value": _money(order.total),
        "total_order_value_currency": order.currency,
        "from_name": frm["name"], "from_company_name": frm.get("company_name", ""),
        "from_address_1": frm["address_line_1"], "from_city": frm["city"], "from_postal_code": frm["postal_code"],
        "from_country": frm["country_code"], "from_telephone": frm.get("phone_number", ""),
        "from_email": frm.get("email", ""),
    }
    if to.get("state_province_code"):
        parcel["country_state"] = to["state_province_code"]
    if needs_customs(frm["country_code"], to["country_code"]):
        parcel["parcel_items"] = [{
            "description": it["description"], "quantity": it["quantity"], "weight": str(_kg(it["grams"])),
            "value": float(Decimal(it["unit_price"]).quantize(Decimal("0.01"))), "hs_code": it["hs_code"],
            "origin_country": it["origin_country"], "sku": it["sku"], "product_id": it["product_id"]}
            for it in items(shipment, order, customs=True)]
        parcel["customs_information"] = {
            "customs_invoice_nr": (order.number.lstrip("#") or str(order.id))[:40],
            "customs_shipment_type": 2, "export_type": "commercial_b2c", "invoice_date": date.today().isoformat()}
    return {k: v for k, v in parcel.items() if v not in ("", None)}


# ----------------------------------------------------------------------------- announce
def _label_v3(client: SendcloudClient, data: dict[str, Any], method: str, name: str) -> Label:
    parcels = data.get("parcels") or []
    if not parcels:
        raise SendcloudError(_("Sendcloud n'a renvoyé aucun colis pour cette expédition."), 200)
    first = parcels[0]
    code = ((data.get("ship_with") or {}).get("properties") or {}).get("shipping_option_code") or method
    pdf = client.parcel_label(int(first["id"]))
    return Label(carrier=code.split(":", 1)[0], service=name, tracking_number=str(first.get("tracking_number") or ""),
                 tracking_url=str(first.get("tracking_url") or ""), pdf=pdf, external_id=str(first["id"]))


def _label_v2(client: SendcloudClient, parcel: dict[str, Any], name: str) -> Label:
    carrier = (parcel.get("carrier") or {}).get("code") or ""
    service = (parcel.get("shipment") or {}).get("name") or name
    pdf = client.label_printer_pdf(int(parcel["id"]))
    return Label(carrier=str(carrier), service=str(service), tracking_number=str(parcel.get("tracking_number") or ""),
                 tracking_url=str(parcel.get("tracking_url") or ""), pdf=pdf, external_id=str(parcel["id"]))


def announce(shop: Shop, order: Order, shipment: Shipment) -> Label:
    """Announce the shipment (or find it, announced by an earlier try) and return its label.
    Raises ``MissingData``, ``NoMethod`` or ``SendcloudError``."""
    settings = shop.addon_settings(ADDON)
    version = _version(settings)
    row = _row_for(shop, shipment, version)
    client = client_from_settings(settings, shop.id)
    with db.session.no_autoflush:  # the row is written once, with its method
        if row.method_id:  # a retry keeps the method first chosen
            method, rule = row.method_id, row.rule
        elif shipment.service:  # chosen at the packing station
            method, rule = shipment.service, None
        else:
            method, rule = choose(shop, order, shipment, settings)
        name = method_name(shop.id, method)
    row.method_id, row.rule_id, row.api_version = method, rule.id if rule else None, version
    tried_before = bool(row.attempts) or (shipment.label_attempts or 0) > 1
    if version == "v3":
        body = v3_body(shop, order, shipment, settings, method, row.external_reference)
        data = client.find_shipment(row.external_reference) if tried_before else None
        row.attempts += 1
        if data is None:
            data = client.announce_shipment(body)
        row.remote_shipment_id = str(data.get("id") or "") or None
        label = _label_v3(client, data, method, name)
    else:
        body = v2_parcel(shop, order, shipment, settings, method, row.external_reference)
        parcel = client.find_parcel(row.external_reference) if tried_before else None
        row.attempts += 1
        if parcel is None:
            parcel = client.create_parcel(body)
        label = _label_v2(client, parcel, name)
    row.parcel_id = int(label.external_id) if label.external_id else None
    row.state = "announced"
    row.last_error = None
    return label


def create_label_now(shop: Shop, order: Order, shipment: Shipment) -> Label | None:
    """The hook's work: the label at once, or the reason it waits (``shipment.label_error``)
    with an automatic retry when Sendcloud itself failed."""
    try:
        return announce(shop, order, shipment)
    except (MissingData, NoMethod) as exc:
        _failed(shipment, str(exc))
    except SendcloudError as exc:
        if exc.transient:
            _wait_and_retry(shipment, exc)
        else:
            _failed(shipment, f"Sendcloud a refusé l'étiquette : {exc}")
    return None


def _failed(shipment: Shipment, message: str) -> None:
    row = parcel_row(shipment)
    if row is not None:
        row.state, row.last_error = "failed", message
    shipment.label_error = message


def _wait_and_retry(shipment: Shipment, exc: SendcloudError) -> None:
    row = parcel_row(shipment)
    if row is not None:
        row.state, row.last_error = "pending", str(exc)
    shipment.label_error = (f"{exc} L'étiquette sera demandée à nouveau automatiquement ; le colis attend, "
                            "rien n'est perdu.")
    enqueue("addons.sendcloud.jobs.create_label", shipment.id, job_id=f"sendcloud-create_label-{shipment.id}",
            unique=True, shop_id=shipment.order.shop_id, retries=len(RETRY_INTERVALS), intervals=RETRY_INTERVALS,
            delay=RETRY_INTERVALS[0])


# ----------------------------------------------------------------------------- cancel
def cancel_now(shop: Shop, shipment: Shipment) -> bool | None:
    """Cancel the shipment's label at Sendcloud. None when it is not a Sendcloud parcel."""
    row = parcel_row(shipment)
    if row is None:
        return True if shipment.carrier == ADDON else None
    if row.parcel_id is None and row.remote_shipment_id is None:
        if row.attempts:  # an earlier try may have reached Sendcloud without an answer
            _queue_cancel(row)
        row.state = "cancelled"
        return True
    try:
        cancel_remote(shop, row)
    except SendcloudError as exc:
        if exc.transient:
            row.state, row.last_error = "cancelling", str(exc)
            _queue_cancel(row)
            return True
        if exc.status == 404 or "already" in exc.detail.lower():
            row.state = "cancelled"
            return True
        row.last_error = f"Annulation refusée par Sendcloud : {exc}"
        return False
    return True


def cancel_remote(shop: Shop, row: SendcloudParcel) -> None:
    client = client_from_settings(shop.addon_settings(ADDON), shop.id)
    if row.api_version == "v3":
        if row.remote_shipment_id is None:
            found = client.find_shipment(row.external_reference)
            if found is None:
                row.state = "cancelled"
                return
            row.remote_shipment_id = str(found.get("id"))
        client.cancel_shipment(row.remote_shipment_id)
    else:
        if row.parcel_id is None:
            found = client.find_parcel(row.external_reference)
            if found is None:
                row.state = "cancelled"
                return
            row.parcel_id = int(found["id"])
        client.cancel_parcel(row.parcel_id)
    row.state = "cancelled"
    row.last_error = None


def _queue_cancel(row: SendcloudParcel) -> None:
    enqueue("addons.sendcloud.jobs.cancel_label", row.shipment_id, job_id=f"sendcloud-cancel_label-{row.shipment_id}",
            unique=True, shop_id=row.shop_id, retries=len(RETRY_INTERVALS), intervals=RETRY_INTERVALS)


def retry_label(shipment_id: int) -> str:
    """The retry job's work (see ``jobs.create_label``): core's claim (lease and attempt count,
    committed before the call), the announcement, then core's commit of the label and the
    departure. Raises while Sendcloud stays unreachable, so the job is retried."""
    return shipping.retry_label_job(shipment_id, ADDON, announce, _failed, data_errors=(MissingData, NoMethod),
                                    remote_errors=(SendcloudError,), refused="Sendcloud a refusé l'étiquette : ")
