"""Mirakl's order payload (OR11) in core's terms: pure functions, no I/O.

States (seller OpenAPI, OR11 ``order_state``): STAGING, WAITING_ACCEPTANCE, WAITING_DEBIT,
WAITING_DEBIT_PAYMENT, SHIPPING, SHIPPED, TO_COLLECT, RECEIVED, CLOSED, REFUSED, CANCELED
(plus the deprecated WAITING_REFUND, WAITING_REFUND_PAYMENT, REFUNDED). Mirakl's
compatibility rules ask clients to read enumerations as strings: a state added later is kept
as it comes (``state_label`` shows it as is) and the order stays open.

``customer.shipping_address`` is null before shipping or acceptance, depending on the
platform's setting (OR11 description): such an order is read again once it is accepted.
``shipping_pudo_id`` names the pick-up point the customer chose.
"""
from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from core.types import NormalizedAddress, NormalizedLine, NormalizedOrder, NormalizedPickupPoint
from core.i18n import _

#: state → (OMS status as the channel says, payment status)
STATES: dict[str, tuple[str, str]] = {
    "STAGING": ("open", "pending"),
    "WAITING_ACCEPTANCE": ("open", "pending"),
    "WAITING_DEBIT": ("open", "pending"),
    "WAITING_DEBIT_PAYMENT": ("open", "pending"),
    "SHIPPING": ("open", "paid"),
    "SHIPPED": ("shipped", "paid"),
    "TO_COLLECT": ("shipped", "paid"),
    "RECEIVED": ("shipped", "paid"),
    "CLOSED": ("shipped", "paid"),
    "REFUSED": ("cancelled", "voided"),
    "CANCELED": ("cancelled", "voided"),
    "WAITING_REFUND": ("shipped", "paid"),
    "WAITING_REFUND_PAYMENT": ("shipped", "paid"),
    "REFUNDED": ("shipped", "refunded"),
}
LABELS = {
    "STAGING": _("en cours de validation (fraude)"), "WAITING_ACCEPTANCE": _("en attente d'acceptation"),
    "WAITING_DEBIT": _("en attente de débit"), "WAITING_DEBIT_PAYMENT": _("en attente du paiement"),
    "SHIPPING": _("à expédier"), "SHIPPED": _("expédiée"), "TO_COLLECT": _("à retirer"), "RECEIVED": _("reçue"),
    "CLOSED": _("clôturée"), "REFUSED": _("refusée"), "CANCELED": _("annulée"), "WAITING_REFUND": _("remboursement demandé"),
    "WAITING_REFUND_PAYMENT": _("remboursement en cours"), "REFUNDED": _("remboursée"),
}
BEFORE_ACCEPTANCE = frozenset({"STAGING", "WAITING_ACCEPTANCE"})
BEFORE_SHIPPING = frozenset({"STAGING", "WAITING_ACCEPTANCE", "WAITING_DEBIT", "WAITING_DEBIT_PAYMENT"})
#: ISO 3166 alpha-3 (Mirakl's ``country_iso_code``) → alpha-2, for the countries Mirakl's
#: French operators deliver; another code is kept as given
ALPHA3 = {"FRA": "FR", "BEL": "BE", "LUX": "LU", "CHE": "CH", "DEU": "DE", "ESP": "ES", "ITA": "IT", "PRT": "PT",
          "NLD": "NL", "AUT": "AT", "IRL": "IE", "GBR": "GB", "MCO": "MC", "POL": "PL", "GRC": "GR", "SWE": "SE",
          "DNK": "DK", "FIN": "FI", "CZE": "CZ", "ROU": "RO", "HUN": "HU", "SVK": "SK", "SVN": "SI", "HRV": "HR",
          "BGR": "BG", "EST": "EE", "LVA": "LV", "LTU": "LT", "CYP": "CY", "MLT": "MT", "REU": "RE", "GLP": "GP",
          "MTQ": "MQ", "GUF": "GF", "MYT": "YT"}


