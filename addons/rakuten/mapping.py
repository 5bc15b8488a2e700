"""Pure functions between Rakuten's XML and core's types (no I/O, no session).

Where each fact comes from (``specs/README.md`` has the full list):

* sale and item fields (``purchaseid``, ``purchasedate``, ``deliveryinformation`` with
  ``shippingtype``, ``isfullrsl``, ``purchasebuyerlogin``, ``purchasebuyeremail``,
  ``deliveryaddress`` {civility, lastname, firstname, address1, address2, zipcode, city,
  country, countryalpha2, phonenumber1, phonenumber2}; ``items/item`` {sku, advertid,
  advertpricelisted, itemid, headline, itemstatus, ispreorder, is_fulfilment, isnego, price
  {amount, currency}, isrsl, isbn, ean, paymentstatus}) — the getnewsales answer as decoded by a
  published Rakuten client (a Rust ``Getnewsalesresult`` model found in public code);
  getcurrentsales is assumed to answer the same ``sale`` blocks (low confidence);
* ``purchasedate`` as ``dd/mm/yyyy-hh:mm``, French time — a published client cuts it
  ``[6:10]-[3:5]-[0:2]`` into a date; the time part and the zone are assumed;
* one ``item`` per unit sold, accepted or refused one by one (``acceptsale&itemid=…``) —
  Rakuten's "Accepter ou refuser les ventes" page, marketplaces.md §5;
* the item states: Rakuten's own list could not be read; the values below are assumed
  (low confidence), so an unknown state is kept as said, shown, and never crashes;
* ``transporter_name`` values and "Autre" requiring ``tracking_url`` — marketplaces.md §5
  (settrackingpackageinfos); the list of names is Rakuten's as reproduced by sellers' tools
  (confidence: low — a name Rakuten does not know is sent as "Autre" with the URL);
* the inventory file (``items/item/attributes/advert/attribute{key, value}``, keys
  ``sellerReference`` and ``qty``) and its report (``file`` {status, totallines,
  processedlines, errorlines, successrate}, ``product`` {sku, status, errors/error
  {error_key, error_code, error_text}}) — Rakuten's genericimportfile / genericimportreport
  pages and board3r/rakuten-sdk's ``Report``/``ReportFile``/``ReportProduct`` models; the file
  statuses "Reçu", "En attente", "Import en cours", "Traité", "Annulé" from Rakuten's
  genericimportreport page.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from core.types import NormalizedAddress, NormalizedLine, NormalizedOrder, NormalizedPickupPoint

from .client import child, children, text
from core.i18n import _

PARIS = ZoneInfo("Europe/Paris")

# ----------------------------------------------------------------------------- item states
#: Rakuten's itemstatus → what it means for the OMS
TO_ACCEPT, ACCEPTED, SHIPPED, CANCELLED = "to_accept", "accepted", "shipped", "cancelled"
ITEM_STATES = {
    "REQUESTED": TO_ACCEPT,   # new sale, waiting for the seller's answer
    "REMINDED": TO_ACCEPT,    # the buyer was reminded: still waiting
    "ACCEPTED": ACCEPTED,
    "COMMITTED": ACCEPTED,    # accepted, to ship
    "ON_HOLD": ACCEPTED,      # accepted, Rakuten holds it (payment check)
    "SHIPPED": SHIPPED,
    "RECEIVED": SHIPPED,      # the buyer confirmed receipt
    "CLOSED": SHIPPED,
    "REFUSED": CANCELLED,     # refused by the seller
    "CANCELLED": CANCELLED,
    "CANCELED": CANCELLED,
}
#: a state never goes back (an old getnewsales list after the acceptance, say)
RANK = {TO_ACCEPT: 0, ACCEPTED: 1, SHIPPED: 2, CANCELLED: 3}
STATE_LABELS = {TO_ACCEPT: _("à accepter"), ACCEPTED: _("acceptée"), SHIPPED: _("expédiée"), CANCELLED: _("annulée")}


def meaning(status: str) -> str | None:
    """What an itemstatus means (None: a state the add-on does not know, kept as-is)."""
    return ITEM_STATES.get((status or "").strip().upper())


def newer(stored: str, incoming: str) -> str:
    """The itemstatus to keep: the incoming one unless it would move the item back."""
    a, b = meaning(stored), meaning(incoming)
    if a is None or b is None or not stored:
        return incoming or stored
    return incoming if RANK[b] >= RANK[a] else stored


# ----------------------------------------------------------------------------- sales
@dataclass
class Item:
    itemid: str
    sku: str
    status: str
    title: str = ""
    price: Decimal = Decimal("0")
    currency: str = "EUR"
    advertid: str = ""
    ean: str = ""
    fulfilled_by_rakuten: bool = False


@dataclass
class Sale:
    purchaseid: str
    purchased_at: datetime
    items: list[Item]
    shipping_type: str = ""
    buyer_login: str = ""
    buyer_email: str = ""
    address: NormalizedAddress = field(default_factory=NormalizedAddress)
    pickup: NormalizedPickupPoint | None = None
    fulfilled_by_rakuten: bool = False
    raw: dict = field(default_factory=dict)


def parse_date(value: str) -> datetime:
    """``15/06/2017-14:30`` (French time) → an aware UTC datetime."""
    value = (value or "").strip()
    for fmt in ("%d/%m/%Y-%H:%M:%S", "%d/%m/%Y-%H:%M", "%d/%m/%Y %H:%M", "%d/%m/%Y"):
        try:
            return datetime.strptime(value, fmt).replace(tzinfo=PARIS).astimezone(timezone.utc)
        except ValueError:
            continue
    raise ValueError(f"date Rakuten illisible : {value!r}")


def format_date(when: datetime) -> str:
    """An aware datetime as Rakuten writes dates (French time)."""
    return when.astimezone(PARIS).strftime("%d/%m/%Y-%H:%M")


def money(el: ET.Element | None) -> tuple[Decimal, str]:
    try:
        amount = Decimal(text(el, "amount") or "0")
    except InvalidOperation:
        amount = Decimal("0")
    return amount, (text(el, "currency") or "EUR").upper()[:3]


def _yes(value: str) -> bool:
    return (value or "").strip().upper() in ("Y", "YES", "O", "OUI", "1", "TRUE")


def _address(el: ET.Element | None, email: str) -> NormalizedAddress:
    name = " ".join(p for p in (text(el, "firstname"), text(el, "lastname")) if p)
    return NormalizedAddress(
        name=name, line1=text(el, "address1"), line2=text(el, "address2"), postal_code=text(el, "zipcode"),
        city=text(el, "city"), country=(text(el, "countryalpha2") or "FR").upper()[:2],
        phone=text(el, "phonenumber1") or text(el, "phonenumber2"), email=email)


def _pickup(el: ET.Element | None) -> NormalizedPickupPoint | None:
    point = child(el, "collectionpoint")
    if point is None or not text(point, "id"):
        return None
    network = text(point, "network").lower().replace(" ", "")
    address = NormalizedAddress(name=text(point, "name"), line1=text(point, "address1"),
                                line2=text(point, "address2"), postal_code=text(point, "zipcode"),
                                city=text(point, "city"), country=(text(point, "countryalpha2") or "FR").upper()[:2])
    return NormalizedPickupPoint(id=text(point, "id"), network=network, name=text(point, "name"), address=address)


def parse_sale(el: ET.Element) -> Sale:
    delivery = child(el, "deliveryinformation")
    email = text(delivery, "purchasebuyeremail")
    items = []
    for it in children(child(el, "items"), "item"):
        price, currency = money(child(it, "price"))
        if not price:
            price, currency = money(child(it, "advertpricelisted"))
        items.append(Item(itemid=text(it, "itemid"), sku=text(it, "sku"), status=text(it, "itemstatus"),
                          title=text(it, "headline"), price=price, currency=currency,
                          advertid=text(it, "advertid"), ean=text(it, "ean"),
                          fulfilled_by_rakuten=_yes(text(it, "is_fulfilment")) or _yes(text(it, "isrsl"))))
    return Sale(purchaseid=text(el, "purchaseid"), purchased_at=parse_date(text(el, "purchasedate")), items=items,
                shipping_type=text(delivery, "shippingtype"), buyer_login=text(delivery, "purchasebuyerlogin"),
                buyer_email=email, address=_address(child(delivery, "deliveryaddress"), email),
                pickup=_pickup(delivery), fulfilled_by_rakuten=_yes(text(delivery, "isfullrsl")))


def sales_of(response: ET.Element | None) -> list[Sale]:
    return [parse_sale(s) for s in children(child(response, "sales"), "sale")]


def next_token(response: ET.Element | None) -> str | None:
    return text(response, "nexttoken") or None


def item_status_of(response: ET.Element | None) -> str:
    """The itemstatus a getiteminfos answer gives."""
    return text(response, "item", "itemstatus")


def order_status(statuses: list[str]) -> str:
    """The order's status as the channel says, from its items' states."""
    meanings = [meaning(s) for s in statuses]
    if meanings and all(m == CANCELLED for m in meanings):
        return "cancelled"
    live = [m for m in meanings if m != CANCELLED]
    if live and all(m == SHIPPED for m in live):
        return "shipped"
    return "open"


def service_level(shipping_type: str) -> str:
    low = (shipping_type or "").lower()
    return "express" if "express" in low or "chrono" in low else "standard"


def normalize(sale: Sale, statuses: dict[str, str] | None = None) -> NormalizedOrder:
    """One sale (purchase) → one order; each item, one unit, is a line whose external id is
    the itemid (acceptance, refusal and tracking go item by item). ``statuses`` are the
    states already known for the items (never moved back)."""
    statuses = statuses or {}
    states = {i.itemid: newer(statuses.get(i.itemid, ""), i.status) for i in sale.items}
    live = [i for i in sale.items if meaning(states[i.itemid]) != CANCELLED] or sale.items
    lines = [NormalizedLine(sku=i.sku, quantity=1, unit_price=i.price, title=i.title[:255], external_id=i.itemid)
             for i in live]
    subtotal = sum((i.price for i in live), Decimal("0"))
    currency = next((i.currency for i in sale.items), "EUR")
    marketplace = sale.fulfilled_by_rakuten or (bool(live) and all(i.fulfilled_by_rakuten for i in live))
    tags = ["rakuten"] + (["pickup"] if sale.pickup else [])
    return NormalizedOrder(
        external_id=sale.purchaseid, number=f"RK-{sale.purchaseid}", placed_at=sale.purchased_at,
        currency=currency, lines=lines, total=subtotal, subtotal=subtotal,
        status=order_status(list(states.values())), customer_email=sale.buyer_email or None,
        customer_name=sale.address.name or sale.buyer_login, shipping_address=sale.address,
        billing_address=sale.address, payment_status="paid", service_level=service_level(sale.shipping_type),
        fulfillment_channel="marketplace" if marketplace else "merchant", tags=tags, pickup_point=sale.pickup,
        raw={"items": states})


# ----------------------------------------------------------------------------- carriers
#: transporter_name values Rakuten lists for settrackingpackageinfos (confidence: low)
TRANSPORTERS = ("Colissimo", "Chronopost", "Mondial Relay", "Relais Colis", "Colis Privé", "DHL", "UPS", "DPD",
                "GLS", "TNT", "Fedex", "La Poste", "Kuehne Nagel", "Geodis", "Autre")
#: words found in an OMS carrier or service name → Rakuten's transporter name
_KEYWORDS = (("chrono", "Chronopost"), ("colissimo", "Colissimo"), ("mondial", "Mondial Relay"),
             ("relais colis", "Relais Colis"), ("colis priv", "Colis Privé"), ("dhl", "DHL"), ("ups", "UPS"),
             ("dpd", "DPD"), ("gls", "GLS"), ("tnt", "TNT"), ("fedex", "Fedex"), ("lettre suivie", "La Poste"),
             ("la poste", "La Poste"), ("geodis", "Geodis"), ("kuehne", "Kuehne Nagel"))


def transporter(carrier: str | None, service: str | None) -> str:
    """Rakuten's transporter name for an OMS shipment ("Autre" when none fits)."""
    words = f"{service or ''} {carrier or ''}".lower()
    for key, name in _KEYWORDS:
        if key in words:
            return name
    return "Autre"


