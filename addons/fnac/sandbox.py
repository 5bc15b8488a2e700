"""Emulator of the Fnac Darty Marketplace API (XML "mp-dialog"), for the tests and the demo.

It speaks the wire format of the official XSDs (``shared/specs/fnac``; the tests validate every
request it receives and every answer it gives against them): ``POST /<service>`` (also under
``/api.php/<service>``) with the service as root element; ``auth`` → token with its validity;
``orders_query`` with date filters, states, order ids, ``results_count`` and paging;
``orders_update`` (``accept_order``, ``confirm_to_send``, ``refund_order``, ``update``) line
by line; ``offers_update`` → ``batch_id``, processed after ``batch_delay`` seconds and read
with ``batch_status`` (``RUNNING``, then each offer's status); ``offers_query``;
``carriers_query``.

Errors come the way Fnac Darty sends them: HTTP 200 with ``status="ERROR"`` (or ``FATAL``) and
``<error code=… severity=…>`` elements, for the whole request, one order, one line or one
offer. Fnac Darty does not publish its error codes: the codes here (``ERR_…``) are the
emulator's own. Faults on demand come from core's emulator kit (429, 500, timeouts).

Demo (``make_app()``): a Fnac shop and a Darty shop under one partner id, with the demo
catalogue on offer; the Fnac shop's buyers place a burst of three orders at start-up, then at
most one every 20 minutes on the emulator's clock, each waiting for the seller's acceptance.
"""
from __future__ import annotations

import random
import string
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any
from xml.etree import ElementTree as ET

from flask import Flask, Response, jsonify, request

from core.connectors.emulator import CONTROL_PREFIX, EmulatorKit, SystemClock

from . import wire
from .wire import element

DEMO_PARTNER_ID = "6f1d2c3b-4a59-4e8f-9b7a-0c1d2e3f4a5b"
DEMO_FNAC_SHOP_ID = "a3c5e7f9-1b2d-4f6a-8c0e-2a4b6c8d0e1f"
DEMO_FNAC_KEY = "b8e1f0d2-7c3a-4e5b-9d6f-1a2b3c4d5e6f"
DEMO_DARTY_SHOP_ID = "d4f6a8b0-2c4e-4a6b-8d0f-3b5c7d9e1f2a"
DEMO_DARTY_KEY = "c9f2a1e3-8d4b-4f6c-8e7a-2b3c4d5e6f7a"

SERVICES = ("auth", "orders_query", "orders_update", "offers_update", "offers_query", "batch_status",
            "carriers_query")
#: the carriers ``carriers_query`` lists (``tracking_company`` takes their names)
CARRIERS = [("COLISSIMO", "Colissimo"), ("CHRONOPOST", "Chronopost"), ("LA_POSTE", "La Poste"),
            ("MONDIAL_RELAY", "Mondial Relay"), ("RELAIS_COLIS", "Relais Colis"), ("COLIS_PRIVE", "Colis Privé"),
            ("DPD", "DPD"), ("GLS", "GLS"), ("UPS", "UPS"), ("DHL", "DHL"), ("TNT", "TNT"), ("FEDEX", "FedEx"),
            ("GEODIS", "Geodis"), ("AUTRE", "Autre transporteur")]
DEMO_INTERVAL = 20 * 60  # one demo order every 20 minutes at most
DEMO_BURST = 3
FIRST_NAMES = ("Julie", "Thomas", "Emma", "Lucas", "Chloé", "Nathan", "Manon", "Hugo", "Inès", "Louis")
LAST_NAMES = ("Moreau", "Laurent", "Girard", "Roux", "Fournier", "Faure", "Mercier", "Blanc", "Garnier")
CITIES = (("Lyon", "69003"), ("Bordeaux", "33000"), ("Lille", "59000"), ("Nantes", "44000"), ("Rennes", "35000"))
FINAL_LINE = {"Refused", "Cancelled", "Refunded"}
SENT_LINE = {"Shipped", "Received", "NotReceived"}


def settings_for(base_url: str) -> dict[str, Any]:
    """Settings pointing the add-on at an emulator served at ``base_url`` (the demo's Fnac shop)."""
    return {"api_base_url": base_url, "partner_id": DEMO_PARTNER_ID, "shop_id": DEMO_FNAC_SHOP_ID,
            "key": DEMO_FNAC_KEY, "brand": "fnac"}