#: RT11's return reasons → the OMS's; a reason Mirakl adds later is kept on the Mirakl side
#: and counted as "autre" (changed mind) in the OMS
RETURN_REASONS = {
    "RETURN_BROKEN_ITEM": "defect", "RETURN_DEFECTIVE_ITEM": "defect", "RETURN_DEFECTIVE_ON_ARRIVAL": "defect",
    "RETURN_DAMAGED_PACKAGING": "defect", "RETURN_WARRANTY": "defect", "RETURN_COUNTERFEIT_ITEM": "not_as_described",
    "RETURN_INACCURATE_ITEM_DESCRIPTION": "not_as_described", "RETURN_CM_QUALITY": "not_as_described",
    "RETURN_DELIVERED_PRODUCT_DIFFERENT": "wrong_item", "RETURN_DPD_WRONG_COLOR": "wrong_item",
    "RETURN_MISSING_ITEM": "wrong_item", "RETURN_DPD_WRONG_SIZE": "size", "RETURN_PRODUCT_DOES_NOT_FIT": "size",
    "RETURN_PDNT_TOO_BIG": "size", "RETURN_PDNT_TOO_SMALL": "size", "RETURN_CHANGED_MIND": "changed_mind",
    "RETURN_CM_DONT_WANT": "changed_mind", "RETURN_CM_DONT_LIKE": "changed_mind", "RETURN_OTHER": "changed_mind",
}
RETURN_STATE_LABELS = {
    "WAITING_ACCEPTANCE": _("demande à accepter"), "IN_PROGRESS": _("en cours de retour"),
    "REFUSED": _("refusé"), "RECEIVED": _("reçu"), "NO_RECEPTION": _("non reçu"), "CLOSED": _("clôturé"),
    "CANCELED": _("annulé"),
}
#: RT21's rejection reasons, in the merchant's words
REJECTIONS = {
    "RETURN_REJECTION_NOT_ELIGIBLE": _("article non éligible au retour"),
    "RETURN_REJECTION_NOT_NEEDED": _("retour inutile (remboursement sans retour, échange…)"),
    "RETURN_REJECTION_WINDOW_CLOSED": _("délai de retour dépassé"),
}


def return_reason(code: str | None) -> str:
    return RETURN_REASONS.get(code or "", "changed_mind")


def return_state_label(state: str) -> str:
    """In French, as the order history keeps it (pages translate it with ``_()``)."""
    return RETURN_STATE_LABELS.get(state, state)


def rejection_label(code: str) -> str:
    return REJECTIONS.get(code, code)


def state_label(state: str) -> str:
    """The merchant's words for a state; a state Mirakl added later is shown as it comes."""
    return LABELS.get(state, state)


def is_known(state: str) -> bool:
    return state in STATES


def parse_dt(value: str | None) -> datetime | None:
    if not value:
        return None
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _dec(value: Any) -> Decimal:
    return Decimal(str(value)) if value not in (None, "") else Decimal("0")


def _country(code: str | None) -> str:
    code = (code or "").upper()
    return ALPHA3.get(code, code[:2] if len(code) == 2 else code)


def address(raw: dict[str, Any] | None, email: str = "") -> NormalizedAddress:
    if not raw:
        return NormalizedAddress()
    name = " ".join(p for p in (raw.get("firstname"), raw.get("lastname")) if p)
    return NormalizedAddress(name=name, company=raw.get("company") or "", line1=raw.get("street_1") or "",
                             line2=raw.get("street_2") or "", postal_code=raw.get("zip_code") or "",
                             city=raw.get("city") or "", region=raw.get("state") or "",
                             country=_country(raw.get("country_iso_code")), phone=raw.get("phone") or "",
                             email=email)


def _taxes(items: list[dict[str, Any]] | None) -> Decimal:
    return sum((_dec(t.get("amount")) for t in items or []), Decimal("0"))


def normalize(order: dict[str, Any]) -> NormalizedOrder:
    state = order.get("order_state") or ""
    status, payment = STATES.get(state, ("open", "pending"))
    customer = order.get("customer") or {}
    email = order.get("customer_notification_email") or ""
    shipping = address(customer.get("shipping_address"), email)
    billing = address(customer.get("billing_address"), email)
    lines = []
    tax_total = Decimal("0")
    for line in order.get("order_lines") or []:
        tax = _taxes(line.get("taxes"))
        tax_total += tax + _taxes(line.get("shipping_taxes"))
        lines.append(NormalizedLine(sku=line.get("offer_sku") or line.get("product_sku") or "",
                                    quantity=int(line.get("quantity") or 0), unit_price=_dec(line.get("price_unit")),
                                    title=line.get("product_title") or "", external_id=str(line["order_line_id"]),
                                    tax=tax))
    pickup = None
    if order.get("shipping_pudo_id"):
        pickup = NormalizedPickupPoint(id=str(order["shipping_pudo_id"]),
                                       network=order.get("shipping_carrier_code") or order.get("shipping_type_code") or "",
                                       name=order.get("shipping_type_label") or "", address=shipping)
    name = shipping.name or " ".join(p for p in (customer.get("firstname"), customer.get("lastname")) if p)
    shipping_type = (order.get("shipping_type_code") or "").upper()
    return NormalizedOrder(
        external_id=str(order["order_id"]), number=str(order["order_id"]),
        placed_at=parse_dt(order["created_date"]), updated_at=parse_dt(order.get("last_updated_date")),
        currency=order.get("currency_iso_code") or "EUR", lines=lines, total=_dec(order.get("total_price")),
        subtotal=_dec(order.get("price")), shipping_total=_dec(order.get("shipping_price")), tax_total=tax_total,
        status=status, payment_status=payment, customer_email=email or None, customer_name=name,
        shipping_address=shipping, billing_address=billing,
        service_level="express" if "EXPRESS" in shipping_type else "standard",
        pickup_point=pickup, tags=[], raw=order)
