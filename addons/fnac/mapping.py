"""Fnac Darty's payloads in core's terms and back: pure functions, no I/O, no session.

Sources: the official XSDs (``shared/specs/fnac``: ``OrdersQueryService.xsd`` for an order,
``state.xsd`` for states, shipping methods and refund reasons, ``OrdersUpdateService.xsd``,
``OffersUpdateService.xsd``, ``BatchStatusService.xsd``, ``CarriersQueryService.xsd``).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any
from xml.etree import ElementTree as ET

from core.types import NormalizedAddress, NormalizedLine, NormalizedOrder, NormalizedPickupPoint

from . import wire
from .wire import FAILED, Problem, element

CURRENCY = "EUR"  # the answers carry no currency: Fnac Darty's marketplaces sell in euros

# ----------------------------------------------------------------------------- states
#: order states (``state.xsd`` ``order_state``) → core's channel status
ORDER_STATES = {
    "Created": "open",  # waiting for the seller's acceptance
    "Accepted": "open",
    "ToShip": "open",
    "Shipped": "shipped",
    "NotReceived": "shipped",
    "Received": "shipped",
    "Refused": "cancelled",  # refused by the seller
    "Cancelled": "cancelled",  # cancelled by the buyer or Fnac Darty
    "Refunded": "cancelled",  # refunded before it left (see jobs: after it left, it stays shipped)
    "Error": "open",
}
#: payment: Fnac Darty debits the buyer once the seller accepts (``DebitedAt``)
PAYMENT = {"Created": "authorized", "Refused": "voided", "Cancelled": "voided", "Refunded": "refunded",
           "Error": "pending"}
#: how far an order has gone: an older snapshot read after a newer one changes nothing
RANK = {"Created": 0, "Error": 0, "Accepted": 1, "ToShip": 2, "Shipped": 3, "NotReceived": 4, "Received": 5,
        "Refused": 6, "Cancelled": 6, "Refunded": 7}
#: states in which the seller still has to accept or refuse
TO_ACCEPT = "ToAccept"
#: order states in which lines can be confirmed as shipped
SHIPPABLE = {"Accepted", "ToShip"}
#: final states: nothing more to send
CLOSED = {"Refused", "Cancelled", "Refunded"}

#: ``shipping_method`` (``state.xsd``): 20 standard, 21 tracked, 22 registered, 50 quick,
#: 51-54 bulky goods, 55 relay point
SERVICE_LEVELS = {"50": "express"}
RELAY_METHOD = "55"
SHIPPING_METHOD_NAMES = {"20": "Standard", "21": "Suivi", "22": "Recommandé", "50": "Rapide", "51": "Volumineux 1",
                         "52": "Volumineux 2", "53": "Volumineux 3", "54": "Volumineux 4", "55": "Point relais"}

#: ``refund_reason`` (``state.xsd``) the OMS sends when the merchant cancels an accepted order
REFUND_REASONS = ("other", "counterfeit", "retraction", "cancelled_client", "unmatch_article", "damaged_article",
                  "unreceived_article", "returned_article", "no_stock", "shipping_impossible")
DEFAULT_REFUND_REASON = "no_stock"

COUNTRIES = {"FRA": "FR", "FRANCE": "FR", "BEL": "BE", "BELGIQUE": "BE", "BELGIUM": "BE", "ESP": "ES", "ESPAGNE": "ES",
             "PRT": "PT", "PORTUGAL": "PT", "CHE": "CH", "SUISSE": "CH", "LUX": "LU", "LUXEMBOURG": "LU",
             "MCO": "MC", "MONACO": "MC"}


def _decimal(value: str, default: str = "0") -> Decimal:
    try:
        return Decimal(value or default)
    except InvalidOperation:
        return Decimal(default)


def _int(value: str, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def country_code(value: str) -> str:
    v = (value or "").strip().upper()
    if len(v) == 2:
        return v
    return COUNTRIES.get(v, v[:2])


# ----------------------------------------------------------------------------- orders
@dataclass
class FnacLine:
    detail_id: str
    state: str
    sku: str
    quantity: int
    price: Decimal
    fees: Decimal
    shipping_price: Decimal
    shipping_method: str
    tracking_number: str
    title: str


@dataclass
class FnacOrderFacts:
    """What the add-on keeps of an order besides core's: its Fnac Darty state, its lines'
    states (the ids ``orders_update`` needs), the commission and the shipping method."""

    order_id: str
    state: str
    lines: list[FnacLine] = field(default_factory=list)
    fees: Decimal = Decimal("0")

    @property
    def line_states(self) -> dict[str, str]:
        return {ln.detail_id: ln.state for ln in self.lines}

    @property
    def rank(self) -> int:
        return RANK.get(self.state, 0)

    @property
    def to_accept(self) -> list[FnacLine]:
        return [ln for ln in self.lines if ln.state == TO_ACCEPT]


def _address(el: ET.Element | None, email: str = "") -> NormalizedAddress:
    if el is None:
        return NormalizedAddress(email=email)
    t = lambda p: wire.text(el, p)  # noqa: E731
    name = " ".join(x for x in (t("firstname"), t("lastname")) if x)
    line2 = ", ".join(x for x in (t("address2"), t("address3")) if x)
    return NormalizedAddress(name=name, company=t("company"), line1=t("address1"), line2=line2,
                             postal_code=t("zipcode"), city=t("city"), region=t("state"),
                             country=country_code(t("country")), phone=t("mobile") or t("phone"), email=email)


def read_order(el: ET.Element) -> tuple[NormalizedOrder, FnacOrderFacts]:
    """One ``<order>`` of an ``orders_query_response`` in core's terms, and its facts."""
    t = lambda p: wire.text(el, p)  # noqa: E731
    order_id, state = t("order_id"), t("state")
    lines: list[FnacLine] = []
    for d in el.findall("order_detail"):
        d_t = lambda p: wire.text(d, p)  # noqa: E731
        lines.append(FnacLine(detail_id=d_t("order_detail_id"), state=d_t("state"), sku=d_t("offer_seller_id"),
                              quantity=_int(d_t("quantity"), 1), price=_decimal(d_t("price")),
                              fees=_decimal(d_t("fees")), shipping_price=_decimal(d_t("shipping_price")),
                              shipping_method=d_t("shipping_method"), tracking_number=d_t("tracking_number"),
                              title=d_t("product_name")))
    email = t("client_email")
    shipping = _address(el.find("shipping_address"), email)
    billing = _address(el.find("billing_address"), email)
    methods = {ln.shipping_method for ln in lines if ln.shipping_method}
    method = sorted(methods)[0] if methods else ""
    pickup = None
    if RELAY_METHOD in methods:
        ref = wire.text(el.find("shipping_address"), "fnac_shop_ref")
        pickup = NormalizedPickupPoint(id=ref or f"{shipping.postal_code}-{shipping.company or shipping.line1}"[:64],
                                       network="fnac", name=shipping.company or shipping.line1, address=shipping)
    subtotal = sum((ln.price * ln.quantity for ln in lines), Decimal("0"))
    shipping_total = sum((ln.shipping_price for ln in lines), Decimal("0"))
    vat = _decimal(t("vat_rate"))
    total = subtotal + shipping_total
    tax = (total - total / (1 + vat / 100)).quantize(Decimal("0.01")) if vat > 0 else Decimal("0")
    tags = ["Fnac Darty", f"fnac:{state}"]
    if method:
        tags.append(f"Livraison {SHIPPING_METHOD_NAMES.get(method, method)}")
    normalized = NormalizedOrder(
        external_id=order_id, number=order_id, currency=CURRENCY,
        placed_at=wire.parse_datetime(t("created_at")) or wire.parse_datetime("2000-01-01T00:00:00+00:00"),
        updated_at=None, status=ORDER_STATES.get(state, "open"), customer_email=email or None,
        customer_name=" ".join(x for x in (t("client_firstname"), t("client_lastname")) if x),
        shipping_address=shipping, billing_address=billing,
        lines=[NormalizedLine(sku=ln.sku, quantity=ln.quantity, unit_price=ln.price, title=ln.title,
                              external_id=ln.detail_id) for ln in lines],
        total=total, subtotal=subtotal, shipping_total=shipping_total, tax_total=tax,
        payment_status=PAYMENT.get(state, "paid"), service_level=SERVICE_LEVELS.get(method, "standard"),
        tags=tags, pickup_point=pickup, raw={"state": state})
    facts = FnacOrderFacts(order_id=order_id, state=state, lines=lines,
                           fees=sum((ln.fees for ln in lines), Decimal("0")))
    return normalized, facts


