"""Emulator of a PrestaShop shop's webservice (``/api/``), speaking its XML and JSON.

* Authentication: the key as HTTP Basic user (empty password) or ``ws_key``; a shop told
  ``strip_auth`` loses the ``Authorization`` header (Apache in CGI/FastCGI): 401 with
  PrestaShop's ``WWW-Authenticate`` realm and error body.
* ``GET /api/``: the shop's name and the key's permissions per resource (XML).
* Resources ``orders``, ``order_states``, ``order_histories``, ``order_carriers``,
  ``customers``, ``addresses``, ``countries``, ``currencies``, ``products``, ``combinations``,
  ``stock_availables``, ``order_slip`` (credit slips, listed as ``order_slips``, with their
  ``order_slip_details``; read only, made by :meth:`PrestaEmulator.add_slip` or the
  storefront's "Rembourser" button as the back office makes them): ``display=full|[f1,f2]``, ``filter[field]=[a|b]`` (OR) or ``[a,b]``
  (interval; on a date field only with ``date=1``), ``sort=[field_ASC]``, ``limit=offset,count``,
  ``output_format=JSON`` (``[]`` for an empty list, translated fields as ``[{id, value}]``),
  XML otherwise; writes are XML bodies.
* ``POST /api/order_histories?sendemail=1`` changes the order's state and sends the state's
  e-mail (only with ``sendemail=1``); ``PUT /api/stock_availables/{id}`` without ``id_shop``
  writes 0, as PrestaShop does; ``POST``/``DELETE`` on stock_availables are refused.
* Dates are the shop's local time (Europe/Paris). ``PSWS-Version`` on every answer. Faults
  on demand through the kit. ``GET /`` shows the orders as the customers follow them.
"""
from __future__ import annotations

import random
import re
import threading
import time
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, Response, jsonify, redirect, render_template_string, request

from core.connectors.emulator import EmulatorKit, ManualClock, SystemClock  # noqa: F401 (ManualClock: the tests')

from . import xmlio

DEMO_KEY = "OMSDEMOKEY0PRESTASHOP0WEBSERVICE"[:32]
PS_VERSION = "8.1.7"
TZ = ZoneInfo("Europe/Paris")
FIRST_ORDER_ID = 7301
REALM = 'Basic realm="Welcome to PrestaShop Webservice, please enter the authentication key as the login. No password required."'
RESOURCES = ("orders", "order_states", "order_histories", "order_carriers", "customers", "addresses", "countries",
             "currencies", "products", "combinations", "stock_availables", "carriers", "order_slip")
SINGULAR = {"orders": "order", "order_states": "order_state", "order_histories": "order_history",
            "order_carriers": "order_carrier", "customers": "customer", "addresses": "address",
            "countries": "country", "currencies": "currency", "products": "product", "combinations": "combination",
            "stock_availables": "stock_available", "carriers": "carrier", "order_slip": "order_slip"}
#: a list's node when it is not the resource's name (``objectsNodeName`` of classes/order/OrderSlip.php)
LIST_NODES = {"order_slip": "order_slips"}
DATE_FIELDS = {"date_add", "date_upd"}
LANG_FIELDS = {"name", "template"}
#: PrestaShop's default order states (id, name, template, paid, shipped, delivery, logable)
STATES = [(1, "En attente du paiement par chèque", "cheque", 0, 0, 0, 0),
          (2, "Paiement accepté", "payment", 1, 0, 0, 1),
          (3, "En cours de préparation", "preparation", 1, 0, 0, 1),
          (4, "Expédié", "shipped", 1, 1, 1, 1),
          (5, "Livré", "", 1, 1, 1, 1),
          (6, "Annulé", "order_canceled", 0, 0, 0, 0),
          (7, "Remboursé", "refund", 1, 0, 0, 1),
          (8, "Erreur de paiement", "payment_error", 0, 0, 0, 0),
          (10, "En attente de paiement par virement bancaire", "bankwire", 0, 0, 0, 0),
          (11, "Paiement à distance accepté", "payment", 1, 0, 0, 1)]


def error_body(status: int) -> dict[str, Any]:
    return {"errors": [{"code": status, "message": {429: "Too Many Requests", 503: "Service Unavailable"}.get(
        status, "Internal error")}]}