# ----------------------------------------------------------------------------- stock
def inventory_file(figures: dict[str, int]) -> bytes:
    """The genericimportfile XML updating each SKU's quantity (advert attributes only: the
    adverts exist, only their stock changes)."""
    root = ET.Element("items")
    for sku, qty in sorted(figures.items()):
        advert = ET.SubElement(ET.SubElement(ET.SubElement(root, "item"), "attributes"), "advert")
        for key, value in (("sellerReference", sku), ("qty", str(max(int(qty), 0)))):
            attribute = ET.SubElement(advert, "attribute")
            ET.SubElement(attribute, "key").text = key
            ET.SubElement(attribute, "value").text = value
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def import_id(response: ET.Element | None) -> str:
    return text(response, "importid")


#: genericimportreport file statuses
REPORT_RUNNING = ("Reçu", "En attente", "Import en cours", "M.à.j. en cours")
REPORT_DONE = ("Traité",)
REPORT_FAILED = ("Annulé", "Aucune ligne n'a été chargée")


@dataclass
class Report:
    status: str
    state: str  # waiting | done | failed
    total: int = 0
    processed: int = 0
    errors_count: int = 0
    ok: set[str] = field(default_factory=set)
    errors: list[dict[str, str]] = field(default_factory=list)
    next_token: str | None = None