@dataclass
class Page:
    number: int
    total_pages: int
    total: int
    items: list[ET.Element]


def read_page(root: ET.Element, item: str) -> Page:
    """Paging of ``orders_query_response`` / ``offers_query_response``."""
    return Page(_int(wire.text(root, "page"), 1), _int(wire.text(root, "total_paging"), 1),
                _int(wire.text(root, "nb_total_result"), 0), root.findall(item))


# ----------------------------------------------------------------------------- orders_update
def accept_order(order_id: str, decisions: dict[str, bool]) -> ET.Element:
    """``accept_order``, line by line: ``Accepted`` or ``Refused`` per ``order_detail_id``."""
    return element("order", order_id=order_id, action="accept_order", children=[
        element("order_detail", children=[element("order_detail_id", detail_id),
                                          element("action", "Accepted" if ok else "Refused")])
        for detail_id, ok in decisions.items()])


def confirm_to_send(order_id: str, detail_ids: list[str], tracking_number: str, carrier_name: str) -> ET.Element:
    """``confirm_to_send``: lines ``Shipped`` with the tracking number and a carrier name of
    ``carriers_query`` (``tracking_number`` ≤ 32 and ``tracking_company`` ≤ 100 characters)."""
    def fields() -> list[ET.Element]:
        out = []
        if tracking_number:
            out.append(element("tracking_number", tracking_number[:32]))
        if carrier_name:
            out.append(element("tracking_company", carrier_name[:100]))
        return out

    return element("order", order_id=order_id, action="confirm_to_send", children=[
        element("order_detail", children=[element("order_detail_id", d), element("action", "Shipped"), *fields()])
        for d in detail_ids])