def ps_error(status: int, code: int, message: str, json_out: bool) -> Response:
    if json_out:
        res = jsonify({"errors": [{"code": code, "message": message}]})
    else:
        root = ET.Element("prestashop", {"xmlns:xlink": xmlio.XLINK})
        err = ET.SubElement(ET.SubElement(root, "errors"), "error")
        ET.SubElement(err, "code").text = str(code)
        ET.SubElement(err, "message").text = message
        res = Response(b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root), mimetype="text/xml")
    res.status_code = status
    if status == 401:
        res.headers["WWW-Authenticate"] = REALM
    return res


class PrestaEmulator:
    """An in-memory PrestaShop shop and its Flask app (``self.app``)."""

    def __init__(self, *, clock: Any = None, key: str = DEMO_KEY, strip_auth: bool = False,
                 shop_name: str = "Boutique PrestaShop de démonstration", permissions: dict[str, str] | None = None,
                 id_shop: int = 1) -> None:
        self.clock = clock or SystemClock()
        self.keys = {key}
        self.strip_auth = strip_auth
        self.shop_name = shop_name
        self.id_shop = id_shop
        self.permissions = permissions
        self.lock = threading.RLock()
        self.tables: dict[str, dict[int, dict[str, Any]]] = {r: {} for r in RESOURCES}
        self.emails: list[tuple[int, str]] = []
        self._ids: dict[str, int] = {r: 0 for r in RESOURCES}
        self._ids["orders"] = FIRST_ORDER_ID - 1
        #: ``id_order_detail``: one sequence for every order's rows, as PrestaShop's table
        self._ids["order_details"] = 0
        self.puts: list[tuple[str, dict[str, Any]]] = []
        self.rng = random.Random(9)
        for sid, name, template, paid, shipped, delivery, logable in STATES:
            self.tables["order_states"][sid] = {"id": sid, "name": {"1": name}, "template": {"1": template},
                                                "paid": str(paid), "shipped": str(shipped),
                                                "delivery": str(delivery), "logable": str(logable),
                                                "send_email": "1" if template else "0", "deleted": "0"}
        self.tables["countries"][8] = {"id": 8, "iso_code": "FR", "active": "1"}
        self.tables["countries"][3] = {"id": 3, "iso_code": "BE", "active": "1"}
        self.tables["currencies"][1] = {"id": 1, "iso_code": "EUR"}
        self.tables["carriers"][2] = {"id": 2, "name": "Colissimo", "url": "https://www.laposte.fr/outils/suivre-vos-"
                                      "envois?code=@", "deleted": "0"}
        self.app = self._build_app()
        self.kit: EmulatorKit = self.app.extensions["emulator"]

    # ------------------------------------------------------------------ helpers (tests, demo)
    def local_now(self) -> str:
        return datetime.fromtimestamp(self.clock.time(), timezone.utc).astimezone(TZ).strftime("%Y-%m-%d %H:%M:%S")

    def _insert(self, resource: str, row: dict[str, Any]) -> dict[str, Any]:
        self._ids[resource] = max(self._ids[resource], max(self.tables[resource], default=0)) + 1
        row["id"] = self._ids[resource]
        self.tables[resource][row["id"]] = row
        return row

    def add_product(self, name: str, reference: str = "", quantity: int = 10, price: str = "19.90",
                    combinations: list[dict[str, Any]] | None = None, ean13: str = "") -> dict[str, Any]:
        with self.lock:
            product = self._insert("products", {"name": {"1": name}, "reference": reference, "ean13": ean13,
                                                "price": price, "active": "1", "quantity": "0"})
            rows = []
            for combo in combinations or []:
                c = self._insert("combinations", {"id_product": product["id"], "reference": combo["reference"],
                                                  "ean13": combo.get("ean13", ""), "price": "0.000000",
                                                  "quantity": "0"})
                rows.append((c["id"], combo.get("quantity", 0)))
            total = sum(q for _c, q in rows) if rows else quantity
            for aid, qty in [(0, total)] + rows:
                self._insert("stock_availables", {"id_product": product["id"], "id_product_attribute": aid,
                                                  "id_shop": self.id_shop, "id_shop_group": 0, "quantity": qty,
                                                  "depends_on_stock": "0", "out_of_stock": "2",
                                                  "location": ""})
            return product

    def stock_of(self, reference: str) -> int | None:
        for p in self.tables["products"].values():
            if p["reference"] == reference:
                return next(int(s["quantity"]) for s in self.tables["stock_availables"].values()
                            if s["id_product"] == p["id"] and s["id_product_attribute"] == 0)
        for c in self.tables["combinations"].values():
            if c["reference"] == reference:
                return next(int(s["quantity"]) for s in self.tables["stock_availables"].values()
                            if s["id_product"] == c["id_product"] and s["id_product_attribute"] == c["id"])
        return None

    def _find(self, reference: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
        for c in self.tables["combinations"].values():
            if c["reference"] == reference:
                return self.tables["products"][c["id_product"]], c
        for p in self.tables["products"].values():
            if p["reference"] == reference:
                return p, None
        return {"id": 0, "name": {"1": reference}, "price": "10.00"}, None

    def place_order(self, lines: list[tuple[str, int]], *, email: str = "client@exemple.fr",
                    name: tuple[str, str] = ("Hugo", "Lambert"), state: int = 2, city: str = "Nantes",
                    postcode: str = "44000") -> dict[str, Any]:
        with self.lock:
            customer = next((c for c in self.tables["customers"].values() if c["email"] == email), None) or \
                self._insert("customers", {"email": email, "firstname": name[0], "lastname": name[1]})
            address = self._insert("addresses", {"id_customer": customer["id"], "id_country": 8, "alias": "Mon adresse",
                                                 "company": "", "firstname": name[0], "lastname": name[1],
                                                 "address1": f"{self.rng.randint(1, 90)} rue Crébillon",
                                                 "address2": "", "postcode": postcode, "city": city,
                                                 "phone": "", "phone_mobile": "0611223344"})
            rows, total = [], 0.0
            for ref, qty in lines:
                product, combo = self._find(ref)
                price = float(product.get("price") or 10)
                total += price * qty
                self._ids["order_details"] += 1
                rows.append({"id": self._ids["order_details"], "product_id": product["id"], "product_attribute_id": combo["id"] if combo else 0,
                             "product_quantity": qty, "product_name": xmlio._text(product["name"]["1"]),
                             "product_reference": ref, "product_ean13": (combo or product).get("ean13", ""),
                             "product_price": f"{price:.6f}", "unit_price_tax_incl": f"{price:.6f}",
                             "unit_price_tax_excl": f"{price / 1.2:.6f}"})
            now = self.local_now()
            reference = "".join(self.rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(9))
            order = self._insert("orders", {
                "id_address_delivery": address["id"], "id_address_invoice": address["id"], "id_cart": 0,
                "id_currency": 1, "id_lang": 1, "id_customer": customer["id"], "id_carrier": 2, "current_state": state,
                "module": "ps_checkout", "payment": "Carte bancaire", "valid": "1" if state in (2, 3, 4, 5) else "0",
                "date_add": now, "date_upd": now, "id_shop": self.id_shop, "reference": reference,
                "total_discounts": "0.000000", "total_paid": f"{total + 6.9:.6f}",
                "total_paid_tax_incl": f"{total + 6.9:.6f}", "total_paid_tax_excl": f"{(total + 6.9) / 1.2:.6f}",
                "total_products": f"{total / 1.2:.6f}", "total_products_wt": f"{total:.6f}",
                "total_shipping": "6.900000", "total_shipping_tax_incl": "6.900000", "shipping_number": "",
                "associations": {"order_rows": rows}})
            self._insert("order_carriers", {"id_order": order["id"], "id_carrier": 2, "id_order_invoice": 0,
                                            "weight": "0.500000", "shipping_cost_tax_excl": "5.750000",
                                            "shipping_cost_tax_incl": "6.900000", "tracking_number": "",
                                            "date_add": now})
            self._insert("order_histories", {"id_order": order["id"], "id_order_state": state, "id_employee": 0,
                                             "date_add": now})
            return order

    def set_state(self, oid: int, state: int, *, email: bool = False) -> None:
        with self.lock:
            order = self.tables["orders"][oid]
            order["current_state"], order["date_upd"] = state, self.local_now()
            self._insert("order_histories", {"id_order": oid, "id_order_state": state, "id_employee": 0,
                                             "date_add": order["date_upd"]})
            template = self.tables["order_states"][state]["template"]["1"]
            if email and template:
                self.emails.append((oid, template))

    def add_slip(self, oid: int, lines: list[tuple[str | int, int]] = (), *, shipping: bool = False,
                 partial: bool = False, amount: str | None = None, shipping_amount: str | None = None) \
            -> dict[str, Any]:
        """A credit slip as the back office makes one. ``lines``: (product reference or
        ``id_order_detail``, units). PrestaShop 1.7.7+ (standard refund, return of products,
        partial refund) fills the totals; ``partial=True`` is the older partial refund
        (``OrderSlip::createPartialOrderSlip``): totals at 0, the goods' refund in ``amount``
        and the shipping's in ``shipping_cost_amount``."""
        with self.lock:
            order = self.tables["orders"][oid]
            rows = order["associations"]["order_rows"]
            details = []
            for key, qty in lines:
                row = next(r for r in rows if str(r["id"]) == str(key) or r["product_reference"] == key)
                incl = float(row["unit_price_tax_incl"]) * qty
                details.append({"id_order_detail": str(row["id"]), "product_quantity": str(qty),
                                "amount_tax_excl": f"{incl / 1.2:.6f}", "amount_tax_incl": f"{incl:.6f}"})
            products = sum(float(d["amount_tax_incl"]) for d in details)
            ship = float(order["total_shipping_tax_incl"]) if shipping else 0.0
            now = self.local_now()
            slip = {"id_customer": order["id_customer"], "id_order": oid, "conversion_rate": "1.000000",
                    "date_add": now, "date_upd": now, "order_slip_type": "2" if ship else "0"}
            if partial:
                goods = float(amount) if amount is not None else products
                ship = float(shipping_amount or 0)
                slip.update(total_products_tax_excl="0.000000", total_products_tax_incl="0.000000",
                            total_shipping_tax_excl="0.000000", total_shipping_tax_incl="0.000000",
                            amount=f"{goods:.6f}", shipping_cost="0", shipping_cost_amount=f"{ship:.6f}", partial="1")
            else:
                slip.update(total_products_tax_excl=f"{products / 1.2:.6f}", total_products_tax_incl=f"{products:.6f}",
                            total_shipping_tax_excl=f"{ship / 1.2:.6f}", total_shipping_tax_incl=f"{ship:.6f}",
                            amount=f"{products / 1.2:.6f}", shipping_cost="1" if ship else "0",
                            shipping_cost_amount=f"{ship:.6f}", partial="0")
            slip = self._insert("order_slip", slip)
            # getWsOrderSlipDetails: ``id_order_slip as id``, then the detail's own fields
            slip["associations"] = {"order_slip_details": [{"id": str(slip["id"]), **d} for d in details]}
            return slip

    # ------------------------------------------------------------------ the app
    def _render(self, resource: str, rows: list[dict[str, Any]], fields: list[str] | None, json_out: bool,
                single: bool = False) -> Response:
        def shape(row: dict[str, Any]) -> dict[str, Any]:
            out = {k: v for k, v in row.items() if fields is None or k in fields or k == "id"}
            if json_out:
                for key in LANG_FIELDS & set(out):
                    if isinstance(out[key], dict):
                        out[key] = [{"id": i, "value": v} for i, v in out[key].items()]
                out = {k: (v if k == "id" or isinstance(v, (dict, list)) else xmlio._text(v)) for k, v in out.items()}
            return out

        if json_out:
            if single:
                return jsonify({SINGULAR[resource]: shape(rows[0])})
            node = LIST_NODES.get(resource, resource)
            if not rows:
                return jsonify([])
            if fields is None and not request.args.get("display"):
                return jsonify({node: [{"id": r["id"]} for r in rows]})
            return jsonify({node: [shape(r) for r in rows]})
        root = ET.Element("prestashop", {"xmlns:xlink": xmlio.XLINK})
        target = root if single else ET.SubElement(root, LIST_NODES.get(resource, resource))
        for row in rows:
            xmlio._fill(target, {SINGULAR[resource]: shape(row)})
        return Response(b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root), mimetype="text/xml")

    def _query(self, resource: str, json_out: bool) -> list[dict[str, Any]] | Response:
        rows = list(self.tables[resource].values())
        dated = request.args.get("date") == "1"
        for key, value in request.args.items():
            found = re.fullmatch(r"filter\[(\w+)\]", key)
            if not found:
                continue
            field = found.group(1)
            if field in DATE_FIELDS and not dated:
                return ps_error(400, 33, f"Unable to filter by {field}: use date=1 to filter on dates", json_out)
            inner = value.strip()
            if not (inner.startswith("[") and inner.endswith("]")):
                rows = [r for r in rows if str(r.get(field)) == inner]
                continue
            inner = inner[1:-1]
            if "," in inner and "|" not in inner:
                low, high = inner.split(",", 1)
                rows = [r for r in rows if low <= str(r.get(field)) <= high] if field in DATE_FIELDS else \
                    [r for r in rows if float(low) <= float(r.get(field) or 0) <= float(high)]
            else:
                wanted = set(inner.split("|"))
                rows = [r for r in rows if str(r.get(field)) in wanted]
        if request.args.get("sort"):
            keys = [k for k in request.args["sort"].strip("[]").split(",") if k]
            for spec in reversed(keys):
                field, _, way = spec.rpartition("_")
                if field in DATE_FIELDS and not dated:
                    return ps_error(400, 33, f"Unable to sort by {field}: use date=1 to sort on dates", json_out)
                rows.sort(key=lambda r: (str(r.get(field)) if field in DATE_FIELDS else float(r.get(field) or 0)),
                          reverse=way.upper() == "DESC")
        else:
            rows.sort(key=lambda r: r["id"])
        limit = request.args.get("limit")
        if limit:
            offset, _, count = limit.rpartition(",")
            start = int(offset or 0)
            rows = rows[start:start + int(count)]
        return rows

    def _build_app(self) -> Flask:
        app = Flask(__name__)
        app.extensions["prestashop_emulator"] = self
        EmulatorKit("prestashop", clock=self.clock, error_body=error_body).attach(app)
        emu = self

        @app.before_request
        def _auth():
            if not request.path.startswith("/api"):
                return None
            json_out = request.args.get("output_format") == "JSON"
            key = None
            if request.authorization and not emu.strip_auth:
                key = request.authorization.username
            elif request.args.get("ws_key"):
                key = request.args["ws_key"]
            if not key:
                return ps_error(401, 17, "Authentication key is empty", json_out)
            if key not in emu.keys:
                return ps_error(401, 18, "Invalid authentication key", json_out)
            parts = request.path.removeprefix("/api").strip("/").split("/")
            if emu.permissions and parts[0] in emu.permissions:  # WebserviceRequest::checkResource, checkHTTPMethod
                granted = emu.permissions[parts[0]]
                if not granted:
                    return ps_error(401, 26, f'Resource of type "{parts[0]}" is not allowed with this authentication '
                                    "key", json_out)
                if request.method.lower() not in granted:
                    return ps_error(405, 25, f"Method {request.method} is not allowed for the resource {parts[0]} "
                                    "with this authentication key", json_out)
            return None

        @app.after_request
        def _version(response):
            if request.path.startswith("/api"):
                response.headers["PSWS-Version"] = PS_VERSION
            return response

        @app.get("/api/")
        @app.get("/api")
        def root():
            top = ET.Element("prestashop", {"xmlns:xlink": xmlio.XLINK})
            api = ET.SubElement(top, "api", {"shopName": emu.shop_name})
            for resource in RESOURCES:
                if emu.permissions and resource in emu.permissions and not emu.permissions[resource]:
                    continue  # a resource the key is not given is not listed
                rights = {m: "true" for m in ("get", "put", "post", "delete", "head")}
                if emu.permissions and resource in emu.permissions:
                    rights = {m: ("true" if m in emu.permissions[resource] else "false") for m in rights}
                ET.SubElement(api, resource, {"{%s}href" % xmlio.XLINK: f"{request.host_url}api/{resource}", **rights})
            return Response(b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(top), mimetype="text/xml")

        @app.route("/api/<resource>", methods=["GET", "POST", "DELETE"])
        def collection(resource: str):
            json_out = request.args.get("output_format") == "JSON"
            if resource not in RESOURCES:
                return ps_error(400, 22, f"Resource of type \"{resource}\" does not exists", json_out)
            if request.method == "GET":
                display = request.args.get("display")
                fields = None if display in (None, "full") else display.strip("[]").split(",")
                with emu.lock:
                    rows = emu._query(resource, json_out)
                if isinstance(rows, Response):
                    return rows
                return emu._render(resource, rows, fields, json_out)
            if resource == "stock_availables":
                return ps_error(405, 90, "Method not allowed: stock_availables are created by PrestaShop", json_out)
            if resource != "order_histories" or request.method != "POST":
                return ps_error(405, 90, "Method not allowed", json_out)
            try:
                name, fields = xmlio.loads(request.get_data())
            except (ValueError, ET.ParseError):
                return ps_error(400, 127, "XML error: the body could not be read", json_out)
            if name != "order_history" or not fields.get("id_order") or not fields.get("id_order_state"):
                return ps_error(400, 41, "parameter \"id_order\" and \"id_order_state\" required", json_out)
            oid, state = int(fields["id_order"]), int(fields["id_order_state"])
            with emu.lock:
                if oid not in emu.tables["orders"] or state not in emu.tables["order_states"]:
                    return ps_error(400, 87, "Invalid id_order or id_order_state", json_out)
                emu.set_state(oid, state, email=request.args.get("sendemail") == "1")
                history = max(emu.tables["order_histories"].values(), key=lambda h: h["id"])
            res = emu._render("order_histories", [history], None, json_out, single=True)
            res.status_code = 201
            return res

        @app.route("/api/<resource>/<int:rid>", methods=["GET", "PUT", "PATCH", "DELETE"])
        def item(resource: str, rid: int):
            json_out = request.args.get("output_format") == "JSON"
            if resource not in RESOURCES:
                return ps_error(400, 22, f"Resource of type \"{resource}\" does not exists", json_out)
            with emu.lock:
                row = emu.tables[resource].get(rid)
                if row is None:
                    return ps_error(404, 87, f"Id(s) not exists: {rid}", json_out)
                if request.method == "GET":
                    return emu._render(resource, [row], None, json_out, single=True)
                if request.method == "DELETE" or resource not in ("order_carriers", "stock_availables"):
                    return ps_error(405, 90, "Method not allowed", json_out)
                try:
                    name, fields = xmlio.loads(request.get_data())
                except (ValueError, ET.ParseError):
                    return ps_error(400, 127, "XML error: the body could not be read", json_out)
                if name != SINGULAR[resource] or str(fields.get("id")) != str(rid):
                    return ps_error(400, 90, "id is required when modifying a resource", json_out)
                emu.puts.append((resource, fields))
                if resource == "stock_availables":
                    if not fields.get("id_shop"):  # PrestaShop's own behaviour (issue #18953)
                        row["quantity"] = 0
                    else:
                        row["quantity"] = int(fields.get("quantity") or 0)
                else:
                    for required in ("id_order", "id_carrier"):
                        if not fields.get(required):
                            return ps_error(400, 41, f"parameter \"{required}\" required", json_out)
                    row["tracking_number"] = fields.get("tracking_number", "")
                    order = emu.tables["orders"].get(int(row["id_order"]))
                    if order is not None:
                        order["shipping_number"] = row["tracking_number"]
                return emu._render(resource, [row], None, json_out, single=True)

        @app.post("/orders/<int:oid>/slip")
        def refund_all(oid: int):
            """The back office's "Remboursement standard" of a whole order (the demo's button)."""
            with emu.lock:
                order = emu.tables["orders"].get(oid)
                if order is None:
                    return ps_error(404, 87, f"Id(s) not exists: {oid}", False)
                emu.add_slip(oid, [(r["id"], int(r["product_quantity"])) for r in order["associations"]["order_rows"]],
                             shipping=True)
            return redirect("/")

        @app.get("/")
        def storefront():
            with emu.lock:
                states = {sid: s["name"]["1"] for sid, s in emu.tables["order_states"].items()}
                rows = [{"order": o, "state": states.get(int(o["current_state"]), ""),
                         "tracking": next((c["tracking_number"] for c in emu.tables["order_carriers"].values()
                                           if c["id_order"] == o["id"]), ""),
                         "emails": [t for oid, t in emu.emails if oid == o["id"]],
                         "slips": [sl for sl in emu.tables["order_slip"].values() if sl["id_order"] == o["id"]],
                         "customer": emu.tables["customers"].get(o["id_customer"], {})}
                        for o in sorted(emu.tables["orders"].values(), key=lambda o: o["id"], reverse=True)[:100]]
            return render_template_string(ORDERS_PAGE, rows=rows, shop=emu.shop_name)

        return app


