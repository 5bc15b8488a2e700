"""Emulator of the Mirakl Marketplace Platform seller API, serving several operator instances
at once (``<base>/<operator code>/api/...``, as ``https://<operator>-prod.mirakl.net/api/...``),
for tests and the demo. Built on core's emulator base: mounted under /sandbox/mirakl in the
demo, every request recorded, faults on demand (``kit_of(app).fail_next(429)``, 500,
timeouts, or ``POST /_emulator/faults``).

Mirakl's documented behaviours it keeps (seller OpenAPI and the pitfalls integrators met):

* ``Authorization: <shop API key>`` with no prefix; ``shop_id`` checked when given;
* OR11 offset paging: ``max`` 10 by default, 100 at most, ``offset``, ``total_count``;
  ``order_ids`` (and every id list) capped at 100 values, refused beyond with Mirakl's
  message ("The limit of 100 is exceeded for the parameter: order_ids");
* the shipping address is null until the order is accepted and debited;
* OR21 wants every line of the order (``ORDER_LINE_ACCEPTANCE_DECISION_MISSING``), refuses a
  partial decision where the operator disabled it (``ORDER_PARTIAL_ACCEPTANCE_DISABLED``) and
  any decision out of WAITING_ACCEPTANCE (``ORDER_INVALID_STATE``);
* OR23 ``carrier_code`` must be a carrier of the instance (SH21), its tracking URL computed;
  otherwise ``carrier_name`` (+ ``carrier_url``);
* STO01 at most once a minute per instance (429, with or without ``Retry-After`` as told),
  STO02 statuses WAITING → RUNNING → COMPLETE, STO03 the lines in error as CSV;
* OF24 resets every offer field it is not sent (quantity 0, description and discount
  deleted…); PRI01 deletes the prices of an offer that the file does not carry;
* ST01 (multiple shipments) only where the operator enables it;
* OR30 cancels quantities of lines (a line wholly cancelled is CANCELED, the order too once
  every line is), OR28 refunds shipped lines (never above a line's amount, taxes required
  when the order has taxes), each with a reason code of RE02, kept on the lines of OR11.
"""
from __future__ import annotations

import csv
import io
import json
import random
import threading
import uuid
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask import Flask, Response, jsonify, request

from core.connectors.emulator import CONTROL_PREFIX, EmulatorKit, SystemClock

OPERATORS = json.loads((Path(__file__).resolve().parent / "operators.json").read_text(encoding="utf-8"))["operators"]
DEMO_INSTANCES = ("carrefour", "leroymerlin")
#: demo: a burst at start, then at most one order every 20 minutes (all instances together)
DEMO_BURST = {"carrefour": 2, "leroymerlin": 1}
DEMO_INTERVAL = 20 * 60

CARRIERS = {
    "default": [
        {"code": "COLISSIMO", "label": "Colissimo", "standard_code": "COLISSIMO",
         "tracking_url": "https://www.laposte.fr/outils/suivre-vos-envois?code={trackingId}"},
        {"code": "CHRONOPOST", "label": "Chronopost", "standard_code": "CHRONOPOST",
         "tracking_url": "https://www.chronopost.fr/tracking-no-cms/suivi-page?listeNumerosLT={trackingId}"},
        {"code": "DPD", "label": "DPD France", "standard_code": "DPD",
         "tracking_url": "https://trace.dpd.fr/fr/trace/{trackingId}"},
        {"code": "MONDIAL_RELAY", "label": "Mondial Relay", "standard_code": "MONDIAL_RELAY",
         "tracking_url": "https://www.mondialrelay.fr/suivi-de-colis/?numeroExpedition={trackingId}"},
    ],
    "leroymerlin": [
        {"code": "colissimo-lm", "label": "Colissimo", "standard_code": "COLISSIMO",
         "tracking_url": "https://www.laposte.fr/outils/suivre-vos-envois?code={trackingId}"},
        {"code": "geodis-lm", "label": "Geodis", "standard_code": "GEODIS",
         "tracking_url": "https://espace-client.geodis.com/services/tracking?ref={trackingId}"},
    ],
}
REASONS = {
    "REFUND": [{"code": "13", "label": "Article défectueux", "type": "REFUND"},
               {"code": "14", "label": "Article non reçu", "type": "REFUND"}],
    "CANCELATION": [{"code": "34", "label": "Rupture de stock", "type": "CANCELATION"},
                    {"code": "35", "label": "Annulation à la demande du client", "type": "CANCELATION"}],
    "INCIDENT_OPEN": [{"code": "5", "label": "Colis non reçu", "type": "INCIDENT_OPEN"}],
}
#: RT21's rejection reasons (``rejection_reason_code``)
REJECTIONS = ("RETURN_REJECTION_NOT_ELIGIBLE", "RETURN_REJECTION_NOT_NEEDED", "RETURN_REJECTION_WINDOW_CLOSED")
OFFER_DEFAULTS = {"quantity": 0, "description": None, "discount": None, "leadtime_to_ship": None,
                  "min_quantity_alert": None, "available_started": None, "available_ended": None,
                  "logistic_class": None, "internal_description": None}
BEFORE_SHIPPING = ("STAGING", "WAITING_ACCEPTANCE", "WAITING_DEBIT", "WAITING_DEBIT_PAYMENT")


def api_key(code: str) -> str:
    return f"sandbox-{code}-4f1e2c"


def shop_number(code: str) -> int:
    return 2000 + [o["code"] for o in OPERATORS].index(code) + 1


def settings_for(base_url: str, code: str = "carrefour") -> dict[str, Any]:
    """Settings pointing a shop at one instance of the emulator."""
    return {"instance_url": f"{base_url.rstrip('/')}/{code}", "api_key": api_key(code), "shop_id": "",
            "import_days": 30}


def demo_settings(base_url: str) -> dict[str, Any]:
    return settings_for(base_url, "carrefour")


def error_body(status: int) -> dict[str, Any]:
    """Mirakl's error body (``status`` and ``message``), for the faults told on demand too."""
    messages = {401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 429: "Too Many Requests",
                500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}
    return {"status": status, "message": messages.get(status, "Error")}