def refund_order(order_id: str, detail_ids: list[str], reason: str = DEFAULT_REFUND_REASON) -> ET.Element:
    """``refund_order``: lines ``Refunded`` with a ``refund_reason`` of the XSD's list."""
    reason = reason if reason in REFUND_REASONS else DEFAULT_REFUND_REASON
    return element("order", order_id=order_id, action="refund_order", children=[
        element("order_detail", children=[element("order_detail_id", d), element("action", "Refunded"),
                                          element("refund_reason", reason)])
        for d in detail_ids])


@dataclass
class LineResult:
    detail_id: str
    ok: bool
    state: str
    problems: list[Problem]


@dataclass
class OrderResult:
    """What ``orders_update_response`` says of one order: its status, new state, and each line's."""

    order_id: str
    ok: bool
    state: str
    problems: list[Problem]
    lines: list[LineResult]

    @property
    def failed_lines(self) -> list[LineResult]:
        return [ln for ln in self.lines if not ln.ok]

    def sentence(self) -> str:
        parts = [str(p) for p in self.problems]
        parts += [f"ligne {ln.detail_id} : {'; '.join(str(p) for p in ln.problems) or 'refusée'}"
                  for ln in self.failed_lines]
        return " ; ".join(parts)


def read_update(root: ET.Element) -> dict[str, OrderResult]:
    """Per order of an ``orders_update_response``: a 200 whose order or line says ERROR is a failure
    of that order or line only, the others went through."""
    out = {}
    for o in root.findall("order"):
        lines = [LineResult(wire.text(d, "order_detail_id"), wire.text(d, "status").upper() not in FAILED,
                            wire.text(d, "state"), wire.problems(d)) for d in o.findall("order_detail")]
        status = wire.text(o, "status").upper()
        out[wire.text(o, "order_id")] = OrderResult(wire.text(o, "order_id"), status not in FAILED,
                                                    wire.text(o, "state"), wire.problems(o), lines)
    return out