def darty_settings_for(base_url: str) -> dict[str, Any]:
    return {"api_base_url": base_url, "partner_id": DEMO_PARTNER_ID, "shop_id": DEMO_DARTY_SHOP_ID,
            "key": DEMO_DARTY_KEY, "brand": "darty"}


def error_body(status: int) -> str:
    return {429: "Too Many Requests", 504: "Gateway Timeout"}.get(status, "Internal Server Error")


@dataclass
class Account:
    partner_id: str
    shop_id: str
    key: str
    name: str
    prefix: str  # first character of its order numbers


@dataclass
class Line:
    detail_id: int
    sku: str
    title: str
    quantity: int
    price: Decimal
    fees: Decimal
    shipping_price: Decimal
    state: str = "ToAccept"
    tracking_number: str = ""
    tracking_company: str = ""
    refund_reason: str = ""


@dataclass
class Order:
    order_id: str
    shop_id: str
    first: str
    last: str
    email: str
    address: dict[str, str]
    lines: list[Line]
    created_at: float
    shipping_method: str = "21"
    state: str = "Created"
    updated_at: float = 0.0
    stamps: dict[str, float] = field(default_factory=dict)  # AcceptedAt, ShippedAt... -> when
    client_id: str = field(default_factory=lambda: str(uuid.uuid4()))


def _derive(lines: list[Line]) -> str:
    states = {ln.state for ln in lines}
    live = states - FINAL_LINE
    if not live:
        return "Refunded" if "Refunded" in states else "Cancelled" if "Cancelled" in states else "Refused"
    if "ToAccept" in live:
        return "Created"
    if live <= SENT_LINE:
        return "Received" if live == {"Received"} else "Shipped"
    return "Accepted" if "Accepted" in live else "ToShip"