def _int(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        return 0


def parse_report(response: ET.Element | None) -> Report:
    file = child(response, "file")
    status = text(file, "status")
    state = "done" if status in REPORT_DONE else "failed" if status in REPORT_FAILED else "waiting"
    report = Report(status=status, state=state, total=_int(text(file, "totallines")),
                    processed=_int(text(file, "processedlines")), errors_count=_int(text(file, "errorlines")),
                    next_token=next_token(response))
    for product in children(response, "product"):
        sku = text(product, "sku")
        errs = children(child(product, "errors"), "error")
        if errs:
            for err in errs:
                report.errors.append({"sku": sku, "code": text(err, "error_code"), "key": text(err, "error_key"),
                                      "message": text(err, "error_text")})
        else:
            report.ok.add(sku)
    return report


#: report error codes meaning Rakuten has no advert for the SKU
UNKNOWN_ADVERT_CODES = ("ADVERT_NOT_FOUND", "UNKNOWN_SKU", "NO_ADVERT")


# ----------------------------------------------------------------------------- catalog
@dataclass
class Advert:
    sku: str
    aid: str = ""
    ean: str = ""
    title: str = ""
    quantity: int | None = None
    price: Decimal | None = None


def adverts_of(response: ET.Element | None) -> list[Advert]:
    """The adverts of an inventory export page (``advertlist/advert``; element names of low
    confidence, see ``specs/rakuten-ws.xsd``)."""
    out = []
    for el in children(child(response, "advertlist"), "advert"):
        qty = text(el, "quantity")
        price, _currency = money(child(el, "price"))
        out.append(Advert(sku=text(el, "sku"), aid=text(el, "aid"), ean=text(el, "ean"), title=text(el, "headline"),
                          quantity=int(qty) if qty.isdigit() else None, price=price if child(el, "price") is not None
                          else None))
    return out