def _fail(status: int, message: str, code: str | None = None) -> Response:
    body: dict[str, Any] = {"status": status, "message": message}
    if code:
        body["errors"] = [{"code": code, "message": message}]
    res = jsonify(body)
    res.status_code = status
    return res


class Instance:
    """One operator's Mirakl instance: its shop, carriers, settings, orders and offers."""

    def __init__(self, op: dict[str, Any]) -> None:
        self.code = op["code"]
        self.name = op["name"]
        self.settings = dict(op.get("settings") or {})
        self.key = api_key(self.code)
        self.shop_id = shop_number(self.code)
        self.carriers = [dict(c) for c in CARRIERS.get(self.code, CARRIERS["default"])]
        self.orders: dict[str, dict[str, Any]] = {}
        self.offers: dict[str, dict[str, Any]] = {}
        self.imports: dict[str, dict[str, Any]] = {}
        self.shipments: list[dict[str, Any]] = []
        self.cancelations: list[dict[str, Any]] = []
        self.refunds: list[dict[str, Any]] = []
        self.returns: list[dict[str, Any]] = []
        self.last_stock_import: float | None = None
        self.seq = 0


class Emulator:
    """The emulator and its state; ``app`` is the Flask app to serve."""

    def __init__(self, *, clock: Any = None, demo: bool = False, debit_delay: float = 0.0,
                 import_delay: float = 0.0, retry_after: bool = True, seed: int = 2026) -> None:
        self.clock = clock or SystemClock()
        self.lock = threading.RLock()
        self.instances = {op["code"]: Instance(op) for op in OPERATORS}
        self.debit_delay = debit_delay
        self.import_delay = import_delay
        #: whether the 429 of STO01 carries ``Retry-After`` (Mirakl's does not always)
        self.retry_after = retry_after
        self.demo = demo
        self.rng = random.Random(seed)
        self._demo_next: float | None = None
        #: when STO02 was read (the documented maximum: every 15 seconds)
        self.status_reads: list[float] = []
        self._demo_turn = 0
        self.app = Flask(__name__)
        self.kit = EmulatorKit("mirakl", clock=self.clock, error_body=error_body).attach(self.app).extensions["emulator"]
        self.app.extensions["mirakl_emulator"] = self
        self._routes()

    # ------------------------------------------------------------------ clock and time
    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock.time(), tz=timezone.utc)

    def stamp(self, when: datetime | None = None) -> str:
        return (when or self.now()).strftime("%Y-%m-%dT%H:%M:%S.") + f"{(when or self.now()).microsecond // 1000:03d}Z"

    # ------------------------------------------------------------------ the emulator's own doors (tests, demo)
    def add_offer(self, code: str, sku: str, quantity: int = 0, price: str = "10.00", **fields: Any) -> dict[str, Any]:
        inst = self.instances[code]
        with self.lock:
            offer = {"shop_sku": sku, "product_id": fields.pop("product_id", sku), "product_id_type": "SHOP_SKU",
                     "price": price, "state_code": "11", **OFFER_DEFAULTS, "quantity": quantity,
                     "prices": [{"price": price, "channel_code": None}], **fields}
            inst.offers[sku] = offer
            return offer

    def place_order(self, code: str, lines: list[tuple[str, int, str]], *, state: str = "WAITING_ACCEPTANCE",
                    customer: tuple[str, str] = ("Julie", "Moreau"), city: tuple[str, str] = ("75011", "Paris"),
                    pudo: str | None = None, shipping_type: str = "STD", commission_rate: str = "0.15",
                    created: datetime | None = None) -> dict[str, Any]:
        """A customer's order on an instance: ``lines`` of (sku, quantity, unit price)."""
        inst = self.instances[code]
        with self.lock:
            inst.seq += 1
            when = created or self.now()
            commercial = f"{inst.code[:3].upper()}{when:%y%m%d}{inst.seq:05d}"
            order_id = f"{commercial}-A"
            first, last = customer
            address = {"civility": "Mme", "firstname": first, "lastname": last, "company": None,
                       "street_1": f"{self.rng.randint(1, 90)} rue de la République", "street_2": None,
                       "zip_code": city[0], "city": city[1], "state": None, "country": "France",
                       "country_iso_code": "FRA", "phone": "0601020304", "additional_info": None}
            order_lines = []
            total = 0.0
            for index, (sku, qty, price) in enumerate(lines, start=1):
                amount = round(float(price) * qty, 2)
                total += amount
                commission = round(amount * float(commission_rate), 2)
                order_lines.append({
                    "order_line_id": f"{order_id}-{index}", "order_line_index": index, "offer_id": 1000 + index,
                    "offer_sku": sku, "product_sku": f"P-{sku}", "product_shop_sku": sku,
                    "product_title": inst.offers.get(sku, {}).get("product_title") or f"Article {sku}",
                    "offer_state_code": "11", "quantity": qty,
                    "price_unit": float(price), "price": amount, "shipping_price": 0.0, "total_price": amount,
                    "commission_fee": commission, "commission_rate_vat": 20.0, "commission_vat": round(commission * 0.2, 2),
                    "total_commission": round(commission * 1.2, 2), "order_line_state": state,
                    "can_refund": False, "cancelations": [], "refunds": [], "category_code": "C1",
                    "category_label": "Maison", "description": None, "product_medias": [],
                    "order_line_additional_fields": [], "created_date": self.stamp(when),
                    "last_updated_date": self.stamp(when),
                    "taxes": [{"code": "TVAFR", "amount": round(amount - amount / 1.2, 2), "rate": 20.0}],
                    "shipping_taxes": []})
            shipping_price = 4.9
            order = {
                "order_id": order_id, "commercial_id": commercial, "order_state": state,
                "created_date": self.stamp(when), "last_updated_date": self.stamp(when),
                "acceptance_decision_date": None, "currency_iso_code": "EUR",
                "price": round(total, 2), "shipping_price": shipping_price,
                "total_price": round(total + shipping_price, 2),
                "total_commission": round(sum(ln["total_commission"] for ln in order_lines), 2),
                "can_cancel": False, "can_shop_ship": True, "fully_refunded": False, "has_customer_message": False,
                "has_incident": False, "has_invoice": False, "leadtime_to_ship": 2,
                "shipping_deadline": self.stamp(when + timedelta(days=2)),
                "order_tax_mode": "TAX_INCLUDED", "paymentType": "CREDIT_CARD", "payment_type": "CREDIT_CARD",
                "payment_workflow": "PAY_ON_ACCEPTANCE", "shipping_type_code": shipping_type,
                "shipping_type_label": "Point relais" if pudo else "Livraison standard",
                "shipping_zone_code": "FR", "shipping_zone_label": "France métropolitaine",
                "shipping_pudo_id": pudo, "shipping_carrier_code": None, "shipping_tracking": None,
                "shipping_tracking_url": None, "shipping_company": None,
                "customer_notification_email": f"{first.lower()}-{inst.seq}@mirakl-notif.example",
                "fulfillment": {"center": {"code": "DEFAULT"}},
                "customer": {"customer_id": f"C-{inst.code}-{inst.seq}", "firstname": first, "lastname": last,
                             "civility": "Mme", "locale": "fr_FR",
                             "billing_address": dict(address), "shipping_address": dict(address)},
                "order_lines": order_lines,
                "_debit_at": None,
            }
            inst.orders[order_id] = order
            return order

    def add_return(self, code: str, order_id: str, lines: list[tuple[str, int]], state: str = "RECEIVED",
                   reason_code: str = "RETURN_DEFECTIVE_ITEM") -> dict[str, Any]:
        """A customer's return (RT11's shape) of some lines of an order; ``WAITING_ACCEPTANCE``
        for a request the seller accepts or refuses with RT21."""
        inst = self.instances[code]
        with self.lock:
            order = inst.orders[order_id]
            ret = {"id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{code}/{order_id}/{len(inst.returns) + 1}")),
                   "order_id": order_id,
                   "order_commercial_id": order["commercial_id"], "state": state, "reason_code": reason_code,
                   "date_created": self.stamp(), "last_updated": self.stamp(), "method_code": "RETURN_METHOD_BY_MAIL",
                   "return_address": {"street1": "1 rue du Dépôt", "zip_code": "91000", "city": "Évry",
                                      "country_iso_code": "FRA"}, "rma": None,
                   "return_lines": [{"order_line_id": lid, "quantity": qty, "reason_code": reason_code}
                                    for lid, qty in lines]}
            inst.returns.append(ret)
            return ret

    def cancel_on_operator(self, code: str, order_id: str, line_id: str, quantity: int,
                           reason_code: str = "35") -> dict[str, Any]:
        """Units of a line cancelled at the operator's (the customer, the operator's service):
        a ``cancelations`` entry on the line as OR11 shows it; the line is ``CANCELED`` once
        every unit is, and the order once every line is."""
        with self.lock:
            order = self.instances[code].orders[order_id]
            line = next(ln for ln in order["order_lines"] if ln["order_line_id"] == line_id)
            share = Decimal(quantity) / Decimal(line["quantity"])
            line["cancelations"].append({
                "id": f"CANC-OP-{len(line['cancelations']) + 1}", "quantity": quantity, "reason_code": reason_code,
                "amount": float((Decimal(str(line["price"])) * share).quantize(Decimal("0.01"))),
                "shipping_amount": 0.0, "created_date": self.stamp(), "taxes": [], "shipping_taxes": []})
            if sum(c["quantity"] for c in line["cancelations"]) >= line["quantity"]:
                line["order_line_state"] = "CANCELED"
            if all(ln["order_line_state"] == "CANCELED" for ln in order["order_lines"]):
                self._state(order, "CANCELED")
            else:
                order["last_updated_date"] = line["last_updated_date"] = self.stamp()
            return order

    def set_return_state(self, code: str, return_id: str, state: str) -> dict[str, Any]:
        """The return moves on at the operator's (the parcel came back: ``RECEIVED``…)."""
        with self.lock:
            ret = next(r for r in self.instances[code].returns if r["id"] == return_id)
            ret["state"], ret["last_updated"] = state, self.stamp()
            return ret

    def set_state(self, code: str, order_id: str, state: str) -> dict[str, Any]:
        with self.lock:
            order = self.instances[code].orders[order_id]
            self._state(order, state)
            return order

    def _state(self, order: dict[str, Any], state: str, when: datetime | None = None) -> None:
        order["order_state"] = state
        order["last_updated_date"] = self.stamp(when)
        order["can_cancel"] = state in ("WAITING_DEBIT", "WAITING_DEBIT_PAYMENT", "SHIPPING")
        for line in order["order_lines"]:
            if line["order_line_state"] not in ("REFUSED", "CANCELED"):
                line["order_line_state"] = state
            line["last_updated_date"] = order["last_updated_date"]

    def _tick(self) -> None:
        """The platform's clock: debited orders go to SHIPPING; the demo's customers order."""
        now = self.clock.time()
        with self.lock:
            for inst in self.instances.values():
                for order in inst.orders.values():
                    due = order.get("_debit_at")
                    if due is not None and order["order_state"] == "WAITING_DEBIT_PAYMENT" and now >= due:
                        order["_debit_at"] = None
                        self._state(order, "SHIPPING", datetime.fromtimestamp(now, tz=timezone.utc))
            if self.demo:
                self._demo_orders(now)

    def _demo_orders(self, now: float) -> None:
        if self._demo_next is None:
            for code, count in DEMO_BURST.items():
                for _n in range(count):
                    self._demo_order(code)
            self._demo_next = now + DEMO_INTERVAL
        elif now >= self._demo_next:
            self._demo_next = now + DEMO_INTERVAL
            self._demo_turn += 1
            self._demo_order(DEMO_INSTANCES[self._demo_turn % len(DEMO_INSTANCES)])
            for code in DEMO_INSTANCES:
                self._demo_return(code)

    def _demo_order(self, code: str) -> None:
        inst = self.instances[code]
        skus = [sku for sku, offer in inst.offers.items() if offer.get("quantity", 0) > 0] or list(inst.offers)
        if not skus:
            return
        sku = self.rng.choice(skus)
        names = [("Julie", "Moreau"), ("Thomas", "Laurent"), ("Emma", "Girard"), ("Lucas", "Roux"), ("Inès", "Blanc")]
        cities = [("69003", "Lyon"), ("33000", "Bordeaux"), ("59000", "Lille"), ("13006", "Marseille")]
        pudo = f"FR-{self.rng.randint(10000, 99999)}" if self.rng.random() < 0.3 else None
        self.place_order(code, [(sku, 1, inst.offers[sku]["price"])], customer=self.rng.choice(names),
                         city=self.rng.choice(cities), pudo=pudo, shipping_type="RELAY" if pudo else "STD")

    def _demo_return(self, code: str) -> None:
        """Now and then a customer asks to return a shipped order (one request waiting at a
        time), where the operator runs returns."""
        inst = self.instances[code]
        if not inst.settings.get("returns") or any(r["state"] == "WAITING_ACCEPTANCE" for r in inst.returns):
            return
        asked = {r["order_id"] for r in inst.returns}
        shipped = [o for o in inst.orders.values() if o["order_state"] in ("SHIPPED", "RECEIVED")
                   and o["order_id"] not in asked]
        if not shipped or self.rng.random() > 0.5:
            return
        order = self.rng.choice(shipped)
        line = order["order_lines"][0]
        self.add_return(code, order["order_id"], [(line["order_line_id"], 1)], state="WAITING_ACCEPTANCE",
                        reason_code=self.rng.choice(("RETURN_DPD_WRONG_SIZE", "RETURN_CM_DONT_LIKE",
                                                     "RETURN_DEFECTIVE_ITEM")))

    def seed_demo(self) -> None:
        """The demo merchant's catalogue on sale on the demo instances (same SKUs as the OMS demo)."""
        from core.demo import CATALOG

        for title, _desc, _hs, _origin, opts, price, _cost, _grams in CATALOG:
            base = "".join(w[0] for w in title.upper().split())[:4]
            for size, colour in opts:
                suffix = "-".join(x[:3].upper() for x in (colour, size) if x) or "STD"
                for code in DEMO_INSTANCES:
                    name = " ".join(x for x in (title, colour, size) if x)
                    self.add_offer(code, f"{base}-{suffix}", quantity=10, price=str(price), product_title=name)

    # ------------------------------------------------------------------ serving
    def public(self, order: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in order.items() if not k.startswith("_")}
        out["customer"] = dict(order["customer"])
        if order["order_state"] in BEFORE_SHIPPING or order["order_state"] == "REFUSED":
            out["customer"]["shipping_address"] = None
            out["customer"]["billing_address"] = None
        return out

    def _routes(self) -> None:
        app = self.app

        def instance() -> Instance | Response:
            code = request.view_args.get("code") if request.view_args else None
            inst = self.instances.get(code or "")
            if inst is None:
                return _fail(404, "Not Found")
            if request.headers.get("Authorization") != inst.key:
                return _fail(401, "Unauthorized")
            asked = request.args.get("shop_id")
            if asked and asked != str(inst.shop_id):
                return _fail(403, f"You are not allowed to access the shop {asked}")
            return inst

        @app.before_request
        def _clock():
            if not request.path.startswith(CONTROL_PREFIX):
                self._tick()

        def guarded(fn):
            def wrapper(code: str, **kw):
                inst = instance()
                if isinstance(inst, Response):
                    return inst
                with self.lock:
                    return fn(inst, **kw)
            wrapper.__name__ = fn.__name__
            return wrapper

        def ids(name: str) -> list[str] | Response:
            raw = request.args.get(name) or ""
            values = [v for v in raw.split(",") if v]
            if len(values) > 100:
                return _fail(400, f"The limit of 100 is exceeded for the parameter: {name}")
            return values

        def page_args() -> tuple[int, int] | Response:
            try:
                offset = int(request.args.get("offset", 0))
                size = int(request.args.get("max", 10))
            except ValueError:
                return _fail(400, "offset and max must be integers")
            if size > 100 or size < 1 or offset < 0:
                return _fail(400, "max must be between 1 and 100")
            return offset, size

        @app.get("/<code>/api/account")
        @guarded
        def account(inst: Instance):
            return jsonify({
                "shop_id": inst.shop_id, "shop_name": f"Boutique de démonstration ({inst.name})", "shop_state": "OPEN",
                "currency_iso_code": "EUR", "channels": ["FR"], "domains": [], "is_professional": True,
                "premium": False, "free_shipping": False, "offers_count": len(inst.offers),
                "orders_count": len(inst.orders), "evaluations_count": 0,
                "date_created": "2025-01-06T09:00:00Z", "last_updated_date": "2026-11-02T09:00:00Z",
                "contact_informations": {"city": "Paris", "country": "FRA", "email": "vendeur@exemple.fr",
                                         "lastname": "Moreau", "street1": "1 rue de la Paix"},
                "billing_info": {}, "default_billing_information": {"default_language": "fr", "id": 1,
                                                                    "registration_address": {}},
                "payment_details": {}, "payment_method_mandatory": False, "pro_details": {}, "shipping": {},
                "shipping_types": [], "shipping_zones": [], "shop_additional_fields": []})

        @app.get("/<code>/api/shipping/carriers")
        @guarded
        def carriers(inst: Instance):
            return jsonify({"carriers": inst.carriers})

        @app.get("/<code>/api/reasons/<reason_type>")
        @guarded
        def reasons(inst: Instance, reason_type: str):
            found = REASONS.get(reason_type.upper(), [])
            return jsonify({"reasons": found, "total_count": len(found)})

        @app.get("/<code>/api/orders")
        @guarded
        def orders(inst: Instance):
            paging = page_args()
            if isinstance(paging, Response):
                return paging
            wanted = ids("order_ids")
            if isinstance(wanted, Response):
                return wanted
            states = ids("order_state_codes")
            if isinstance(states, Response):
                return states
            rows = list(inst.orders.values())
            if wanted:
                rows = [o for o in rows if o["order_id"] in wanted]
            if states:
                rows = [o for o in rows if o["order_state"] in states]
            for arg, field, op in (("start_update_date", "last_updated_date", "ge"),
                                   ("end_update_date", "last_updated_date", "le"),
                                   ("start_date", "created_date", "ge"), ("end_date", "created_date", "le")):
                if request.args.get(arg):
                    bound = _parse(request.args[arg])
                    rows = [o for o in rows if (_parse(o[field]) >= bound if op == "ge" else _parse(o[field]) <= bound)]
            key = "last_updated_date" if request.args.get("sort") == "dateUpdated" else "created_date"
            rows.sort(key=lambda o: (o[key], o["order_id"]), reverse=request.args.get("order") == "desc")
            offset, size = paging
            return jsonify({"orders": [self.public(o) for o in rows[offset:offset + size]], "total_count": len(rows)})

        @app.put("/<code>/api/orders/<order_id>/accept")
        @guarded
        def accept(inst: Instance, order_id: str):
            order = inst.orders.get(order_id)
            if order is None:
                return _fail(404, f"Order {order_id} not found", "ORDER_NOT_FOUND")
            if order["order_state"] != "WAITING_ACCEPTANCE":
                return _fail(400, f"Order {order_id} is not in state WAITING_ACCEPTANCE", "ORDER_INVALID_STATE")
            body = request.get_json(silent=True) or {}
            decisions = body.get("order_lines") or []
            seen: dict[str, bool] = {}
            for d in decisions:
                if d.get("id") in seen:
                    return _fail(400, f"Order line {d.get('id')} given twice", "ORDER_LINE_DUPLICATE_ID")
                if not isinstance(d.get("accepted"), bool):
                    return _fail(400, "accepted is required", "VALIDATION_ERROR")
                seen[d.get("id")] = d["accepted"]
            lines = {ln["order_line_id"]: ln for ln in order["order_lines"]}
            if set(seen) - set(lines):
                return _fail(400, "Order line not found", "ORDER_LINE_NOT_FOUND")
            if set(lines) - set(seen):
                return _fail(400, "Every order line must be accepted or refused",
                             "ORDER_LINE_ACCEPTANCE_DECISION_MISSING")
            if len(set(seen.values())) > 1 and not inst.settings.get("partial_acceptance"):
                return _fail(400, "Partial acceptance is disabled", "ORDER_PARTIAL_ACCEPTANCE_DISABLED")
            now = self.now()
            order["acceptance_decision_date"] = self.stamp(now)
            for lid, ok in seen.items():
                lines[lid]["order_line_state"] = "WAITING_DEBIT_PAYMENT" if ok else "REFUSED"
            if any(seen.values()):
                self._state(order, "WAITING_DEBIT_PAYMENT", now)
                order["_debit_at"] = self.clock.time() + self.debit_delay
            else:
                self._state(order, "REFUSED", now)
            return "", 204

        @app.put("/<code>/api/orders/<order_id>/tracking")
        @guarded
        def tracking(inst: Instance, order_id: str):
            order = inst.orders.get(order_id)
            if order is None:
                return _fail(404, f"Order {order_id} not found", "ORDER_NOT_FOUND")
            if order["order_state"] not in ("SHIPPING", "SHIPPED", "TO_COLLECT"):
                return _fail(400, f"Order {order_id} cannot receive tracking in state {order['order_state']}",
                             "ORDER_INVALID_STATE")
            body = request.get_json(silent=True) or {}
            number = body.get("tracking_number") or ""
            if body.get("carrier_code"):
                carrier = next((c for c in inst.carriers if c["code"] == body["carrier_code"]), None)
                if carrier is None:
                    return _fail(400, f"Carrier {body['carrier_code']} does not exist", "VALIDATION_ERROR")
                order.update(shipping_carrier_code=carrier["code"], shipping_company=carrier["label"],
                             shipping_carrier_standard_code=carrier.get("standard_code"),
                             shipping_tracking_url=carrier["tracking_url"].replace("{trackingId}", number))
            elif body.get("carrier_name"):
                order.update(shipping_carrier_code=None, shipping_company=body["carrier_name"],
                             shipping_tracking_url=body.get("carrier_url"))
            else:
                return _fail(400, "carrier_code or carrier_name is required", "VALIDATION_ERROR")
            order["shipping_tracking"] = number
            order["last_updated_date"] = self.stamp()
            return "", 204

        @app.put("/<code>/api/orders/<order_id>/ship")
        @guarded
        def ship(inst: Instance, order_id: str):
            order = inst.orders.get(order_id)
            if order is None:
                return _fail(404, f"Order {order_id} not found", "ORDER_NOT_FOUND")
            if order["order_state"] != "SHIPPING":
                return _fail(400, f"Order {order_id} is not in state SHIPPING", "ORDER_INVALID_STATE")
            self._state(order, "SHIPPED")
            return "", 204

        @app.put("/<code>/api/orders/<order_id>/cancel")
        @guarded
        def cancel(inst: Instance, order_id: str):
            order = inst.orders.get(order_id)
            if order is None:
                return _fail(404, f"Order {order_id} not found", "ORDER_NOT_FOUND")
            if not order["can_cancel"]:
                return _fail(400, f"Order {order_id} cannot be canceled", "ORDER_INVALID_STATE")
            self._state(order, "CANCELED")
            return "", 204

        def _line(inst: Instance, line_id: str) -> tuple[dict[str, Any], dict[str, Any]] | tuple[None, None]:
            for order in inst.orders.values():
                for line in order["order_lines"]:
                    if line["order_line_id"] == line_id:
                        return order, line
            return None, None

        def _missing(item: dict[str, Any], fields: tuple[str, ...]) -> str | None:
            return next((f for f in fields if item.get(f) in (None, "")), None)

        @app.put("/<code>/api/orders/cancel")
        @guarded
        def cancel_lines(inst: Instance):
            """OR30: quantities of lines cancelled, each with a CANCELATION reason; a line wholly
            cancelled is CANCELED, and so is the order once every line is."""
            items = (request.get_json(silent=True) or {}).get("cancelations") or []
            if not items:
                return _fail(400, "cancelations is required")
            codes = {r["code"] for r in REASONS["CANCELATION"]}
            for item in items:  # all or nothing: checked before anything changes
                missing = _missing(item, ("amount", "order_line_id", "quantity", "reason_code", "shipping_amount"))
                if missing:
                    return _fail(400, f"{missing} is required")
                if item["reason_code"] not in codes:
                    return _fail(400, f"Unknown cancelation reason {item['reason_code']}")
                order, line = _line(inst, str(item["order_line_id"]))
                if line is None:
                    return _fail(404, f"Order line {item['order_line_id']} not found", "ORDER_LINE_NOT_FOUND")
                if order["order_state"] not in ("WAITING_DEBIT", "WAITING_DEBIT_PAYMENT", "SHIPPING"):
                    return _fail(400, f"Order {order['order_id']} cannot be canceled", "ORDER_INVALID_STATE")
                left = line["quantity"] - sum(c["quantity"] for c in line["cancelations"])
                if not 0 < int(item["quantity"]) <= left:
                    return _fail(400, f"Order line {line['order_line_id']}: {left} unit(s) left to cancel")
            out = []
            for item in items:
                order, line = _line(inst, str(item["order_line_id"]))
                inst.cancelations.append(item)
                made = {"id": f"CANC-{len(inst.cancelations)}", "amount": item["amount"],
                        "shipping_amount": item["shipping_amount"], "quantity": int(item["quantity"]),
                        "reason_code": item["reason_code"], "created_date": self.stamp(),
                        "taxes": item.get("taxes") or [], "shipping_taxes": item.get("shipping_taxes") or []}
                line["cancelations"].append(made)
                if sum(c["quantity"] for c in line["cancelations"]) >= line["quantity"]:
                    line["order_line_state"] = "CANCELED"
                if all(ln["order_line_state"] == "CANCELED" for ln in order["order_lines"]):
                    self._state(order, "CANCELED")
                out.append({"cancelation_id": made["id"], "order_line_id": line["order_line_id"],
                            "amount": item["amount"], "shipping_amount": item["shipping_amount"],
                            "quantity": made["quantity"], "reason_code": item["reason_code"],
                            "currency_iso_code": order["currency_iso_code"]})
            return jsonify({"cancelations": out, "order_tax_mode": "TAX_INCLUDED"}), 200

        @app.put("/<code>/api/orders/refund")
        @guarded
        def refund(inst: Instance):
            """OR28: refunds of shipped lines, each with a REFUND reason, never more than the line
            cost; kept on the line (``refunds`` of OR11)."""
            items = (request.get_json(silent=True) or {}).get("refunds") or []
            if not items:
                return _fail(400, "refunds is required")
            codes = {r["code"] for r in REASONS["REFUND"]}
            for item in items:
                missing = _missing(item, ("amount", "order_line_id", "reason_code", "shipping_amount"))
                if missing:
                    return _fail(400, f"{missing} is required")
                if item["reason_code"] not in codes:
                    return _fail(400, f"Unknown refund reason {item['reason_code']}")
                order, line = _line(inst, str(item["order_line_id"]))
                if line is None:
                    return _fail(404, f"Order line {item['order_line_id']} not found", "ORDER_LINE_NOT_FOUND")
                if order["order_state"] not in ("SHIPPED", "TO_COLLECT", "RECEIVED", "CLOSED"):
                    return _fail(400, f"Order {order['order_id']} cannot be refunded", "ORDER_INVALID_STATE")
                done = sum(float(r["amount"]) for r in line["refunds"])
                if float(item["amount"]) + done > float(line["price"]) + 0.005:
                    return _fail(400, f"Order line {line['order_line_id']}: refund above the line amount")
                if order["order_tax_mode"] == "TAX_INCLUDED" and line["taxes"] and not item.get("taxes"):
                    return _fail(400, "taxes is required: the order has taxes")
            out = []
            for item in items:
                order, line = _line(inst, str(item["order_line_id"]))
                inst.refunds.append(item)
                made = {"id": f"RF-{len(inst.refunds)}", "amount": item["amount"],
                        "shipping_amount": item["shipping_amount"], "quantity": int(item.get("quantity") or 0),
                        "reason_code": item["reason_code"], "created_date": self.stamp(), "state": "WAITING_REFUND",
                        "taxes": item.get("taxes") or [], "shipping_taxes": item.get("shipping_taxes") or []}
                line["refunds"].append(made)
                out.append({"refund_id": made["id"], "order_refund_id": f"OREF-{len(inst.refunds)}",
                            "order_line_id": line["order_line_id"], "amount": item["amount"],
                            "shipping_amount": item["shipping_amount"], "quantity": made["quantity"],
                            "reason_code": item["reason_code"], "currency_iso_code": order["currency_iso_code"]})
            return jsonify({"refunds": out, "order_tax_mode": "TAX_INCLUDED"}), 200

        @app.post("/<code>/api/shipments")
        @guarded
        def shipments(inst: Instance):
            if not inst.settings.get("multi_shipment"):
                return _fail(400, "Multiple shipments are not enabled on this platform")
            body = request.get_json(silent=True) or {}
            success, errors = [], []
            for item in body.get("shipments") or []:
                order = inst.orders.get(item.get("order_id", ""))
                if order is None or order["order_state"] != "SHIPPING":
                    errors.append({"order_id": item.get("order_id"), "message": "Order is not in state SHIPPING"})
                    continue
                shipment = {"id": f"SHP-{len(inst.shipments) + 1}", "order_id": order["order_id"], **item}
                inst.shipments.append(shipment)
                success.append({"id": shipment["id"], "order_id": order["order_id"],
                                "shipment_state": "SHIPPED" if item.get("shipped") else "SHIPPING"})
                shipped = {}
                for s in inst.shipments:
                    if s["order_id"] == order["order_id"] and s.get("shipped"):
                        for sl in s["shipment_lines"]:
                            shipped[sl["order_line_id"]] = shipped.get(sl["order_line_id"], 0) + sl["quantity"]
                if all(shipped.get(ln["order_line_id"], 0) >= ln["quantity"] for ln in order["order_lines"]):
                    self._state(order, "SHIPPED")
            return jsonify({"shipment_success": success, "shipment_errors": errors}), 201

        @app.get("/<code>/api/returns")
        @guarded
        def returns(inst: Instance):
            if not inst.settings.get("returns"):
                return _fail(403, "The returns module is not enabled on this platform")
            limit = int(request.args.get("limit", 10))
            if not 1 <= limit <= 100:
                return _fail(400, "limit must be between 1 and 100")
            start = int(request.args.get("page_token") or 0)
            found = inst.returns
            if request.args.getlist("return_id"):
                found = [r for r in found if r["id"] in request.args.getlist("return_id")]
            if request.args.getlist("return_state"):
                found = [r for r in found if r["state"] in request.args.getlist("return_state")]
            if request.args.get("return_last_updated_from"):
                bound = _parse(request.args["return_last_updated_from"])
                found = [r for r in found if _parse(r["last_updated"]) >= bound]
            rows = found[start:start + limit]
            nxt = str(start + limit) if start + limit < len(found) else None
            return jsonify({"data": rows, "next_page_token": nxt})

        @app.put("/<code>/api/returns/accept")
        @guarded
        def accept_returns(inst: Instance):
            """RT21: return requests accepted (to come back) or refused with a rejection reason,
            100 at most a call; each answered apart, in ``return_success`` or ``return_errors``."""
            if not inst.settings.get("returns"):
                return _fail(403, "The returns module is not enabled on this platform")
            items = (request.get_json(silent=True) or {}).get("returns")
            if not isinstance(items, list) or not 1 <= len(items) <= 100:
                return _fail(400, "returns must hold between 1 and 100 returns")
            success, errors = [], []
            with self.lock:
                by_id = {r["id"]: r for r in inst.returns}
                for item in items:
                    if not isinstance(item, dict) or "id" not in item or not isinstance(item.get("accepted"), bool):
                        return _fail(400, "id and accepted are required for each return")
                    ret = by_id.get(str(item["id"]))
                    if ret is None:
                        errors.append({"id": str(item["id"]), "message": "Return not found"})
                        continue
                    if ret["state"] != "WAITING_ACCEPTANCE":
                        errors.append({"id": ret["id"], "message": f"Return is in state {ret['state']}"})
                        continue
                    if item["accepted"]:
                        ret["state"] = "IN_PROGRESS"
                    else:
                        code = item.get("rejection_reason_code")
                        if code not in REJECTIONS:
                            errors.append({"id": ret["id"], "message": "A valid rejection_reason_code is required"})
                            continue
                        ret["state"], ret["rejection_reason_code"] = "REFUSED", code
                    ret["last_updated"] = self.stamp()
                    success.append({"id": ret["id"]})
            return jsonify({"return_success": success, "return_errors": errors})

        @app.post(f"{CONTROL_PREFIX}returns")
        def control_add_return():
            """A customer's return request on an order: ``{"instance", "order_id", "state"?,
            "reason_code"?}`` (the order's first line, one unit)."""
            body = request.get_json(silent=True) or {}
            inst = self.instances.get(str(body.get("instance") or ""))
            order = inst.orders.get(str(body.get("order_id") or "")) if inst else None
            if order is None:
                return _fail(404, "Unknown instance or order")
            line = order["order_lines"][0]
            made = self.add_return(inst.code, order["order_id"], [(line["order_line_id"], 1)],
                                   state=str(body.get("state") or "WAITING_ACCEPTANCE"),
                                   reason_code=str(body.get("reason_code") or "RETURN_DPD_WRONG_SIZE"))
            return jsonify(made), 201

        # -------------------------------------------------------------- offers and stock
        @app.post("/<code>/api/offers/stock/imports")
        @guarded
        def stock_import(inst: Instance):
            now = self.clock.time()
            if inst.last_stock_import is not None and now - inst.last_stock_import < 60:
                res = _fail(429, "Too Many Requests: stock imports are limited to one per minute")
                if self.retry_after:
                    res.headers["Retry-After"] = str(int(60 - (now - inst.last_stock_import)) + 1)
                return res
            upload = request.files.get("file")
            if upload is None:
                return _fail(400, "The file parameter is required")
            text = upload.read().decode("utf-8")
            rows = list(csv.reader(io.StringIO(text), delimiter=";"))
            if not rows or [h.strip() for h in rows[0]][:2] != ["offer-sku", "quantity"]:
                return _fail(400, "Invalid file: the header must start with offer-sku;quantity")
            inst.last_stock_import = now
            import_id = str(len(inst.imports) + 1 + 1000 * list(self.instances).index(inst.code))
            inst.imports[import_id] = {"import_id": import_id, "created": now, "header": rows[0], "lines": rows[1:],
                                       "status": "WAITING", "applied": False, "errors": []}
            res = jsonify({"import_id": import_id})
            res.status_code = 201
            res.headers["Location"] = f"{request.url_root.rstrip('/')}/{inst.code}/api/offers/stock/imports/{import_id}"
            return res

        def _process(inst: Instance, imp: dict[str, Any]) -> None:
            if imp["applied"]:
                return
            head = [h.strip() for h in imp["header"]]
            for line in imp["lines"]:
                row = dict(zip(head, line))
                sku, qty = row.get("offer-sku", ""), row.get("quantity", "")
                if sku not in inst.offers:
                    imp["errors"].append(line + ["The offer does not exist"])
                elif not qty.isdigit():
                    imp["errors"].append(line + ["The quantity must be a positive integer"])
                else:
                    inst.offers[sku]["quantity"] = int(qty)
            imp["applied"] = True

        @app.get("/<code>/api/offers/stock/imports/<import_id>/status")
        @guarded
        def stock_status(inst: Instance, import_id: str):
            imp = inst.imports.get(import_id)
            if imp is None:
                return _fail(404, f"Import {import_id} not found")
            self.status_reads.append(self.clock.time())
            age = self.clock.time() - imp["created"]
            if age < self.import_delay / 2:
                status = "WAITING"
            elif age < self.import_delay:
                status = "RUNNING"
            else:
                _process(inst, imp)
                status = "COMPLETE"
            done = len(imp["lines"]) - len(imp["errors"]) if imp["applied"] else 0
            return jsonify({"import_id": import_id, "shop_id": inst.shop_id, "status": status,
                            "date_created": self.stamp(datetime.fromtimestamp(imp["created"], tz=timezone.utc)),
                            "has_error_report": bool(imp["errors"]), "lines_in_success": done,
                            "lines_in_error": len(imp["errors"])})

        @app.get("/<code>/api/offers/stock/imports/<import_id>/error_report")
        @guarded
        def stock_errors(inst: Instance, import_id: str):
            imp = inst.imports.get(import_id)
            if imp is None or not imp["errors"]:
                return _fail(404, "No error report for this import")
            out = io.StringIO()
            writer = csv.writer(out, delimiter=";", lineterminator="\n")
            writer.writerow([*imp["header"], "error-message"])
            writer.writerows(imp["errors"])
            return Response(out.getvalue(), mimetype="text/csv")

        @app.post("/<code>/api/offers")
        @guarded
        def offers_import(inst: Instance):
            """OF24: every field not sent is reset to its default (quantity 0, description gone…)."""
            body = request.get_json(silent=True) or {}
            for item in body.get("offers") or []:
                sku = item.get("shop_sku")
                if item.get("update_delete") == "delete":
                    inst.offers.pop(sku, None)
                    continue
                kept = {"shop_sku": sku, "prices": inst.offers.get(sku, {}).get("prices", [])}
                inst.offers[sku] = {**kept, **OFFER_DEFAULTS, **item}
            import_id = f"OF-{len(inst.imports) + 1}"
            inst.imports[import_id] = {"import_id": import_id, "created": self.clock.time(), "header": [], "lines": [],
                                       "status": "COMPLETE", "applied": True, "errors": []}
            return jsonify({"import_id": import_id}), 201

        @app.post("/<code>/api/offers/pricing/imports")
        @guarded
        def pricing_import(inst: Instance):
            """PRI01: delete-and-replace — the prices of an offer are the file's lines, no others."""
            upload = request.files.get("file")
            if upload is None:
                return _fail(400, "The file parameter is required")
            rows = list(csv.reader(io.StringIO(upload.read().decode("utf-8")), delimiter=";"))
            head = [h.strip() for h in rows[0]] if rows else []
            replaced: dict[str, list[dict[str, Any]]] = {}
            for line in rows[1:]:
                row = dict(zip(head, line))
                replaced.setdefault(row.get("offer-sku", ""), []).append(
                    {"price": row.get("price"), "discount_price": row.get("discount-price") or None,
                     "channel_code": row.get("channel-code") or None})
            for sku, prices in replaced.items():
                if sku in inst.offers:
                    inst.offers[sku]["prices"] = prices
                    inst.offers[sku]["price"] = prices[0]["price"]
            import_id = f"PRI-{len(inst.imports) + 1}"
            inst.imports[import_id] = {"import_id": import_id, "created": self.clock.time(), "header": head,
                                       "lines": rows[1:], "status": "COMPLETE", "applied": True, "errors": []}
            return jsonify({"import_id": import_id}), 201

        @app.get("/<code>/api/offers")
        @guarded
        def offers_list(inst: Instance):
            paging = page_args()
            if isinstance(paging, Response):
                return paging
            offset, size = paging
            rows = sorted(inst.offers.values(), key=lambda o: o["shop_sku"])
            return jsonify({"offers": [{
                "offer_id": 1000 + index, "shop_sku": o["shop_sku"], "product_sku": o.get("product_id"),
                "product_title": o.get("product_title") or f"Article {o['shop_sku']}",
                "product_references": [{"reference": o["ean"], "reference_type": "EAN"}] if o.get("ean") else [],
                "quantity": o.get("quantity", 0), "price": float(o.get("price") or 0), "active": True,
                "state_code": o.get("state_code", "11"), "currency_iso_code": "EUR",
                "description": o.get("description")} for index, o in enumerate(rows[offset:offset + size], start=offset)],
                "total_count": len(rows)})