ORDERS_PAGE = """<!doctype html><html lang="fr"><head><meta charset="utf-8"><title>{{ shop }}</title>
<style>body{font:15px system-ui,sans-serif;margin:2rem}table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.5rem;border-bottom:1px solid #ddd;vertical-align:top}small{color:#777}</style></head>
<body><h1>{{ shop }}</h1><p><small>Émulateur PrestaShop : les commandes telles que les clients les suivent
(état, numéro de suivi, e-mails envoyés).</small></p><table><thead><tr><th>Référence</th><th>Client</th><th>Articles</th>
<th>État</th><th>Suivi</th><th>Avoirs</th></tr></thead><tbody>{% for r in rows %}<tr data-order="{{ r.order.reference }}">
<td><strong>{{ r.order.reference }}</strong></td><td>{{ r.customer.firstname }} {{ r.customer.lastname }}</td>
<td>{% for row in r.order.associations.order_rows %}{{ row.product_quantity }} × {{ row.product_name }}
<small>{{ row.product_reference }}</small><br>{% endfor %}</td><td>{{ r.state }}</td>
<td class="tracking">{{ r.tracking or "—" }}{% if r.emails %}<br><small>e-mails : {{ r.emails|join(", ") }}</small>{% endif %}</td>
<td class="slips">{% for sl in r.slips %}Avoir n° {{ sl.id }} : {{ "%.2f"|format((sl.total_products_tax_incl|float)
+ (sl.total_shipping_tax_incl|float) or (sl.amount|float) + (sl.shipping_cost_amount|float)) }} €<br>{% endfor %}
{% if not r.slips %}<form method="post" action="/orders/{{ r.order.id }}/slip"><button type="submit">Rembourser
(avoir)</button></form>{% endif %}</td>
</tr>{% else %}<tr><td colspan="6">Aucune commande.</td></tr>{% endfor %}</tbody></table></body></html>"""


