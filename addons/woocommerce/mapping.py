"""WooCommerce's payloads in core's terms and back: pure functions, no I/O.

Sources: WooCommerce REST API v3 documentation (orders, products, variations, webhooks) and
the Shipment Tracking extension's REST documentation; see ``specs/README.md``.
"""
from __future__ import annotations

import re
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from core.types import NormalizedAddress, NormalizedLine, NormalizedOrder, NormalizedPickupPoint
from core.i18n import _

#: WooCommerce's order statuses → (the OMS's channel status, payment status). Plugins add their
#: own statuses (``wc-shipped``…): an unknown one is kept open and its name shown in the tags.
STATUSES: dict[str, tuple[str, str]] = {
    "pending": ("pending", "pending"),        # awaiting payment: reserved, not picked
    "on-hold": ("pending", "pending"),        # awaiting confirmation (bank transfer, cheque)
    "failed": ("pending", "voided"),          # payment failed; the customer may pay again
    "processing": ("open", "paid"),           # paid, to ship
    "completed": ("shipped", "paid"),
    "cancelled": ("cancelled", "voided"),
    "refunded": ("cancelled", "refunded"),
    "trash": ("cancelled", "voided"),         # an order put in the bin
    "checkout-draft": ("pending", "pending"),  # block checkout, not yet placed
}
STATUS_LABELS_FR = {"pending": _("en attente de paiement"), "on-hold": _("en attente"), "failed": _("échouée"),
                    "processing": _("en cours"), "completed": _("terminée"), "cancelled": _("annulée"),
                    "refunded": _("remboursée"), "trash": "corbeille", "checkout-draft": "brouillon"}
#: the webhook topics the add-on subscribes to
TOPICS = ("order.created", "order.updated", "order.deleted", "order.restored",
          "product.created", "product.updated", "product.deleted", "product.restored")

#: OMS carrier codes → Shipment Tracking's provider names (the extension's list)
PROVIDERS = {"colissimo": "Colissimo", "chronopost": "Chronopost", "laposte": "La Poste", "dhl": "DHL",
             "dhl_express": "DHL", "ups": "UPS", "fedex": "Fedex", "dpd": "DPD", "gls": "GLS",
             "mondialrelay": "Mondial Relay", "tnt": "TNT", "colis_prive": "Colis Privé"}
CARRIER_NAMES = {"colissimo": "Colissimo", "chronopost": "Chronopost", "laposte": "La Poste",
                 "dhl": "DHL", "dhl_express": "DHL Express", "ups": "UPS", "fedex": "FedEx", "dpd": "DPD",
                 "gls": "GLS", "mondialrelay": "Mondial Relay", "tnt": "TNT", "manual": "Transporteur"}

BATCH_LIMIT = re.compile(r"more than (\d+) items", re.IGNORECASE)


def gmt(value: str | None) -> datetime | None:
    """A ``*_gmt`` field (``2026-11-02T09:00:00``, no offset: UTC) as an aware datetime."""
    if not value:
        return None
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def gmt_param(when: datetime) -> str:
    """A date for ``modified_after`` with ``dates_are_gmt=true`` (ISO 8601, UTC, no offset)."""
    return when.astimezone(timezone.utc).replace(tzinfo=None, microsecond=0).isoformat()


def money(value: Any) -> Decimal:
    try:
        return Decimal(str(value if value not in (None, "") else "0"))
    except InvalidOperation:
        return Decimal("0")


def _address(a: dict[str, Any] | None, email: str = "") -> NormalizedAddress:
    a = a or {}
    name = " ".join(p for p in (a.get("first_name", ""), a.get("last_name", "")) if p).strip()
    return NormalizedAddress(name=name, company=a.get("company", "") or "", line1=a.get("address_1", "") or "",
                             line2=a.get("address_2", "") or "", postal_code=a.get("postcode", "") or "",
                             city=a.get("city", "") or "", region=a.get("state", "") or "",
                             country=(a.get("country", "") or "").upper(), phone=a.get("phone", "") or "",
                             email=a.get("email", email) or email)


def _meta(items: list[dict[str, Any]] | None) -> dict[str, Any]:
    return {m.get("key"): m.get("value") for m in items or [] if isinstance(m, dict)}


def pickup_point(order: dict[str, Any]) -> NormalizedPickupPoint | None:
    """The pick-up location of WooCommerce's own "Local pickup" (block checkout: a shipping line
    ``method_id: pickup_location`` with ``pickup_location`` / ``pickup_address`` meta)."""
    for line in order.get("shipping_lines") or []:
        if line.get("method_id") != "pickup_location":
            continue
        meta = _meta(line.get("meta_data"))
        name = str(meta.get("pickup_location") or line.get("method_title") or "")
        return NormalizedPickupPoint(id=str(line.get("instance_id") or name), network="woocommerce_pickup",
                                     name=name, address=NormalizedAddress(name=name,
                                                                          line1=str(meta.get("pickup_address") or "")))
    return None