# ----------------------------------------------------------------------------- carriers
@dataclass(frozen=True)
class Carrier:
    code: str
    name: str


def read_carriers(root: ET.Element) -> list[Carrier]:
    return [Carrier(c.get("code") or "", wire.text(c, "name")) for c in root.findall("carrier")]


def _words(value: str) -> str:
    value = unicodedata.normalize("NFKD", value or "").encode("ascii", "ignore").decode().lower()
    return " " + re.sub(r"[^a-z0-9]+", " ", value).strip() + " "


#: label brokers and the manual carrier: the real carrier is in the service's name
BROKERS = {"manual", "sendcloud", "boxtal", "packlink", ""}


def carrier_name(carrier: str, service: str | None, carriers: list[Carrier]) -> tuple[str, bool]:
    """The ``tracking_company`` for an OMS shipment: the name of the Fnac Darty carrier whose
    name or code appears in the OMS carrier (or, for a label broker, its service), and True;
    otherwise the OMS carrier's own name as free text, and False (Fnac Darty then shows no
    tracking link to the buyer)."""
    words = _words(f"{'' if carrier.lower() in BROKERS else carrier} {service or ''}")
    best: Carrier | None = None
    for c in carriers:
        for probe in {_words(c.name).strip(), _words(c.code.replace("_", " ")).strip()}:
            if probe and f" {probe} " in words and (best is None or len(probe) > len(_words(best.name).strip())):
                best = c
    if best is not None:
        return best.name, True
    fallback = (service if carrier.lower() in BROKERS and service else carrier) or "Transporteur"
    return fallback[:100], False


# ----------------------------------------------------------------------------- offers
MAX_QUANTITY = 9999  # quantity_0_9999 (common.xsd)
MIN_PRICE, MAX_PRICE = Decimal("0.90"), Decimal("20000")  # price_090_20000 (common.xsd)


def offer_update(sku: str, quantity: int, price: Decimal | None = None) -> ET.Element:
    """One ``<offer>`` of ``offers_update``: the seller SKU, the quantity capped to the XSD's
    0–9 999, and the price when it lies in its 0.90–20 000 range."""
    children = [element("offer_reference", sku, type="SellerSku"),
                element("quantity", max(0, min(MAX_QUANTITY, int(quantity))))]
    if price is not None and MIN_PRICE <= price <= MAX_PRICE:
        children.insert(1, element("price", f"{price.quantize(Decimal('0.01'))}"))
    return element("offer", children=children)


@dataclass
class OfferResult:
    sku: str
    ok: bool
    problems: list[Problem]


@dataclass
class BatchResult:
    status: str
    done: bool
    problems: list[Problem]
    offers: dict[str, OfferResult]


def read_batch(root: ET.Element) -> BatchResult:
    """``batch_status_response``: ACTIVE/RUNNING while Fnac Darty works, then each offer's status."""
    status = (root.get("status") or "").upper()
    offers = {}
    for o in root.findall("offer"):
        sku = wire.text(o, "offer_seller_id")
        offers[sku] = OfferResult(sku, (o.get("status") or "").upper() not in FAILED, wire.problems(o))
    return BatchResult(status, status not in wire.IN_PROGRESS, wire.problems(root), offers)


@dataclass
class RemoteOffer:
    sku: str
    title: str
    price: Decimal
    quantity: int
    offer_fnac_id: str
    product_fnac_id: str
    fee: Decimal


def read_offer(el: ET.Element) -> RemoteOffer:
    t = lambda p: wire.text(el, p)  # noqa: E731
    return RemoteOffer(t("offer_seller_id"), t("product_name"), _decimal(t("price")), _int(t("quantity")),
                       t("offer_fnac_id"), t("product_fnac_id"), _decimal(t("fee_including_all_taxes")))


def problems_text(problems: list[Problem]) -> str:
    return " ; ".join(str(p) for p in problems)


def as_dict(facts: FnacOrderFacts) -> dict[str, Any]:
    return {ln.detail_id: {"state": ln.state, "sku": ln.sku, "quantity": ln.quantity} for ln in facts.lines}