def _parse(value: str) -> datetime:
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def make_app(clock: Any = None) -> Flask:
    """The demo's emulator: the demo catalogue on sale at Carrefour and Leroy Merlin, and a
    few customers ordering (a burst at start-up, then one every 20 minutes at most)."""
    emulator = Emulator(clock=clock, demo=True, debit_delay=30.0, import_delay=10.0)
    emulator.seed_demo()
    return emulator.app


def emulator_of(app: Flask) -> Emulator:
    return app.extensions["mirakl_emulator"]


def load_demo(organization, shops, base_url: str) -> None:
    """The demo connects two operators: the add-on's demo shop becomes Carrefour, and a
    second shop sells on Leroy Merlin, each pointed at its instance of the emulator."""
    from flask import current_app
    from wtforms import PasswordField

    from core.extensions import db
    from core.jobs import enqueue
    from core.services import create_shop, save_settings

    from .forms import SettingsForm

    with current_app.test_request_context():
        secrets = {f.name for f in SettingsForm(meta={"csrf": False}) if isinstance(f, PasswordField)}
    shop = next((s for s in shops if s.addon == "mirakl"), None)
    if shop is None:
        return
    shop.name, shop.marketplace = "Carrefour — démo", "carrefour"
    save_settings(shop, "mirakl", settings_for(base_url, "carrefour"), secrets)
    second = create_shop(organization, "mirakl", "Leroy Merlin — démo", marketplace="leroymerlin",
                         sync_mode="every_15_min")
    db.session.flush()
    save_settings(second, "mirakl", settings_for(base_url, "leroymerlin"), secrets)
    enqueue("core.services.connection_test_job", second.id, "mirakl", shop_id=second.id, delay=3,
            retries=5, intervals=(5, 10, 30, 60, 120))
