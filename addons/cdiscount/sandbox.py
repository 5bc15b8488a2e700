"""Emulator of Octopia's Seller API v2 and its auth server (Cdiscount's marketplace), for tests
and the demo. Same paths, auth, JSON shapes and errors as the client speaks (schemas in
``specs/``), on core's emulator base: mounted under /sandbox/cdiscount in the demo, every
request recorded, faults on demand (``kit_of(app).fail_next(429)``, 500, timeouts).

* Auth server: ``POST /auth/realms/maas/protocol/openid-connect/token`` (Keycloak realm
  ``maas``): tokens valid ``token_lifetime`` seconds (2 h), at most ``token_quota`` tokens an
  hour per client id (500, Octopia's one published limit) — past it, 429.
* ``/seller/v2``: ``Authorization: Bearer`` and ``SellerId`` on every call (401 / 403 as
  RFC 7807 problem details); ``GET /sellers``, ``GET /carriers``, ``GET /orders`` (pageIndex,
  pageSize ≤ 100, updatedAtMin/Max, status, sort; ``Link: <…>; rel="next"``),
  ``GET /orders/{id}``, ``POST /orders/{id}/approval-status``, ``POST /orders/{id}/shipments``
  (only ``InPreparation`` orders of supply mode ``Seller``), ``PUT /offers``,
  ``GET /cancellation-reasons``, ``POST /order-cancellation-requests``, ``GET /offers`` (the
  Offers Catalog Retrieval API: ``salesChannelId`` required, ``limit`` ≤ 1000, an opaque
  ``cursor`` handed in the ``Link: <…>; rel="next"`` header, filters
  ``sellerExternalReferences``, ``gtins``, ``offerStates``; an offer pushed by ``PUT /offers``
  shows there with its new figures), ``GET /operations``
  (the Financial Report API's operations: pageIndex, pageSize ≤ 100, updatedAtMin,
  eventTypes; ``Link`` as the orders).
* Money: an accepted order's ``Sale`` and ``Commission`` operations (``commission_rate`` of
  its total, the emulator's figure) show ``finance_delay`` seconds later (a day: Octopia posts
  them the day after acceptance); ``refund()`` adds a ``Refund`` (a refund, a return or a
  commercial gesture) and the commission given back in proportion.
* Orders accepted pass Octopia's final controls ``preparation_delay`` seconds later
  (``Accepted`` → ``InPreparation``), on the emulator's clock.
* ``lose_answer(path)``: the next call under ``path`` is carried out, then answered 504 — the
  ambiguous write the add-on must check by reading before sending again.
* ``add_offer(sku, …)``: an offer in the seller's catalogue, as the seller created it on the
  portal.
* The demo's shop (``live=True``): its offers (the demo catalogue's, and two no OMS product
  stands behind, to fix); a burst of three orders at start-up — one of them for more
  candles than the warehouse holds, to be refused — then one order every 20 minutes, all
  waiting for the seller's acceptance. Order numbers look like Cdiscount's (``YYMMDDhhmm`` and
  five letters).
"""
from __future__ import annotations

import base64
import binascii
import itertools
import random
import secrets
import threading
import zlib
from copy import deepcopy
from decimal import ROUND_HALF_UP, Decimal
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlencode

from flask import Flask, Response, jsonify, request

from core.connectors.emulator import CONTROL_PREFIX, EmulatorKit, SystemClock

DEMO_CLIENT_ID = "oms-demo-cdiscount"
DEMO_CLIENT_SECRET = "demo-octopia-secret-2026"
DEMO_SELLER_ID = "217842"
TOKEN_PATH = "/auth/realms/maas/protocol/openid-connect/token"
API = "/seller/v2"
MAX_PAGE_SIZE = 100
#: largest ``limit`` of ``GET /offers`` (third-party clients clamp it there; not documented)
MAX_OFFERS_LIMIT = 1000
#: the sales channels of the emulator's seller
SALES_CHANNELS = ("CDISFR",)
#: offers per ``PUT /offers`` this emulator takes (not documented by Octopia: this add-on's bound)
MAX_OFFERS = 100
CARRIERS = ["Colissimo", "La Poste", "Chronopost", "Mondial Relay", "Relais Colis", "DPD", "GLS", "UPS", "DHL",
            "FedEx", "TNT", "Colis Privé", "Geodis", "Autre"]
