"""PrestaShop's webservice payloads in core's terms and back: pure functions, no I/O.

Sources: PrestaShop developer documentation, webservice reference (``orders``,
``order_histories``, ``order_carriers``, ``order_states``, ``stock_availables``, ``addresses``,
``customers``, ``order_slip``) for 1.7, 8 and 9; see ``specs/README.md``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from core.types import NormalizedAddress, NormalizedLine, NormalizedOrder

CARRIER_NAMES = {"colissimo": "Colissimo", "chronopost": "Chronopost", "dhl": "DHL", "dhl_express": "DHL Express",
                 "ups": "UPS", "dpd": "DPD", "gls": "GLS", "mondialrelay": "Mondial Relay", "manual": "Transporteur"}


def money(value: Any) -> Decimal:
    try:
        return Decimal(str(value if value not in (None, "") else "0")).quantize(Decimal("0.01"))
    except InvalidOperation:
        return Decimal("0.00")


def lang(value: Any, id_lang: str = "1") -> str:
    """A translated field: ``[{"id": "1", "value": "…"}]`` (JSON) or ``{"1": "…"}`` (XML)."""
    if isinstance(value, list):
        for item in value:
            if str(item.get("id")) == id_lang:
                return str(item.get("value") or "")
        return str(value[0].get("value") or "") if value else ""
    if isinstance(value, dict):
        return str(value.get(id_lang) or next(iter(value.values()), ""))
    return str(value or "")


def shop_time(value: str | None, tz: str) -> datetime | None:
    """A webservice date (``2026-11-02 10:00:00``, the shop's own time zone) as aware UTC."""
    if not value or value.startswith("0000"):
        return None
    return datetime.fromisoformat(value).replace(tzinfo=ZoneInfo(tz)).astimezone(timezone.utc)


def shop_param(when: datetime, tz: str) -> str:
    """A date for ``filter[date_upd]`` in the shop's time zone (with ``date=1``)."""
    return when.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M:%S")


def state_status(state: dict[str, Any] | None) -> tuple[str, str]:
    """An order state (its flags and mail template, the same in every language) → (channel
    status, payment status). Unknown states added by modules fall back on their flags."""
    if not state:
        return "pending", "pending"
    template = lang(state.get("template")).lower()
    flag = lambda name: str(state.get(name, "0")) == "1"  # noqa: E731
    if "order_canceled" in template or "cancel" in template:
        return "cancelled", "voided"
    if template == "refund":
        return "cancelled", "refunded"
    if template == "payment_error":
        return "pending", "voided"
    if flag("shipped") or flag("delivery") and template in ("shipped", ""):
        return "shipped", "paid" if flag("paid") or flag("logable") else "pending"
    if flag("paid") or flag("logable"):
        return "open", "paid"
    return "pending", "pending"


def find_state(states: dict[str, dict[str, Any]], template: str) -> str | None:
    """The id of the state whose mail template is ``template`` (``shipped``, ``order_canceled``)."""
    for sid, state in sorted(states.items(), key=lambda kv: int(kv[0])):
        if lang(state.get("template")).lower() == template:
            return sid
    return None


def _address(a: dict[str, Any] | None, countries: dict[str, str], email: str = "") -> NormalizedAddress:
    a = a or {}
    return NormalizedAddress(
        name=" ".join(p for p in (a.get("firstname", ""), a.get("lastname", "")) if p), company=a.get("company", "") or "",
        line1=a.get("address1", "") or "", line2=a.get("address2", "") or "", postal_code=a.get("postcode", "") or "",
        city=a.get("city", "") or "", country=countries.get(str(a.get("id_country", "")), "").upper(),
        phone=a.get("phone_mobile") or a.get("phone") or "", email=email)


def normalize(order: dict[str, Any], *, customers: dict[str, dict[str, Any]], addresses: dict[str, dict[str, Any]],
              countries: dict[str, str], currencies: dict[str, str], states: dict[str, dict[str, Any]],
              tz: str) -> NormalizedOrder:
    customer = customers.get(str(order.get("id_customer")), {})
    email = customer.get("email") or ""
    status, payment = state_status(states.get(str(order.get("current_state"))))
    rows = ((order.get("associations") or {}).get("order_rows")) or []
    lines = []
    for row in rows:
        qty = int(row.get("product_quantity") or 0)
        if qty <= 0:
            continue
        sku = (row.get("product_reference") or "").strip() or (
            f"prestashop:{row.get('product_id')}:{row.get('product_attribute_id') or 0}")
        incl, excl = money(row.get("unit_price_tax_incl")), money(row.get("unit_price_tax_excl"))
        lines.append(NormalizedLine(sku=sku, quantity=qty, unit_price=incl, title=row.get("product_name", "") or "",
                                    external_id=str(row.get("id")), tax=(incl - excl) * qty))
    shipping = _address(addresses.get(str(order.get("id_address_delivery"))), countries, email)
    total, excl_total = money(order.get("total_paid_tax_incl") or order.get("total_paid")), \
        money(order.get("total_paid_tax_excl"))
    return NormalizedOrder(
        external_id=str(order["id"]), number=str(order.get("reference") or order["id"]),
        placed_at=shop_time(order.get("date_add"), tz) or datetime.now(timezone.utc),
        updated_at=shop_time(order.get("date_upd"), tz), currency=currencies.get(str(order.get("id_currency")), "EUR"),
        lines=lines, total=total, subtotal=money(order.get("total_products_wt")),
        shipping_total=money(order.get("total_shipping_tax_incl") or order.get("total_shipping")),
        tax_total=max(total - excl_total, Decimal("0")) if excl_total else Decimal("0"),
        discount_total=money(order.get("total_discounts")), status=status, payment_status=payment,
        customer_email=email or None, customer_name=" ".join(
            p for p in (customer.get("firstname", ""), customer.get("lastname", "")) if p) or shipping.name,
        shipping_address=shipping,
        billing_address=_address(addresses.get(str(order.get("id_address_invoice"))), countries, email),
        tags=[], raw=order)


def order_carrier_update(current: dict[str, Any], number: str) -> dict[str, Any]:
    """The full order_carrier back with its tracking number (the webservice's PUT replaces the
    whole object: every field sent again)."""
    fields = {k: v for k, v in current.items() if k not in ("associations",)}
    fields["tracking_number"] = number
    return fields


def stock_update(current: dict[str, Any], quantity: int, id_shop: int) -> dict[str, Any]:
    """The full stock_available back with the new quantity and ``id_shop`` always set (without
    it PrestaShop writes 0 and breaks the stock, as its maintainers note)."""
    fields = {k: v for k, v in current.items() if k not in ("associations",)}
    fields.update(quantity=max(0, int(quantity)), id_shop=id_shop)
    return fields


# ----------------------------------------------------------------------------- credit slips
@dataclass(frozen=True)
class Slip:
    """A credit slip ("avoir") in core's terms: the units refunded per order detail id and
    what the customer gets back (tax included), goods and shipping apart."""

    slip_id: int
    id_order: int
    units: list[tuple[str, int]] = field(default_factory=list)
    products: Decimal = Decimal("0.00")
    shipping: Decimal = Decimal("0.00")

    @property
    def total(self) -> Decimal:
        return self.products + self.shipping


def slip(data: dict[str, Any]) -> Slip:
    """An ``order_slip`` of the webservice (PrestaShop's classes/order/OrderSlip.php:
    ``$definition`` fields ``id_order``, ``total_products_tax_incl``, ``total_shipping_tax_incl``,
    ``amount``, ``shipping_cost_amount``, ``partial``; ``$webserviceParameters`` association
    ``order_slip_details`` with ``id_order_detail``, ``product_quantity``, ``amount_tax_incl``,
    read by ``getWsOrderSlipDetails``).

    The refund is ``total_products_tax_incl`` + ``total_shipping_tax_incl``, as PrestaShop
    1.7.7+ writes them (src/Adapter/Order/Refund/OrderSlipCreator.php, ``OrderSlip::create``).
    An older partial refund (``partial`` = 1, ``OrderSlip::createPartialOrderSlip``) leaves
    those totals at 0 and keeps the goods' amount in ``amount`` (the details'
    ``amount_tax_incl``) and the shipping in ``shipping_cost_amount``. A detail with
    ``product_quantity`` 0 refunds money on a line without its goods. ``id_order_detail`` is
    the id of the order's ``order_rows`` (``Order::getWsOrderRows`` selects
    ``id_order_detail as id``)."""
    details = ((data.get("associations") or {}).get("order_slip_details")) or []
    if isinstance(details, dict):  # one detail, read from XML
        details = [details]
    units: list[tuple[str, int]] = []
    for d in details:
        try:
            qty = int(float(d.get("product_quantity") or 0))
        except (TypeError, ValueError):
            qty = 0
        if d.get("id_order_detail") not in (None, "", "0") and qty > 0:
            units.append((str(d["id_order_detail"]), qty))
    products, shipping = money(data.get("total_products_tax_incl")), money(data.get("total_shipping_tax_incl"))
    if not products and not shipping and str(data.get("partial") or "0") == "1":
        products = money(data.get("amount")) or sum((money(d.get("amount_tax_incl")) for d in details),
                                                    Decimal("0.00"))
        shipping = money(data.get("shipping_cost_amount"))
    return Slip(slip_id=int(data["id"]), id_order=int(data.get("id_order") or 0), units=units,
                products=max(products, Decimal("0.00")), shipping=max(shipping, Decimal("0.00")))