def normalize(order: dict[str, Any]) -> NormalizedOrder:
    """A v3 order (REST answer or webhook body) as a NormalizedOrder."""
    status = str(order.get("status") or "")
    channel_status, payment = STATUSES.get(status, ("open", "paid" if order.get("date_paid_gmt") else "pending"))
    billing = order.get("billing") or {}
    email = billing.get("email") or ""
    shipping = _address(order.get("shipping"), email)
    if not shipping.line1 and not shipping.city:  # virtual goods or local pickup: the billing address
        shipping = _address(billing, email)
    if not shipping.phone:
        shipping.phone = billing.get("phone", "") or ""
    lines = []
    for li in order.get("line_items") or []:
        qty = int(li.get("quantity") or 0)
        if qty <= 0:
            continue
        subtotal, total = money(li.get("subtotal")), money(li.get("total"))
        lines.append(NormalizedLine(sku=(li.get("sku") or "").strip() or f"woocommerce:{li.get('product_id')}"
                                    + (f":{li['variation_id']}" if li.get("variation_id") else ""),
                                    quantity=qty, unit_price=(subtotal / qty).quantize(Decimal("0.01")),
                                    title=li.get("name", "") or "", external_id=str(li.get("id")),
                                    tax=money(li.get("total_tax")), discount=max(subtotal - total, Decimal("0"))))
    subtotal = sum((money(li.get("subtotal")) for li in order.get("line_items") or []), Decimal("0"))
    refunded = sum((-money(r.get("total")) if money(r.get("total")) < 0 else money(r.get("total"))
                    for r in order.get("refunds") or []), Decimal("0"))
    if refunded and payment == "paid":
        payment = "refunded" if refunded >= money(order.get("total")) else "partially_refunded"
    tags = [] if status in STATUSES else [f"woocommerce:{status}"]
    methods = " ".join(str(s.get("method_id", "")) for s in order.get("shipping_lines") or []).lower()
    return NormalizedOrder(
        external_id=str(order["id"]), number=str(order.get("number") or order["id"]),
        placed_at=gmt(order.get("date_created_gmt")) or datetime.now(timezone.utc),
        updated_at=gmt(order.get("date_modified_gmt")), currency=order.get("currency") or "EUR", lines=lines,
        total=money(order.get("total")), subtotal=subtotal, shipping_total=money(order.get("shipping_total")),
        tax_total=money(order.get("total_tax")), discount_total=money(order.get("discount_total")),
        status=channel_status, payment_status=payment, customer_email=email or None,
        customer_name=shipping.name or _address(billing).name, shipping_address=shipping,
        billing_address=_address(billing, email), pickup_point=pickup_point(order),
        service_level="express" if any(w in methods for w in ("express", "chronopost", "flat_rate_express")) else
        "standard", tags=tags, raw=order)


# ----------------------------------------------------------------------------- stock
def stock_updates(targets: list[tuple[int, int]]) -> list[dict[str, Any]]:
    """Batch ``update`` items for (WooCommerce id, quantity): stock managed at that level."""
    return [{"id": rid, "manage_stock": True, "stock_quantity": max(0, int(qty))} for rid, qty in targets]


def batch_limit(error_message: str) -> int | None:
    """The limit the store states in ``woocommerce_rest_request_entity_too_large``
    ("Unable to accept more than %s items for this request.")."""
    found = BATCH_LIMIT.search(error_message or "")
    return int(found.group(1)) if found else None


def batch_errors(answer: dict[str, Any]) -> dict[int, str]:
    """The items of a batch answer (HTTP 200) that failed: {id: WooCommerce's message}."""
    out = {}
    for item in (answer or {}).get("update") or []:
        err = item.get("error") if isinstance(item, dict) else None
        if err:
            out[int(item.get("id") or 0)] = str(err.get("message") or err.get("code") or "erreur")
    return out


# ----------------------------------------------------------------------------- tracking
def tracking_body(carrier: str, number: str, url: str, shipped: datetime | None) -> dict[str, Any]:
    """A Shipment Tracking entry: the extension's provider when it knows the carrier, else
    "custom provider + link" (``%1$s`` stands for the number in the extension's links)."""
    day = (shipped or datetime.now(timezone.utc)).date().isoformat()
    provider = PROVIDERS.get((carrier or "").lower())
    if provider:
        return {"tracking_provider": provider, "tracking_number": number, "date_shipped": day}
    body = {"custom_tracking_provider": CARRIER_NAMES.get((carrier or "").lower(), carrier or "Transporteur"),
            "tracking_number": number, "date_shipped": day}
    if url:
        body["custom_tracking_link"] = url
    return body


def tracking_note(carrier: str, number: str, url: str, lines: list[tuple[str, int]]) -> str:
    """The note to the customer (stores without Shipment Tracking): WooCommerce e-mails it."""
    name = CARRIER_NAMES.get((carrier or "").lower(), carrier or "notre transporteur")
    text = f"Votre colis a été expédié avec {name}. Numéro de suivi : {number}"
    if url:
        text += f" — suivez-le ici : {url}"
    if lines:
        text += "\nContenu du colis : " + ", ".join(f"{qty} × {title}" for title, qty in lines)
    return text