CANCELLATION_REASONS = [
    {"code": "seller-out-of-stock", "label": "Produit en rupture de stock"},
    {"code": "seller-price-error", "label": "Erreur de prix"},
    {"code": "seller-cannot-deliver", "label": "Livraison impossible à cette adresse"},
]


def iso(stamp: float) -> str:
    return datetime.fromtimestamp(stamp, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parse(value: str | None) -> float | None:
    if not value:
        return None
    try:
        stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (stamp if stamp.tzinfo else stamp.replace(tzinfo=timezone.utc)).timestamp()


def problem(status: int, title: str, detail: str = "", errors: dict[str, list[str]] | None = None) -> Response:
    """Octopia's error body: RFC 7807 problem details."""
    body: dict[str, Any] = {"type": f"https://httpstatuses.io/{status}", "title": title, "status": status,
                            "detail": detail or title, "traceId": secrets.token_hex(8)}
    if errors:
        body["errors"] = errors
    res = jsonify(body)
    res.status_code = status
    res.headers["Content-Type"] = "application/problem+json"
    return res


def error_body(status: int) -> dict[str, Any]:
    """The body of the faults told on demand, in Octopia's problem-details shape."""
    title = {429: "Too Many Requests", 503: "Service Unavailable", 504: "Gateway Timeout"}.get(status, "Server Error")
    return {"type": f"https://httpstatuses.io/{status}", "title": title, "status": status,
            "detail": "Octopia rate limit reached" if status == 429 else title, "traceId": secrets.token_hex(8)}


def make_order(order_id: str, lines: list[tuple[str, int, str]], *, created: float, status: str = "WaitingAcceptance",
               supply_mode: str = "Seller", buyer: str = "Camille Dubois", relay: bool = False,
               shipping: str = "4.90", channel: str = "CDISFR") -> dict[str, Any]:
    """An order as Octopia answers it (the shape of specs/order.schema.json)."""
    first, _, last = buyer.partition(" ")
    address = {"firstName": first, "lastName": last, "addressLine1": "12 rue des Lilas", "postalCode": "69003",
               "city": "Lyon", "countryCode": "FR", "phone": "+33612345678"}
    items = []
    for n, (sku, qty, price) in enumerate(lines, 1):
        items.append({"orderLineId": f"{order_id}-{n}", "quantity": qty, "status": status,
                      "offer": {"sellerProductId": sku, "offerId": f"OF{zlib.crc32(sku.encode()) % 10**8:08d}",
                                "productTitle": f"Produit {sku}"},
                      "price": {"unitSalesPrice": float(price), "unitTaxAmount": round(float(price) / 6, 2)}})
    total = sum(q * float(p) for _s, q, p in lines) + float(shipping)
    order: dict[str, Any] = {
        "orderId": order_id, "reference": order_id, "salesChannelId": channel, "status": status,
        "supplyMode": supply_mode, "currency": "EUR", "createdAt": iso(created), "purchasedAt": iso(created),
        "updatedAt": iso(created), "customer": {"firstName": first, "lastName": last,
                                                "email": f"{first.lower()}.{last.lower()}@client.cdiscount.example"},
        "shippingAddress": address, "billingAddress": dict(address),
        "deliveryMode": {"type": "Relay" if relay else "Standard"},
        "shippingPrice": float(shipping), "totalPrice": round(total, 2), "lines": items, "parcels": []}
    if relay:
        order["relayPoint"] = {"id": "069123", "network": "MondialRelay", "name": "Tabac de la Gare",
                               "address": {"addressLine1": "3 place Carnot", "postalCode": "69002", "city": "Lyon",
                                           "countryCode": "FR"}}
    return order


class Emulator:
    def __init__(self, *, clock: Any = None, client_id: str = DEMO_CLIENT_ID, client_secret: str = DEMO_CLIENT_SECRET,
                 seller_id: str = DEMO_SELLER_ID, token_lifetime: int = 7200, token_quota: int = 500,
                 preparation_delay: float = 60.0, live: bool = False, finance_delay: float = 86400.0,
                 commission_rate: str = "0.12") -> None:
        self.clock = clock or SystemClock()
        self.client_id, self.client_secret, self.seller_id = client_id, client_secret, seller_id
        self.token_lifetime, self.token_quota = token_lifetime, token_quota
        self.preparation_delay = preparation_delay
        self.lock = threading.RLock()
        self.orders: dict[str, dict[str, Any]] = {}
        self.visible_from: dict[str, float] = {}
        self.stamps: dict[str, float] = {}
        self.accepted_at: dict[str, float] = {}
        self.tokens: dict[str, float] = {}
        self.issued: list[float] = []
        self.token_count = 0
        self.offers: dict[str, dict[str, Any]] = {}
        self.approvals: list[tuple[str, str]] = []
        self.shipments: list[tuple[str, list[dict[str, Any]]]] = []
        self.cancellations: list[dict[str, Any]] = []
        self.lost: list[str] = []
        self.finance_delay, self.commission_rate = finance_delay, Decimal(commission_rate)
        self.operations: list[dict[str, Any]] = []
        self.operation_visible: dict[str, float] = {}
        self.rng = random.Random(2026)
        self._ids = itertools.count(1)
        self.kit = EmulatorKit("cdiscount", clock=self.clock, error_body=error_body)
        self.app = self._build_app()
        self.next_demo_at: float | None = None
        if live:
            self._start_demo()

    # ------------------------------------------------------------------ helpers for tests and the demo
    def now(self) -> float:
        return self.clock.time()

    def new_order_id(self, at: float | None = None) -> str:
        stamp = datetime.fromtimestamp(self.now() if at is None else at, timezone.utc).strftime("%y%m%d%H%M")
        letters = "".join(self.rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(4))
        return f"{stamp}{letters}{next(self._ids) % 10}"

    def add_order(self, order: dict[str, Any], at: float | None = None) -> dict[str, Any]:
        with self.lock:
            self.orders[order["orderId"]] = deepcopy(order)
            self.stamps[order["orderId"]] = parse(order["updatedAt"])
            self.visible_from[order["orderId"]] = self.stamps[order["orderId"]] if at is None else at
        return order

    def add_offer(self, sku: str, *, gtin: str | None = None, price: str = "19.90", quantity: int = 0,
                  title: str | None = None, state: str = "Active", condition: str = "New") -> dict[str, Any]:
        """An offer of the seller's catalogue, as created on the seller portal."""
        with self.lock:
            offer: dict[str, Any] = {"sellerProductId": sku, "price": float(price), "stock": quantity,
                                     "title": title or f"Produit {sku}", "offerState": state, "condition": condition,
                                     "updatedAt": iso(self.now())}
            if gtin:
                offer["productEan"] = gtin
            self.offers[sku] = offer
            return offer

    def offer_view(self, sku: str) -> dict[str, Any]:
        """An offer as ``GET /offers`` answers it (specs: ``catalogOffer``)."""
        offer = self.offers[sku]
        gtin = offer.get("productEan")
        reference = f"AUC{gtin}" if gtin else f"PRD{zlib.crc32(sku.encode()) % 10**10:010d}"
        condition = offer.get("condition", "New")
        product: dict[str, Any] = {"reference": reference, "title": offer.get("title") or f"Produit {sku}"}
        view: dict[str, Any] = {
            "offerId": f"{self.seller_id}_{reference}_{condition}_{SALES_CHANNELS[0]}", "sellerId": self.seller_id,
            "salesChannelId": SALES_CHANNELS[0], "sellerExternalReference": sku, "product": product,
            "condition": condition, "offerState": offer.get("offerState", "Active"),
            "integrationPrice": offer.get("price"), "quantity": offer.get("stock", 0), "updatedAt": offer["updatedAt"]}
        if gtin:
            view["gtin"] = product["gtin"] = gtin
        return view

    def set_status(self, order_id: str, status: str) -> dict[str, Any]:
        """Octopia (or the buyer) moves an order; its ``updatedAt`` moves with it."""
        with self.lock:
            order = self.orders[order_id]
            order["status"] = status
            for line in order["lines"]:
                line["status"] = status
            order["updatedAt"] = iso(self.now())
            self.stamps[order_id] = parse(order["updatedAt"])
            return deepcopy(order)

    def order(self, order_id: str) -> dict[str, Any]:
        with self.lock:
            self._advance()
            return deepcopy(self.orders[order_id])

    def lose_answer(self, path: str) -> None:
        """The next call under ``path`` is carried out, then answered 504 (the answer is lost)."""
        with self.lock:
            self.lost.append(path)

    def add_operation(self, order_id: str, event_type: str, gross: Decimal, *, at: float | None = None,
                      refund: dict[str, Any] | None = None) -> dict[str, Any]:
        """A financial operation of an order, visible from ``at`` (now by default)."""
        with self.lock:
            when = self.now() if at is None else at
            op_id = f"OP{next(self._ids):010d}"
            gross = Decimal(gross).quantize(Decimal("0.01"), ROUND_HALF_UP)
            op: dict[str, Any] = {
                "operationId": op_id, "eventType": event_type, "operationReference": order_id,
                "salesChannelId": self.orders[order_id]["salesChannelId"] if order_id in self.orders else "CDISFR",
                "paymentState": "Estimated", "operationDate": iso(when), "updatedAt": iso(when),
                "releasePaymentDate": None, "currency": "EUR",
                "amount": {"gross": float(gross), "vat": float((gross / 6).quantize(Decimal("0.01"), ROUND_HALF_UP))}}
            if refund is not None:
                op["refund"] = refund
            self.operations.append(op)
            self.operation_visible[op_id] = when
            return deepcopy(op)

    def commission_of(self, order_id: str) -> Decimal:
        total = Decimal(str(self.orders[order_id]["totalPrice"]))
        return (total * self.commission_rate).quantize(Decimal("0.01"), ROUND_HALF_UP)

    def refund(self, order_id: str, amount: str, *, kind: str = "CommercialGesture", reason: str = "",
               lines: list[tuple[str, int]] | None = None) -> dict[str, Any]:
        """The buyer refunded (by the seller in the seller portal or by Cdiscount after a claim):
        a ``Refund`` operation and the commission given back in proportion."""
        with self.lock:
            value = Decimal(amount)
            body: dict[str, Any] = {"type": kind}
            if reason:
                body["reason"] = reason
            if lines:
                body["lines"] = [{"orderLineId": lid, "quantity": qty} for lid, qty in lines]
            op = self.add_operation(order_id, "Refund", -value, refund=body)
            total = Decimal(str(self.orders[order_id]["totalPrice"]))
            self.add_operation(order_id, "Commission", self.commission_of(order_id) * value / total)
            return op

    def _advance(self) -> None:
        """What Octopia does on its own as time passes: final controls of accepted orders, the
        demo's customers."""
        now = self.now()
        for order_id, at in list(self.accepted_at.items()):
            if at + self.preparation_delay <= now:
                del self.accepted_at[order_id]
                if self.orders[order_id]["status"] == "Accepted":
                    self.set_status(order_id, "InPreparation")
        while self.next_demo_at is not None and self.next_demo_at <= now:
            self._demo_order(self.next_demo_at)
            self.next_demo_at += 20 * 60

    # ------------------------------------------------------------------ the demo's live shop
    DEMO_STOCKED = [("TCB-BLA-M", "19.90"), ("MÉ-CRÈ", "14.50"), ("TBL-NAT", "22.00"), ("CAP-STD", "12.90"),
                    ("SÀC-GRI-M", "49.00"), ("TCB-NOI-L", "19.90")]
    DEMO_BUYERS = ["Camille Dubois", "Léa Fontaine", "Hugo Martin", "Chloé Bernard", "Louis Petit", "Inès Moreau"]

    def _start_demo(self) -> None:
        now = self.now()
        burst = [[("TCB-BLA-M", 1, "19.90")], [("MÉ-CRÈ", 2, "14.50"), ("CAP-STD", 1, "12.90")],
                 [("BPF-STD", 50, "24.00")]]  # fifty candles: more than the warehouse holds, refused
        for n, lines in enumerate(burst):
            at = now - 300 + 60 * n
            self.add_order(make_order(self.new_order_id(at), lines, created=at, buyer=self.DEMO_BUYERS[n],
                                      relay=n == 1))
        self.next_demo_at = now + 20 * 60
        for sku, price in self.DEMO_STOCKED:
            self.add_offer(sku, price=price, quantity=5)
        # two offers created on the portal that no OMS product stands behind: fixed on the shop's page
        self.add_offer("CDS-PLAID-XL", gtin="3701234567893", price="59.00", quantity=3,
                       title="Plaid en laine XL (annonce Cdiscount)")
        self.add_offer("CDS-TASSE-LOT4", price="24.90", quantity=0, title="Lot de 4 tasses en grès", state="Inactive")

    def _demo_order(self, at: float) -> None:
        n = next(self._ids)
        sku, price = self.DEMO_STOCKED[n % len(self.DEMO_STOCKED)]
        self.add_order(make_order(self.new_order_id(at), [(sku, 1, price)], created=at,
                                  buyer=self.DEMO_BUYERS[n % len(self.DEMO_BUYERS)], relay=n % 3 == 0), at=at)

    # ------------------------------------------------------------------ the app
    def _build_app(self) -> Flask:
        app = Flask(__name__)
        app.extensions["cdiscount_emulator"] = self
        self.kit.attach(app)

        @app.before_request
        def _auth():
            path = request.path
            if path.startswith(CONTROL_PREFIX) or path == TOKEN_PATH:
                return None
            if not path.startswith(API):
                return problem(404, "Not Found")
            header = request.headers.get("Authorization", "")
            token = header[7:] if header.startswith("Bearer ") else ""
            with self.lock:
                until = self.tokens.get(token)
            if until is None or until <= self.now():
                return problem(401, "Unauthorized", "The access token is missing, invalid or expired.")
            if request.headers.get("SellerId") != self.seller_id:
                return problem(403, "Forbidden", "The SellerId header does not match the credentials' seller.")
            with self.lock:
                self._advance()
            return None

        @app.after_request
        def _lose(res: Response) -> Response:
            with self.lock:
                found = next((p for p in self.lost if request.path.startswith(p)), None)
                if found is None or res.status_code >= 400:
                    return res
                self.lost.remove(found)
            return problem(504, "Gateway Timeout", "The upstream service did not answer in time.")

        app.add_url_rule(TOKEN_PATH, "token", self._token, methods=["POST"])
        app.add_url_rule(f"{API}/sellers", "sellers", self._sellers)
        app.add_url_rule(f"{API}/carriers", "carriers", self._carriers)
        app.add_url_rule(f"{API}/orders", "orders", self._orders)
        app.add_url_rule(f"{API}/orders/<order_id>", "order", self._order)
        app.add_url_rule(f"{API}/orders/<order_id>/approval-status", "approval", self._approval, methods=["POST"])
        app.add_url_rule(f"{API}/orders/<order_id>/shipments", "shipments", self._shipments, methods=["POST"])
        app.add_url_rule(f"{API}/offers", "offers", self._offers, methods=["PUT"])
        app.add_url_rule(f"{API}/offers", "catalogue", self._catalogue, methods=["GET"])
        app.add_url_rule(f"{API}/cancellation-reasons", "reasons", self._reasons)
        app.add_url_rule(f"{API}/order-cancellation-requests", "cancel", self._cancel, methods=["POST"])
        app.add_url_rule(f"{API}/operations", "operations", self._operations)
        return app

    def _token(self):
        form = request.form
        if form.get("grant_type") != "client_credentials":
            return jsonify({"error": "unsupported_grant_type",
                            "error_description": "Unsupported grant_type"}), 400
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return jsonify({"error": "unauthorized_client",
                            "error_description": "Invalid client or Invalid client credentials"}), 401
        now = self.now()
        with self.lock:
            self.issued = [t for t in self.issued if t > now - 3600]
            if len(self.issued) >= self.token_quota:
                res = jsonify({"error": "too_many_requests",
                               "error_description": f"Token quota of {self.token_quota} per hour reached"})
                res.status_code = 429
                res.headers["Retry-After"] = str(max(1, round((self.issued[0] if self.issued else now) + 3600 - now)))
                return res
            self.issued.append(now)
            self.token_count += 1
            token = secrets.token_urlsafe(24)
            self.tokens[token] = now + self.token_lifetime
        return jsonify({"access_token": token, "expires_in": self.token_lifetime, "refresh_expires_in": 0,
                        "token_type": "Bearer", "not-before-policy": 0, "scope": "profile email"})

    def _sellers(self):
        return jsonify({"sellerId": self.seller_id, "shopName": "Atelier Martin (démo)", "legalName": "Atelier Martin SAS",
                        "salesChannels": [{"id": "CDISFR", "name": "Cdiscount France"}]})

    def _carriers(self):
        return jsonify({"items": [{"code": name.upper().replace(" ", "_"), "name": name} for name in CARRIERS]})

    def _orders(self):
        args = request.args
        errors: dict[str, list[str]] = {}
        try:
            page = int(args.get("pageIndex", 1))
            size = int(args.get("pageSize", 50))
        except ValueError:
            return problem(400, "One or more validation errors occurred.", errors={"pageIndex": ["Not a number."]})
        if page < 1:
            errors["pageIndex"] = ["pageIndex must be greater than or equal to 1."]
        if not 1 <= size <= MAX_PAGE_SIZE:
            errors["pageSize"] = [f"pageSize must be between 1 and {MAX_PAGE_SIZE}."]
        low, high = parse(args.get("updatedAtMin")), parse(args.get("updatedAtMax"))
        if args.get("updatedAtMin") and low is None:
            errors["updatedAtMin"] = ["Not a valid date."]
        if errors:
            return problem(400, "One or more validation errors occurred.", errors=errors)
        statuses = set(filter(None, (args.get("status") or "").split(",")))
        now = self.now()
        with self.lock:
            stamps = self.stamps
            rows = [o for oid, o in self.orders.items() if self.visible_from[oid] <= now
                    and (low is None or stamps[oid] >= low) and (high is None or stamps[oid] <= high)
                    and (not statuses or o["status"] in statuses)]
            rows.sort(key=lambda o: (stamps[o["orderId"]], o["orderId"]), reverse=args.get("desc") == "true")
            items = deepcopy(rows[(page - 1) * size:page * size])
        res = jsonify({"items": items, "pageIndex": page, "itemsPerPage": size, "total": len(rows)})
        if page * size < len(rows):
            query = {**args.to_dict(), "pageIndex": page + 1}
            res.headers["Link"] = f'<{request.base_url}?{urlencode(query)}>; rel="next"'
        return res

    def _operations(self):
        args = request.args
        errors: dict[str, list[str]] = {}
        try:
            page = int(args.get("pageIndex", 1))
            size = int(args.get("pageSize", 50))
        except ValueError:
            return problem(400, "One or more validation errors occurred.", errors={"pageIndex": ["Not a number."]})
        if page < 1:
            errors["pageIndex"] = ["pageIndex must be greater than or equal to 1."]
        if not 1 <= size <= MAX_PAGE_SIZE:
            errors["pageSize"] = [f"pageSize must be between 1 and {MAX_PAGE_SIZE}."]
        low = parse(args.get("updatedAtMin"))
        if args.get("updatedAtMin") and low is None:
            errors["updatedAtMin"] = ["Not a valid date."]
        if errors:
            return problem(400, "One or more validation errors occurred.", errors=errors)
        types = set(filter(None, (args.get("eventTypes") or "").split(",")))
        now = self.now()
        with self.lock:
            rows = [op for op in self.operations if self.operation_visible[op["operationId"]] <= now
                    and (low is None or parse(op["updatedAt"]) >= low) and (not types or op["eventType"] in types)]
            rows.sort(key=lambda op: (parse(op["updatedAt"]), op["operationId"]))
            items = deepcopy(rows[(page - 1) * size:page * size])
        res = jsonify({"items": items, "pageIndex": page, "itemsPerPage": size, "total": len(rows)})
        if page * size < len(rows):
            res.headers["Link"] = f'<{request.base_url}?{urlencode({**args.to_dict(), "pageIndex": page + 1})}>; rel="next"'
        return res

    def _order(self, order_id: str):
        with self.lock:
            order = self.orders.get(order_id)
            if order is None or self.visible_from[order_id] > self.now():
                return problem(404, "Not Found", f"Order {order_id} was not found.")
            return jsonify(deepcopy(order))

    def _approval(self, order_id: str):
        body = request.get_json(silent=True)
        wanted = body.get("approval_status") if isinstance(body, dict) else None
        if wanted not in ("Accepted", "Refused"):
            return problem(400, "One or more validation errors occurred.",
                           errors={"approval_status": ["Must be Accepted or Refused."]})
        with self.lock:
            order = self.orders.get(order_id)
            if order is None:
                return problem(404, "Not Found", f"Order {order_id} was not found.")
            if order["status"] != "WaitingAcceptance":
                return problem(409, "Conflict", f"Order {order_id} is {order['status']}: it does not wait for "
                                                "the seller's acceptance.")
            self.approvals.append((order_id, wanted))
            self.set_status(order_id, wanted)
            if wanted == "Accepted":
                self.accepted_at[order_id] = self.now()
                posted = self.now() + self.finance_delay
                self.add_operation(order_id, "Sale", Decimal(str(order["totalPrice"])), at=posted)
                self.add_operation(order_id, "Commission", -self.commission_of(order_id), at=posted)
        return "", 204

    def _shipments(self, order_id: str):
        body = request.get_json(silent=True)
        if not isinstance(body, list) or not body:
            return problem(400, "One or more validation errors occurred.", errors={"": ["A list of parcels is expected."]})
        with self.lock:
            order = self.orders.get(order_id)
            if order is None:
                return problem(404, "Not Found", f"Order {order_id} was not found.")
            if order["supplyMode"] != "Seller":
                return problem(409, "Conflict", f"Order {order_id} is shipped by {order['supplyMode']}, not the seller.")
            if order["status"] != "InPreparation":
                return problem(409, "Conflict", f"Order {order_id} is {order['status']}: only InPreparation orders "
                                                "can be shipped.")
            line_ids = {ln["orderLineId"] for ln in order["lines"]}
            errors = {}
            for n, parcel in enumerate(body):
                if not parcel.get("parcelNumber") or not parcel.get("carrierName"):
                    errors[f"[{n}]"] = ["parcelNumber and carrierName are required."]
                elif parcel["carrierName"] not in CARRIERS:
                    errors[f"[{n}].carrierName"] = [f"Unknown carrier {parcel['carrierName']}."]
                elif not parcel.get("orderLineIds") or set(parcel["orderLineIds"]) - line_ids:
                    errors[f"[{n}].orderLineIds"] = ["Unknown order line."]
            if errors:
                return problem(400, "One or more validation errors occurred.", errors=errors)
            self.shipments.append((order_id, deepcopy(body)))
            order["parcels"].extend(deepcopy(body))
            shipped = {lid for p in order["parcels"] for lid in p["orderLineIds"]}
            if shipped >= line_ids:
                self.set_status(order_id, "Shipped")
            else:
                order["updatedAt"] = iso(self.now())
                self.stamps[order_id] = parse(order["updatedAt"])
        return "", 204

    def _catalogue(self):
        """``GET /offers``: the seller's offers on a sales channel, by ``sellerExternalReference``,
        ``limit`` a page, the next page's opaque cursor in the ``Link`` header."""
        args = request.args
        errors: dict[str, list[str]] = {}
        channel = args.get("salesChannelId")
        if not channel:
            errors["salesChannelId"] = ["The salesChannelId field is required."]
        try:
            limit = int(args.get("limit", 100))
        except ValueError:
            limit = 0
        if not 1 <= limit <= MAX_OFFERS_LIMIT:
            errors["limit"] = [f"limit must be between 1 and {MAX_OFFERS_LIMIT}."]
        after = ""
        if args.get("cursor"):
            try:
                after = base64.urlsafe_b64decode(args["cursor"].encode()).decode()
            except (binascii.Error, UnicodeDecodeError, ValueError):
                errors["cursor"] = ["The cursor is not valid."]
            else:
                if not after.startswith("after:"):
                    errors["cursor"] = ["The cursor is not valid."]
                after = after[len("after:"):]
        if errors:
            return problem(400, "One or more validation errors occurred.", errors=errors)
        wanted = {name: set(filter(None, (args.get(name) or "").split(",")))
                  for name in ("sellerExternalReferences", "gtins", "offerStates")}
        with self.lock:
            skus = sorted(self.offers) if channel in SALES_CHANNELS else []
            views = [self.offer_view(sku) for sku in skus if sku > after]
            views = [v for v in views
                     if (not wanted["sellerExternalReferences"] or v["sellerExternalReference"]
                         in wanted["sellerExternalReferences"])
                     and (not wanted["gtins"] or v.get("gtin") in wanted["gtins"])
                     and (not wanted["offerStates"] or v["offerState"] in wanted["offerStates"])]
        page = views[:limit]
        res = jsonify({"items": page, "itemsPerPage": limit})
        if len(views) > limit:
            cursor = base64.urlsafe_b64encode(f"after:{page[-1]['sellerExternalReference']}".encode()).decode()
            query = {**args.to_dict(), "cursor": cursor}
            res.headers["Link"] = f'<{request.base_url}?{urlencode(query)}>; rel="next"'
        return res

    def _offers(self):
        body = request.get_json(silent=True)
        if not isinstance(body, list) or not 1 <= len(body) <= MAX_OFFERS:
            return problem(400, "One or more validation errors occurred.",
                           errors={"": [f"Between 1 and {MAX_OFFERS} offers are expected."]})
        results = []
        with self.lock:
            for offer in body:
                sku = offer.get("sellerProductId")
                if not sku or not isinstance(offer.get("stock"), int) or offer["stock"] < 0:
                    results.append({"sellerProductId": sku or "", "status": "Rejected",
                                    "errors": ["sellerProductId and a stock of 0 or more are required."]})
                    continue
                self.offers[sku] = {**self.offers.get(sku, {}), **offer, "updatedAt": iso(self.now())}
                results.append({"sellerProductId": sku, "status": "Accepted"})
        return jsonify({"items": results})

    def _reasons(self):
        if request.args.get("userType") != "Seller" or not request.args.get("orderStatus"):
            return problem(400, "One or more validation errors occurred.",
                           errors={"userType": ["userType=Seller and orderStatus are required."]})
        return jsonify(CANCELLATION_REASONS)

    def _cancel(self):
        body = request.get_json(silent=True) or {}
        order_id = body.get("orderSellerId")
        with self.lock:
            order = self.orders.get(order_id or "")
            if order is None:
                return problem(404, "Not Found", f"Order {order_id} was not found.")
            if body.get("reason") not in {r["code"] for r in CANCELLATION_REASONS}:
                return problem(400, "One or more validation errors occurred.", errors={"reason": ["Unknown reason."]})
            if order["status"] in ("Shipped", "Delivered", "Cancelled", "Refused", "Rejected"):
                return problem(409, "Conflict", f"Order {order_id} is {order['status']}: it cannot be cancelled.")
            request_id = f"CR{next(self._ids):08d}"
            self.cancellations.append({**body, "cancellationRequestId": request_id})
            self.set_status(order_id, "Cancelled")
        return jsonify({"cancellationRequestId": request_id}), 201


def emulator_of(app: Flask) -> Emulator:
    return app.extensions["cdiscount_emulator"]


def make_app(*, live: bool = True, **options: Any) -> Flask:
    """The emulator's WSGI app; the demo's (``make run``) is the live shop."""
    return Emulator(live=live, **options).app


def settings_for(base_url: str) -> dict[str, Any]:
    """Settings pointing the add-on at an emulator served at ``base_url``; the demo refuses a
    Cdiscount order without stock at once."""
    return {"seller_id": DEMO_SELLER_ID, "client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET,
            "api_base_url": f"{base_url}{API}", "token_url": f"{base_url}{TOKEN_PATH}", "refuse_after_hours": 0,
            "import_days": 14}