class FnacEmulator:
    """The emulator's state and its Flask app (``.app``)."""

    def __init__(self, *, clock: Any = None, token_lifetime: float = 3600.0, batch_delay: float = 30.0,
                 debit_delay: float = 60.0, demo: bool = False, seed: int | None = None) -> None:
        self.clock = clock or SystemClock()
        self.token_lifetime = token_lifetime
        self.batch_delay = batch_delay
        self.debit_delay = debit_delay
        self.rng = random.Random(seed)
        self.lock = threading.RLock()
        self.accounts: dict[str, Account] = {}
        self.tokens: dict[str, tuple[str, float]] = {}
        self.orders: dict[str, Order] = {}
        self.offers: dict[str, dict[str, dict[str, Any]]] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self.updates: list[tuple[str, str, str, list[dict[str, str]]]] = []  # shop, order, action, lines
        self.offer_updates: list[tuple[str, list[dict[str, str]]]] = []
        self.carriers = list(CARRIERS)
        #: order lines that ``orders_update`` refuses, on demand: detail id -> (code, message)
        self.detail_faults: dict[int, tuple[str, str]] = {}
        self.auth_calls = 0
        self._detail = 0
        self.demo = demo
        self._demo_next: float | None = None
        self.app = self._make_app()
        if demo:
            self.add_account(DEMO_PARTNER_ID, DEMO_FNAC_SHOP_ID, DEMO_FNAC_KEY, "Boutique démo Fnac", "F")
            self.add_account(DEMO_PARTNER_ID, DEMO_DARTY_SHOP_ID, DEMO_DARTY_KEY, "Boutique démo Darty", "D")
            for shop in (DEMO_FNAC_SHOP_ID, DEMO_DARTY_SHOP_ID):
                for sku, title, price, qty in demo_offers():
                    self.add_offer(shop, sku, title=title, price=price, quantity=qty)

    # ------------------------------------------------------------------ helpers for tests and the demo
    def now(self) -> float:
        return self.clock.time()

    def add_account(self, partner_id: str, shop_id: str, key: str, name: str = "Boutique", prefix: str = "T") -> Account:
        account = Account(partner_id.lower(), shop_id.lower(), key, name, prefix)
        with self.lock:
            self.accounts[account.shop_id] = account
            self.offers.setdefault(account.shop_id, {})
        return account

    def add_offer(self, shop_id: str, sku: str, *, title: str = "", price: str | Decimal = "19.90",
                  quantity: int = 5) -> dict[str, Any]:
        with self.lock:
            offer = {"sku": sku, "title": title or f"Produit {sku}", "price": Decimal(str(price)), "quantity": quantity,
                     "offer_fnac_id": str(uuid.UUID(int=self.rng.getrandbits(128))).upper(),
                     "product_fnac_id": str(self.rng.randint(10**6, 10**8)), "description": "", "comment": ""}
            self.offers.setdefault(shop_id, {})[sku] = offer
        return offer

    def new_order_id(self, prefix: str) -> str:
        alphabet = string.ascii_uppercase + string.digits
        while True:
            oid = prefix + "".join(self.rng.choice(alphabet) for _ in range(12))
            if oid not in self.orders:
                return oid

    def add_order(self, shop_id: str, items: list[tuple[str, int, str]], *, order_id: str | None = None,
                  created: float | None = None, shipping_method: str = "21", first: str = "Camille",
                  last: str = "Dubois", email: str = "camille.dubois@example.fr", state: str = "Created",
                  address: dict[str, str] | None = None, shipping_price: str = "3.90") -> Order:
        with self.lock:
            account = self.accounts[shop_id]
            lines = []
            for n, (sku, qty, price) in enumerate(items):
                self._detail += 1
                price_d = Decimal(str(price))
                offer = self.offers.get(shop_id, {}).get(sku)
                lines.append(Line(self._detail, sku, offer["title"] if offer else f"Produit {sku}", qty, price_d,
                                  (price_d * qty * Decimal("0.15")).quantize(Decimal("0.01")),
                                  Decimal(shipping_price) if n == 0 else Decimal("0")))
            when = self.now() if created is None else created
            order = Order(order_id or self.new_order_id(account.prefix), shop_id, first, last, email,
                          address or {"address1": "12 rue de la République", "zipcode": "69002", "city": "Lyon",
                                      "country": "FRA", "mobile": "0612345678"},
                          lines, when, shipping_method, updated_at=when)
            if state != "Created":
                for ln in lines:
                    ln.state = {"Accepted": "Accepted", "ToShip": "ToShip", "Shipped": "Shipped",
                                "Cancelled": "Cancelled", "Refused": "Refused"}.get(state, "ToAccept")
                order.state = _derive(lines)
            self.orders[order.order_id] = order
        return order

    def touch(self, order: Order, stamp: str | None = None) -> None:
        order.state = _derive(order.lines)
        order.updated_at = max(self.now(), order.updated_at + 0.001)
        if stamp:
            order.stamps[stamp] = order.updated_at

    def cancel_by_buyer(self, order_id: str) -> Order:
        """The buyer (or Fnac Darty) cancels: lines not yet sent are cancelled."""
        with self.lock:
            order = self.orders[order_id]
            for ln in order.lines:
                if ln.state not in SENT_LINE | FINAL_LINE:
                    ln.state = "Cancelled"
            self.touch(order, "CancelledAt")
        return order

    def mark_received(self, order_id: str) -> Order:
        with self.lock:
            order = self.orders[order_id]
            for ln in order.lines:
                if ln.state == "Shipped":
                    ln.state = "Received"
            self.touch(order, "ReceivedAt")
        return order

    def _advance(self) -> None:
        """What happens on Fnac Darty's side with time: accepted orders are debited (→ ToShip),
        offer batches finish, the demo's buyers order."""
        now = self.now()
        with self.lock:
            for order in self.orders.values():
                if order.state == "Accepted" and now - order.stamps.get("AcceptedAt", now) >= self.debit_delay:
                    for ln in order.lines:
                        if ln.state == "Accepted":
                            ln.state = "ToShip"
                    self.touch(order, "DebitedAt")
            for batch in self.batches.values():
                if not batch["applied"] and now >= batch["ready_at"]:
                    self._apply_batch(batch)
            if self.demo:
                self._demo_tick(now)

    def _demo_tick(self, now: float) -> None:
        shop = DEMO_FNAC_SHOP_ID
        if self._demo_next is None:
            for n in range(DEMO_BURST):
                self._demo_order(shop, now - 600 * (DEMO_BURST - n))
            self._demo_next = now + DEMO_INTERVAL
        elif now >= self._demo_next:  # one order at most, however long the pause was
            self._demo_order(shop, now)
            self._demo_next = now + DEMO_INTERVAL

    def _demo_order(self, shop: str, when: float) -> Order | None:
        offers = [o for o in self.offers.get(shop, {}).values() if o["quantity"] > 0]
        if not offers:
            return None
        picks = self.rng.sample(offers, min(len(offers), self.rng.choice((1, 1, 2))))
        first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)
        city, zipcode = self.rng.choice(CITIES)
        method = self.rng.choice(("20", "21", "21", "55"))
        address = {"address1": f"{self.rng.randint(1, 90)} rue Victor Hugo", "zipcode": zipcode, "city": city,
                   "country": "FRA", "mobile": "06" + "".join(self.rng.choice(string.digits) for _ in range(8))}
        if method == "55":
            address = {"company": f"Relais Fnac {city}", "address1": "3 place du Marché", "zipcode": zipcode,
                       "city": city, "country": "FRA", "fnac_shop_ref": str(self.rng.randint(100, 999))}
        local = f"{first.lower().replace('é', 'e').replace('è', 'e')}.{last.lower()}{self.rng.randint(1, 99)}"
        return self.add_order(shop, [(o["sku"], 1, str(o["price"])) for o in picks], created=when,
                              shipping_method=method, first=first, last=last, email=f"{local}@exemple.fr",
                              address=address)

    # ------------------------------------------------------------------ XML answers
    def _answer(self, service: str, status: str, children: list[ET.Element] | None = None,
                problems: list[tuple[str, str, str]] = ()) -> Response:
        root = element(f"{service}_response", status=status)
        errors = [element("error", msg, code=code, severity=sev) for code, sev, msg in problems]
        kids = list(children or [])
        if service in ("offers_update", "batch_status") and kids and kids[0].tag == "batch_id":
            root.append(kids.pop(0))  # batch_id comes before the errors in these two answers
        root.extend(errors)
        root.extend(kids)
        return Response(wire.document(root), status=200, mimetype="text/xml")

    def _authenticated(self, service: str, root: ET.Element) -> tuple[Account | None, Response | None]:
        shop_id = (root.get("shop_id") or "").lower()
        partner = (root.get("partner_id") or "").lower()
        token = root.get("token") or ""
        with self.lock:
            held = self.tokens.get(token)
        account = self.accounts.get(shop_id)
        if held is None or account is None or held[0] != shop_id or account.partner_id != partner:
            return None, self._answer(service, "FATAL", problems=[("ERR_TOKEN_INVALID", "FATAL",
                                                                   "Invalid token for this partner and shop")])
        if held[1] <= self.now():
            return None, self._answer(service, "FATAL", problems=[("ERR_TOKEN_EXPIRED", "FATAL",
                                                                   "Token expired, authenticate again")])
        return account, None

    def _make_app(self) -> Flask:
        app = Flask(__name__)
        app.extensions["fnac_emulator"] = self
        kit = EmulatorKit("fnac", clock=self.clock, error_body=error_body)
        kit.attach(app)

        @app.after_request
        def _plain_faults(response: Response) -> Response:
            # the kit's faults: Fnac Darty's front answers them with a short text, not XML
            if response.status_code >= 400 and response.mimetype == "application/json" \
                    and not request.path.startswith(CONTROL_PREFIX):
                response.set_data(error_body(response.status_code).encode())
                response.mimetype = "text/plain"
            return response

        def serve(service: str) -> Response:
            if service not in SERVICES:
                return Response("Not Found", status=404, mimetype="text/plain")
            self._advance()
            try:
                root = wire.parse(request.get_data())
            except wire.XmlRefused:
                return self._answer(service, "FATAL", problems=[("ERR_XML", "FATAL", "Malformed XML")])
            if root.tag != service:
                return self._answer(service, "FATAL", problems=[("ERR_XML", "FATAL",
                                                                 f"Root element must be {service}")])
            if service == "auth":
                return self._auth(root)
            account, refused = self._authenticated(service, root)
            if refused is not None:
                return refused
            assert account is not None
            with self.lock:
                return getattr(self, f"_{service}")(account, root)

        app.add_url_rule("/<service>", "service", serve, methods=["POST"])
        app.add_url_rule("/api.php/<service>", "service_php", serve, methods=["POST"])

        @app.post("/_sandbox/orders")
        def place() -> Any:  # the emulator's own door: a buyer orders on a shop
            spec = request.get_json(silent=True) or {}
            shop = (spec.get("shop_id") or DEMO_FNAC_SHOP_ID).lower()
            if shop not in self.accounts:
                return jsonify({"error": "unknown shop"}), 404
            items = [(i["sku"], int(i.get("quantity", 1)), str(i.get("price", "19.90"))) for i in spec.get("items", [])]
            order = self.add_order(shop, items or [(next(iter(self.offers[shop]), "SKU"), 1, "19.90")])
            return jsonify({"order_id": order.order_id}), 201

        @app.post("/_sandbox/orders/<order_id>/cancel")
        def cancel(order_id: str) -> Any:
            if order_id not in self.orders:
                return jsonify({"error": "unknown order"}), 404
            return jsonify({"state": self.cancel_by_buyer(order_id).state})

        @app.get("/_sandbox/orders/<order_id>")
        def view(order_id: str) -> Any:
            order = self.orders.get(order_id)
            if order is None:
                return jsonify({"error": "unknown order"}), 404
            return jsonify({"order_id": order.order_id, "state": order.state, "lines": [
                {"order_detail_id": ln.detail_id, "sku": ln.sku, "state": ln.state,
                 "tracking_number": ln.tracking_number, "tracking_company": ln.tracking_company}
                for ln in order.lines]})

        return app

    # ------------------------------------------------------------------ services
    def _auth(self, root: ET.Element) -> Response:
        self.auth_calls += 1
        partner, shop, key = (wire.text(root, n) for n in ("partner_id", "shop_id", "key"))
        account = self.accounts.get(shop.lower())
        if account is None or account.partner_id != partner.lower() or account.key != key:
            return self._answer("auth", "FATAL", problems=[("ERR_AUTH", "FATAL",
                                                            "Authentication failed: partner_id, shop_id or key")])
        token = str(uuid.UUID(int=self.rng.getrandbits(128)))
        until = self.now() + self.token_lifetime
        with self.lock:
            self.tokens[token] = (account.shop_id, until)
        return self._answer("auth", "OK", [element("token", token), element("validity", _iso(until)),
                                           element("version", "2.6.0")])

    def _orders_query(self, account: Account, root: ET.Element) -> Response:
        page = max(1, int(wire.text(root, "paging") or 1))
        per_page = int(root.get("results_count") or 100)
        rows = [o for o in self.orders.values() if o.shop_id == account.shop_id]
        for d in root.findall("date"):
            kind = d.get("type") or "CreatedAt"
            lo, hi = wire.parse_datetime(wire.text(d, "min")), wire.parse_datetime(wire.text(d, "max"))

            def at(o: Order, kind: str = kind) -> float | None:
                return o.created_at if kind == "CreatedAt" else o.updated_at if kind == "UpdatedAt" else o.stamps.get(kind)

            rows = [o for o in rows if at(o) is not None and (lo is None or at(o) >= lo.timestamp())
                    and (hi is None or at(o) <= hi.timestamp())]
        states = [s.text for s in root.findall("state")] + [s.text for s in root.findall("states/state")]
        if states:
            rows = [o for o in rows if o.state in states]
        ids = [e.text for e in root.findall("order_fnac_id")] + [e.text for e in root.findall("orders_fnac_id/order_fnac_id")]
        if ids:
            rows = [o for o in rows if o.order_id in ids]
        rows.sort(key=lambda o: (o.updated_at if root.find("date[@type='UpdatedAt']") is not None else o.created_at,
                                 o.order_id), reverse=wire.text(root, "sort_by") == "DESC")
        total = len(rows)
        pages = max(1, -(-total // per_page))
        chunk = rows[(page - 1) * per_page: page * per_page]
        return self._answer("orders_query", "OK", [element("page", page), element("total_paging", pages),
                                                    element("nb_total_per_page", per_page),
                                                    element("nb_total_result", total),
                                                    *[self._order_xml(o) for o in chunk]])

    def _order_xml(self, o: Order) -> ET.Element:
        def address(a: dict[str, str]) -> list[ET.Element]:
            out = [element("firstname", o.first), element("lastname", o.last)]
            for key in ("company", "address1", "address2", "zipcode", "city", "country", "phone", "mobile",
                        "fnac_shop_ref"):
                if a.get(key):
                    out.append(element(key, a[key]))
            return out

        details = []
        for ln in o.lines:
            kids = [element("order_detail_id", ln.detail_id), element("state", ln.state),
                    element("product_fnac_id", self._offer_field(o.shop_id, ln.sku, "product_fnac_id")),
                    element("product_name", ln.title),
                    element("offer_fnac_id", self._offer_field(o.shop_id, ln.sku, "offer_fnac_id")),
                    element("offer_seller_id", ln.sku), element("price", f"{ln.price:.2f}"),
                    element("fees", f"{ln.fees:.2f}"), element("product_state", "11"),
                    element("quantity", ln.quantity), element("created_at", _iso(o.created_at))]
            if "DebitedAt" in o.stamps:
                kids.append(element("debited_at", _iso(o.stamps["DebitedAt"])))
            if ln.tracking_number:
                kids.append(element("tracking_number", ln.tracking_number))
            kids += [element("shipping_price", f"{ln.shipping_price:.2f}"), element("shipping_method", o.shipping_method)]
            details.append(element("order_detail", children=kids))
        return element("order", children=[
            element("shop_id", o.shop_id), element("client_id", o.client_id), element("client_firstname", o.first),
            element("client_lastname", o.last), element("client_email", o.email), element("order_id", o.order_id),
            element("client_culture", "fr_FR"), element("state", o.state), element("created_at", _iso(o.created_at)),
            element("fees", f"{sum((ln.fees for ln in o.lines), Decimal('0')):.2f}"), element("vat_rate", "20.00"),
            element("nb_messages", 0),
            element("shipping_address", children=address(o.address)),
            element("billing_address", children=address({k: v for k, v in o.address.items() if k != "fnac_shop_ref"}
                                                         if "fnac_shop_ref" not in o.address else
                                                         {"address1": "8 avenue Jean Jaurès", "zipcode": o.address["zipcode"],
                                                          "city": o.address["city"], "country": "FRA"})),
            *details])

    def _offer_field(self, shop_id: str, sku: str, name: str) -> str:
        offer = self.offers.get(shop_id, {}).get(sku)
        return offer[name] if offer else "0"

    def _orders_update(self, account: Account, root: ET.Element) -> Response:
        results, failures = [], 0
        for o_el in root.findall("order"):
            order_id, action = o_el.get("order_id") or "", o_el.get("action") or ""
            details = [{k: wire.text(d, k) for k in ("order_detail_id", "action", "tracking_number", "tracking_company",
                                                      "refund_reason")} for d in o_el.findall("order_detail")]
            self.updates.append((account.shop_id, order_id, action, details))
            order = self.orders.get(order_id)
            if order is None or order.shop_id != account.shop_id:
                failures += 1
                results.append(element("order", children=[
                    element("status", "ERROR"), element("order_id", order_id),
                    element("error", f"Order {order_id} not found", code="ERR_ORDER_NOT_FOUND", severity="ERROR")]))
                continue
            ok, o_errors, line_els = self._apply_update(order, action, details)
            failures += 0 if ok else 1
            results.append(element("order", children=[
                element("status", "OK" if ok else "ERROR"), element("order_id", order_id),
                element("state", order.state),
                *[element("error", msg, code=code, severity="ERROR") for code, msg in o_errors], *line_els]))
        status = "OK" if not failures else "ERROR" if failures == len(results) else "WARNING"
        return self._answer("orders_update", status, results)

    def _apply_update(self, order: Order, action: str, details: list[dict[str, str]]
                      ) -> tuple[bool, list[tuple[str, str]], list[ET.Element]]:
        allowed = {"accept_order": {"Created"}, "confirm_to_send": {"Accepted", "ToShip"},
                   "update": {"Accepted", "ToShip", "Shipped"},
                   "refund_order": {"Accepted", "ToShip", "Shipped", "Received", "NotReceived"}}
        if action not in allowed:
            return False, [("ERR_ACTION", f"Action {action} is not supported here")], []
        if order.state not in allowed[action]:
            return False, [("ERR_ORDER_STATE", f"Order {order.order_id} is {order.state}: {action} not allowed")], []
        by_id = {str(ln.detail_id): ln for ln in order.lines}
        line_els, line_failures, stamp = [], 0, None
        for d in details:
            ln = by_id.get(d["order_detail_id"])
            problem = None
            if ln is None:
                problem = ("ERR_DETAIL_NOT_FOUND", f"Order detail {d['order_detail_id']} not found")
            elif ln.detail_id in self.detail_faults:
                problem = self.detail_faults.pop(ln.detail_id)
            elif action == "accept_order":
                if ln.state != "ToAccept":
                    problem = ("ERR_DETAIL_STATE", f"Order detail {ln.detail_id} is {ln.state}")
                elif d["action"] not in ("Accepted", "Refused"):
                    problem = ("ERR_DETAIL_ACTION", "accept_order takes Accepted or Refused")
                else:
                    ln.state = d["action"]
                    stamp = "AcceptedAt" if d["action"] == "Accepted" else stamp or "RefusedAt"
            elif action in ("confirm_to_send", "update"):
                wanted = "Shipped" if action == "confirm_to_send" else "Updated"
                if d["action"] != wanted:
                    problem = ("ERR_DETAIL_ACTION", f"{action} takes {wanted}")
                elif action == "confirm_to_send" and ln.state not in ("Accepted", "ToShip"):
                    problem = ("ERR_DETAIL_STATE", f"Order detail {ln.detail_id} is {ln.state}")
                elif order.shipping_method != "20" and not d["tracking_number"]:
                    problem = ("ERR_TRACKING_REQUIRED", "A tracking number is required for this shipping method")
                else:
                    ln.tracking_number, ln.tracking_company = d["tracking_number"], d["tracking_company"]
                    if action == "confirm_to_send":
                        ln.state, stamp = "Shipped", "ShippedAt"
            elif action == "refund_order":
                if d["action"] != "Refunded":
                    problem = ("ERR_DETAIL_ACTION", "refund_order takes Refunded")
                elif not d["refund_reason"]:
                    problem = ("ERR_REFUND_REASON", "refund_reason is required")
                elif ln.state in FINAL_LINE:
                    problem = ("ERR_DETAIL_STATE", f"Order detail {ln.detail_id} is {ln.state}")
                else:
                    ln.state, ln.refund_reason, stamp = "Refunded", d["refund_reason"], "RefundedAt"
            if problem:
                line_failures += 1
            kids = [element("order_detail_id", d["order_detail_id"] if d["order_detail_id"].isdigit() else 1),
                    element("status", "ERROR" if problem else "OK")]
            if ln is not None:
                kids.append(element("state", ln.state))
            if problem:
                kids.append(element("error", problem[1], code=problem[0], severity="ERROR"))
            line_els.append(element("order_detail", children=kids))
        if stamp:
            self.touch(order, stamp)
        ok = line_failures < len(details) or not details
        return ok, [], line_els

    def _offers_update(self, account: Account, root: ET.Element) -> Response:
        entries = []
        for o in root.findall("offer"):
            entry = {"sku": wire.text(o, "offer_reference"), "quantity": wire.text(o, "quantity"),
                     "price": wire.text(o, "price"), "treatment": wire.text(o, "treatment"),
                     "product_reference": wire.text(o, "product_reference")}
            entries.append(entry)
        self.offer_updates.append((account.shop_id, entries))
        batch_id = str(uuid.UUID(int=self.rng.getrandbits(128)))
        self.batches[batch_id] = {"shop_id": account.shop_id, "entries": entries, "ready_at": self.now() + self.batch_delay,
                                  "applied": False, "results": []}
        return self._answer("offers_update", "OK", [element("batch_id", batch_id)])

    def _apply_batch(self, batch: dict[str, Any]) -> None:
        offers = self.offers.setdefault(batch["shop_id"], {})
        for entry in batch["entries"]:
            sku, problem = entry["sku"], None
            offer = offers.get(sku)
            if offer is None and not entry["product_reference"]:
                problem = ("ERR_OFFER_NOT_FOUND", f"Offer {sku} not found for this shop")
            elif entry["quantity"] and not (entry["quantity"].isdigit() and int(entry["quantity"]) <= 9999):
                problem = ("ERR_QUANTITY", "Quantity must be between 0 and 9999")
            elif entry["price"] and not (Decimal("0.90") <= Decimal(entry["price"]) <= Decimal("20000")):
                problem = ("ERR_PRICE", "Price must be between 0.90 and 20000")
            else:
                if offer is None:
                    offer = self.add_offer(batch["shop_id"], sku)
                if entry["treatment"] == "delete":
                    offers.pop(sku, None)
                else:
                    if entry["quantity"]:
                        offer["quantity"] = int(entry["quantity"])
                    if entry["price"]:
                        offer["price"] = Decimal(entry["price"])
            batch["results"].append((sku, problem, offer))
        batch["applied"] = True

    def _batch_status(self, account: Account, root: ET.Element) -> Response:
        batch_id = wire.text(root, "batch_id")
        batch = self.batches.get(batch_id)
        if batch is None or batch["shop_id"] != account.shop_id:
            return self._answer("batch_status", "ERROR", [element("batch_id", batch_id)],
                                problems=[("ERR_BATCH_NOT_FOUND", "ERROR", f"Batch {batch_id} not found")])
        if not batch["applied"]:
            return self._answer("batch_status", "RUNNING", [element("batch_id", batch_id)])
        offers, failures = [], 0
        for sku, problem, offer in batch["results"]:
            kids = []
            if offer is not None:
                kids += [element("product_fnac_id", offer["product_fnac_id"]),
                         element("offer_fnac_id", offer["offer_fnac_id"])]
            kids.append(element("offer_seller_id", sku))
            if problem:
                failures += 1
                kids.append(element("error", problem[1], code=problem[0], severity="ERROR"))
            offers.append(element("offer", status="ERROR" if problem else "OK", children=kids))
        status = "OK" if not failures else "ERROR" if failures == len(offers) else "WARNING"
        return self._answer("batch_status", status, [element("batch_id", batch_id), *offers])

    def _offers_query(self, account: Account, root: ET.Element) -> Response:
        page = max(1, int(wire.text(root, "paging") or 1))
        per_page = int(root.get("results_count") or 100)
        rows = sorted(self.offers.get(account.shop_id, {}).values(), key=lambda o: o["sku"])
        total = len(rows)
        chunk = rows[(page - 1) * per_page: page * per_page]
        items = []
        for o in chunk:
            fee = (o["price"] * Decimal("0.15")).quantize(Decimal("0.01"))
            items.append(element("offer", children=[
                element("product_name", o["title"]), element("product_fnac_id", o["product_fnac_id"]),
                element("offer_fnac_id", o["offer_fnac_id"]), element("offer_seller_id", o["sku"]),
                element("price", f"{o['price']:.2f}"), element("fee_excluding_taxes", f"{fee / Decimal('1.2'):.2f}"),
                element("fee_including_all_taxes", f"{fee:.2f}"), element("product_state", "11"),
                element("quantity", o["quantity"]), element("description", o["description"]),
                element("internal_comment", o["comment"])]))
        return self._answer("offers_query", "OK", [element("page", page),
                                                    element("total_paging", max(1, -(-total // per_page))),
                                                    element("nb_total_per_page", per_page),
                                                    element("nb_total_result", total), *items])

    def _carriers_query(self, account: Account, root: ET.Element) -> Response:
        items = []
        for code, name in self.carriers:
            carrier = element("carrier", code=code, children=[element("name", name)])
            carrier.set("global", "1")
            items.append(carrier)
        return self._answer("carriers_query", "OK", items)


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).replace(microsecond=0).isoformat()


def demo_offers() -> list[tuple[str, str, str, int]]:
    """The demo merchant's catalogue on offer (same SKUs as the OMS demo data)."""
    from core.demo import CATALOG

    out = []
    for title, _desc, _hs, _origin, opts, price, _cost, _grams in CATALOG:
        base = "".join(w[0] for w in title.upper().split())[:4]
        for size, colour in opts:
            suffix = "-".join(x[:3].upper() for x in (colour, size) if x) or "STD"
            name = " – ".join([title, *[x for x in (colour, size) if x]])
            out.append((f"{base}-{suffix}", name, price, 10))
    return out


def make_app(**options: Any) -> Flask:
    """The demo's emulator (a Fnac and a Darty shop, live buyers on the Fnac one)."""
    options.setdefault("demo", True)
    return FnacEmulator(**options).app


def emulator_of(app: Flask) -> FnacEmulator:
    return app.extensions["fnac_emulator"]