# ----------------------------------------------------------------------------- the demo
def seed_demo(emu: PrestaEmulator) -> None:
    from core.demo import CATALOG, ean13

    seed = 1000
    for title, _desc, _hs, _origin, opts, price, _cost, _grams in CATALOG:
        combos = []
        for size, colour in opts:
            seed += 1
            base = "".join(w[0] for w in title.upper().split())[:4]
            suffix = "-".join(x[:3].upper() for x in (colour, size) if x) or "STD"
            combos.append({"reference": f"{base}-{suffix}", "quantity": 12, "ean13": ean13(seed)})
        if len(combos) == 1:
            emu.add_product(title, combos[0]["reference"], 12, price, ean13=combos[0]["ean13"])
        else:
            emu.add_product(title, "", 0, price, combinations=combos)


class Customers:
    """The demo's customers: a burst of ``burst`` orders at start-up, then one every 20 minutes."""

    def __init__(self, emu: PrestaEmulator, *, burst: int = 2, interval: float = 20 * 60, delay: float = 25.0) -> None:
        self.emu, self.burst, self.interval, self.delay = emu, burst, interval, delay
        self.rng = random.Random(31)
        self.thread = threading.Thread(target=self._loop, name="prestashop-emulator-customers", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _loop(self) -> None:
        placed, next_order = 0, time.monotonic() + self.delay
        while True:
            time.sleep(1.0)
            if time.monotonic() >= next_order:
                self.place_one()
                placed += 1
                next_order = time.monotonic() + (2.0 if placed < self.burst else self.interval)

    def place_one(self) -> dict[str, Any] | None:
        emu = self.emu
        with emu.lock:
            refs = [c["reference"] for c in emu.tables["combinations"].values()]
            refs += [p["reference"] for p in emu.tables["products"].values() if p["reference"]]
        if not refs:
            return None
        first = self.rng.choice(("Manon", "Arthur", "Jade", "Léo", "Alice", "Paul"))
        last = self.rng.choice(("Garnier", "Chevalier", "Roussel", "Blanchard", "Perrin"))
        return emu.place_order([(self.rng.choice(refs), 1)], email=f"{first.lower()}.{last.lower()}@exemple.fr",
                               name=(first, last))


def demo_app() -> Flask:
    emu = PrestaEmulator()
    seed_demo(emu)
    Customers(emu).start()
    return emu.app


def demo_settings(base_url: str) -> dict[str, Any]:
    return {"shop_url": base_url, "webservice_key": DEMO_KEY, "id_shop": 1, "timezone": "Europe/Paris",
            "import_days": 30}
