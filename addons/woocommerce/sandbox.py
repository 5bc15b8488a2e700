"""Emulator of a WooCommerce store's REST API v3, speaking WooCommerce's wire format.

* ``/wp-json/wc/v3``: the public route index (with each route's ``args``); every other route
  asks for the consumer key and secret, in HTTP Basic or as ``consumer_key`` /
  ``consumer_secret`` query parameters (the emulator answers as a store behind HTTPS). A store
  told ``strip_auth`` loses the ``Authorization`` header on its way to PHP, as many
  Apache/FastCGI hosts do: Basic then meets ``woocommerce_rest_cannot_view`` (401).
* Orders: ``GET /orders`` with ``modified_after`` (store-local time unless
  ``dates_are_gmt=true``: the store's clock is Europe/Paris), ``per_page`` 1..100, ``page``,
  ``orderby``, ``order``, ``status``; ``X-WP-Total``, ``X-WP-TotalPages`` and ``Link`` headers;
  ``GET``/``PUT /orders/{id}``; ``/orders/{id}/notes``.
* Products and variations, ``POST /products/batch`` and ``/products/{id}/variations/batch``:
  more than ``batch_limit`` items (100, or what the store's code sets) in one request →
  413 ``woocommerce_rest_request_entity_too_large``; an item that fails carries its own
  ``error`` inside the HTTP 200.
* Webhooks: ``/webhooks`` (create, list, update); on creation a ping (form ``webhook_id=<id>``,
  unsigned); each change delivered as WooCommerce does (``WC_Webhook::deliver``): the resource
  as JSON, ``X-WC-Webhook-Source``, ``-Topic``, ``-Resource``, ``-Event``, ``-Signature``
  (base64 HMAC-SHA256 of the body with the secret), ``-ID``, ``-Delivery-ID``; never retried;
  a 2xx/301/302 resets the failure count, and past 5 failures the webhook is ``disabled``.
  Deliveries wait in a queue (WooCommerce's Action Scheduler) until :meth:`flush`.
* The Shipment Tracking extension (``/wp-json/wc-shipment-tracking/v3``) where the store has it.
* Faults on demand through the kit (429, 5xx, timeouts); ``GET /`` shows the store's orders as
  its customers follow them (the emulator's own page).

The demo (:func:`demo_app`) sells the demo merchant's catalogue; a burst of orders at start-up,
then one every 20 minutes.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any, Callable
from urllib.parse import parse_qsl

from flask import Flask, Response, jsonify, render_template_string, request

from core.connectors.emulator import EmulatorKit, ManualClock, SystemClock  # noqa: F401 (ManualClock: the tests')

DEMO_KEY = "ck_" + "4f1d0c2a9b8e7d6c5b4a39281706f5e4d3c2b1a0"
DEMO_SECRET = "cs_" + "9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d"
WC_VERSION = "9.4.2"
WP_VERSION = "6.7.1"
SITE_OFFSET = timedelta(hours=1)  # the store's timezone (Europe/Paris, winter)
FIRST_ORDER_ID = 24601  # WooCommerce numbers are its order ids: far from the other demo shops' numbers
MAX_FAILURES = 5  # woocommerce_max_webhook_delivery_failures
Sender = Callable[[str, bytes, dict[str, str]], int]

ROUTE_ARGS = {
    "/wc/v3/orders": {"page": {"type": "integer", "default": 1, "minimum": 1},
                      "per_page": {"type": "integer", "default": 10, "minimum": 1, "maximum": 100},
                      "after": {"type": "string", "format": "date-time"},
                      "modified_after": {"type": "string", "format": "date-time"},
                      "dates_are_gmt": {"type": "boolean", "default": False},
                      "orderby": {"type": "string", "enum": ["date", "modified", "id", "include", "title", "slug"]},
                      "order": {"type": "string", "enum": ["asc", "desc"]}, "status": {"type": "array"}},
    "/wc/v3/products": {"sku": {"type": "string"}, "per_page": {"type": "integer", "maximum": 100}},
    "/wc/v3/products/batch": {},
    "/wc/v3/products/(?P<product_id>[\\d]+)/variations/batch": {},
    "/wc/v3/webhooks": {"status": {"type": "string", "enum": ["all", "active", "paused", "disabled"]}},
    "/wc/v3/system_status": {},
}


def _gmt(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).replace(tzinfo=None, microsecond=0).isoformat()


def _local(ts: float) -> str:
    return (datetime.fromtimestamp(ts, timezone.utc) + SITE_OFFSET).replace(tzinfo=None, microsecond=0).isoformat()


def sign(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def wc_error(code: str, message: str, status: int, **data: Any) -> Response:
    res = jsonify({"code": code, "message": message, "data": {"status": status, **data}})
    res.status_code = status
    return res


def error_body(status: int) -> dict[str, Any]:
    """The body of a fault on demand: a host's 429/5xx in WordPress's error shape."""
    return {"code": {429: "too_many_requests", 503: "service_unavailable"}.get(status, "internal_server_error"),
            "message": {429: "Too Many Requests"}.get(status, "There has been a critical error on this website."),
            "data": {"status": status}}


def http_sender(url: str, body: bytes, headers: dict[str, str]) -> int:
    """Deliver as WooCommerce does (wp_safe_remote_request, 60 s, no redirects followed)."""
    import httpx

    try:
        return httpx.post(url, content=body, headers=headers, timeout=60.0, follow_redirects=False).status_code
    except httpx.HTTPError:
        return 0


class WooEmulator:
    """An in-memory WooCommerce store and its Flask app (``self.app``)."""

    def __init__(self, *, clock: Any = None, consumer_key: str = DEMO_KEY, consumer_secret: str = DEMO_SECRET,
                 strip_auth: bool = False, has_tracking: bool = True, batch_limit: int = 100,
                 sender: Sender | None = None, site_url: str = "https://boutique-demo.example/",
                 page_size_cap: int = 100) -> None:
        self.clock = clock or SystemClock()
        self.keys = {consumer_key: consumer_secret}
        self.strip_auth = strip_auth
        self.has_tracking = has_tracking
        self.batch_limit = batch_limit
        self.sender = sender or http_sender
        self.site_url = site_url
        self.page_size_cap = page_size_cap
        self.lock = threading.RLock()
        self.products: dict[int, dict[str, Any]] = {}
        self.variations: dict[int, dict[int, dict[str, Any]]] = {}
        self.orders: dict[int, dict[str, Any]] = {}
        self.notes: dict[int, list[dict[str, Any]]] = {}
        self.trackings: dict[int, list[dict[str, Any]]] = {}
        self.webhooks: dict[int, dict[str, Any]] = {}
        self.outbox: list[tuple[int, str, dict[str, Any]]] = []
        self.deliveries: list[dict[str, Any]] = []
        self.pings: list[tuple[int, int]] = []
        self.batch_requests: list[tuple[str, int]] = []
        self.last_orders_query = ""
        self._ids = {"product": 300, "order": FIRST_ORDER_ID - 1, "webhook": 0, "note": 9000, "line": 100}
        self.rng = random.Random(7)
        self.app = self._build_app()
        self.kit: EmulatorKit = self.app.extensions["emulator"]

    # ------------------------------------------------------------------ helpers (tests, demo)
    def now(self) -> float:
        return self.clock.time()

    def _next(self, kind: str) -> int:
        self._ids[kind] += 1
        return self._ids[kind]

    def _stamp(self, obj: dict[str, Any], created: bool = False) -> None:
        ts = self.now()
        if created:
            obj["date_created"], obj["date_created_gmt"] = _local(ts), _gmt(ts)
        obj["date_modified"], obj["date_modified_gmt"] = _local(ts), _gmt(ts)

    def add_product(self, name: str, sku: str = "", stock: int | None = 10, price: str = "19.90",
                    variations: list[dict[str, Any]] | None = None, barcode: str = "") -> dict[str, Any]:
        """A simple product, or a variable one with ``variations`` ({sku, stock, price, attributes})."""
        with self.lock:
            pid = self._next("product")
            product = {"id": pid, "name": name, "type": "variable" if variations else "simple", "status": "publish",
                       "sku": sku, "global_unique_id": barcode, "price": price, "regular_price": price,
                       "manage_stock": stock is not None and not variations, "stock_quantity":
                       None if variations else stock, "stock_status": "instock", "variations": []}
            self._stamp(product, created=True)
            self.products[pid] = product
            self.variations[pid] = {}
            for v in variations or []:
                vid = self._next("product")
                var = {"id": vid, "sku": v.get("sku", ""), "global_unique_id": v.get("barcode", ""),
                       "price": v.get("price", price), "manage_stock": v.get("stock") is not None,
                       "stock_quantity": v.get("stock"), "stock_status": "instock",
                       "attributes": [{"name": k, "option": o} for k, o in (v.get("attributes") or {}).items()]}
                self.variations[pid][vid] = var
                product["variations"].append(vid)
            return product

    def find_sku(self, sku: str) -> tuple[dict[str, Any], dict[str, Any] | None] | None:
        for pid, product in self.products.items():
            if product["sku"] == sku and product["type"] == "simple":
                return product, None
            for var in self.variations[pid].values():
                if var["sku"] == sku:
                    return product, var
        return None

    def stock_of(self, sku: str) -> int | None:
        found = self.find_sku(sku)
        if found is None:
            return None
        product, var = found
        return (var or product)["stock_quantity"]

    def place_order(self, lines: list[tuple[str, int]], *, email: str = "client@exemple.fr",
                    name: tuple[str, str] = ("Léa", "Martin"), status: str = "processing",
                    address: dict[str, str] | None = None, shipping_method: str = "flat_rate",
                    shipping_total: str = "4.90", pickup: tuple[str, str] | None = None) -> dict[str, Any]:
        """A customer checks out: the order (stock reduced as WooCommerce does for paid orders)
        and its ``order.created`` delivery queued."""
        with self.lock:
            oid = self._next("order")
            items, subtotal = [], 0.0
            for sku, qty in lines:
                found = self.find_sku(sku)
                product, var = found if found else ({"id": 0, "name": sku, "price": "10.00"}, None)
                price = float((var or product)["price"])
                line_total = round(price * qty, 2)
                subtotal += line_total
                items.append({"id": self._next("line"), "name": product["name"], "product_id": product["id"],
                              "variation_id": var["id"] if var else 0, "quantity": qty, "tax_class": "",
                              "subtotal": f"{line_total:.2f}", "subtotal_tax": "0.00", "total": f"{line_total:.2f}",
                              "total_tax": "0.00", "sku": sku, "price": price, "meta_data": []})
                target = var or product
                if found and status in ("processing", "completed", "on-hold") and target.get("manage_stock") is True:
                    target["stock_quantity"] = (target["stock_quantity"] or 0) - qty
            addr = {"first_name": name[0], "last_name": name[1], "company": "", "address_1": "12 rue de la Paix",
                    "address_2": "", "city": "Lyon", "state": "", "postcode": "69002", "country": "FR", "phone": "",
                    **(address or {})}
            shipping_line = {"id": self._next("line"), "method_title": "Livraison", "method_id": shipping_method,
                             "instance_id": "1", "total": shipping_total, "total_tax": "0.00", "meta_data": []}
            if pickup:
                shipping_line.update(method_id="pickup_location", method_title="Retrait en boutique", total="0.00",
                                     meta_data=[{"id": 1, "key": "pickup_location", "value": pickup[0]},
                                                {"id": 2, "key": "pickup_address", "value": pickup[1]}])
            total = subtotal + float(shipping_line["total"])
            order = {"id": oid, "parent_id": 0, "number": str(oid), "order_key": "wc_order_" + uuid.uuid4().hex[:13],
                     "created_via": "checkout", "version": WC_VERSION, "status": status, "currency": "EUR",
                     "discount_total": "0.00", "discount_tax": "0.00", "shipping_total": shipping_line["total"],
                     "shipping_tax": "0.00", "cart_tax": "0.00", "total": f"{total:.2f}", "total_tax": "0.00",
                     "prices_include_tax": True, "customer_id": 0, "customer_note": "",
                     "billing": {**addr, "email": email, "phone": "0601020304"}, "shipping": addr,
                     "payment_method": "stripe", "payment_method_title": "Carte bancaire", "transaction_id": "",
                     "date_paid_gmt": None, "date_completed_gmt": None, "line_items": items,
                     "shipping_lines": [shipping_line], "fee_lines": [], "coupon_lines": [], "tax_lines": [],
                     "refunds": [], "meta_data": []}
            self._stamp(order, created=True)
            if status == "processing":
                order["date_paid_gmt"] = order["date_created_gmt"]
            self.orders[oid] = order
            self.notes[oid] = []
            self.fire("order.created", order)
            return order

    def update_order(self, oid: int, **changes: Any) -> dict[str, Any]:
        with self.lock:
            order = self.orders[oid]
            old = order["status"]
            order.update(changes)
            if changes.get("status") == "cancelled" and old != "cancelled":
                for li in order["line_items"]:
                    found = self.find_sku(li["sku"])
                    if found and (found[1] or found[0]).get("manage_stock") is True:
                        target = found[1] or found[0]
                        target["stock_quantity"] = (target["stock_quantity"] or 0) + li["quantity"]
            if changes.get("status") == "completed":
                order["date_completed_gmt"] = _gmt(self.now())
            self._stamp(order)
            self.fire("order.updated", order)
            return order

    def delete_order(self, oid: int) -> None:
        with self.lock:
            self.orders.pop(oid)
            self.fire("order.deleted", {"id": oid})

    # ------------------------------------------------------------------ webhooks
    def fire(self, topic: str, resource: dict[str, Any]) -> None:
        for hook in self.webhooks.values():
            if hook["status"] == "active" and hook["topic"] == topic:
                self.outbox.append((hook["id"], topic, json.loads(json.dumps(resource))))

    def flush(self) -> int:
        """Run the queued deliveries (WooCommerce's Action Scheduler)."""
        with self.lock:
            queued, self.outbox = self.outbox, []
        for hook_id, topic, resource in queued:
            hook = self.webhooks.get(hook_id)
            if hook is None or hook["status"] != "active":
                continue
            body = json.dumps(resource, separators=(",", ":")).encode()
            resource_name, _, event = topic.partition(".")
            headers = {"Content-Type": "application/json",
                       "User-Agent": f"WooCommerce/{WC_VERSION} Hookshot (WordPress/{WP_VERSION})",
                       "X-WC-Webhook-Source": self.site_url, "X-WC-Webhook-Topic": topic,
                       "X-WC-Webhook-Resource": resource_name, "X-WC-Webhook-Event": event,
                       "X-WC-Webhook-Signature": sign(body, hook["secret"]), "X-WC-Webhook-ID": str(hook_id),
                       "X-WC-Webhook-Delivery-ID": uuid.uuid4().hex}
            status = self.sender(hook["delivery_url"], body, headers)
            with self.lock:
                self.deliveries.append({"webhook_id": hook_id, "topic": topic, "status": status, "headers": headers,
                                        "body": body})
                if 200 <= status < 300 or status in (301, 302):
                    hook["failure_count"] = 0
                else:
                    hook["failure_count"] += 1
                    if hook["failure_count"] > MAX_FAILURES:
                        hook["status"] = "disabled"
                        self._stamp(hook)
        return len(queued)

    def _public_webhook(self, hook: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in hook.items() if k not in ("secret", "failure_count")}

    # ------------------------------------------------------------------ the app
    def _build_app(self) -> Flask:
        app = Flask(__name__)
        app.extensions["woocommerce_emulator"] = self
        EmulatorKit("woocommerce", clock=self.clock, error_body=error_body).attach(app)
        api = "/wp-json/wc/v3"
        emu = self

        @app.before_request
        def _auth():
            path = request.path.rstrip("/")
            if not path.startswith("/wp-json/") or path == api:
                return None
            key = secret = None
            if request.authorization and not emu.strip_auth:
                key, secret = request.authorization.username, request.authorization.password
            elif request.args.get("consumer_key"):
                key, secret = request.args.get("consumer_key"), request.args.get("consumer_secret")
            if key is None:
                verb = {"GET": "list resources", "POST": "create resources"}.get(request.method, "edit resources")
                code = {"GET": "woocommerce_rest_cannot_view", "POST": "woocommerce_rest_cannot_create"}.get(
                    request.method, "woocommerce_rest_cannot_edit")
                return wc_error(code, f"Sorry, you cannot {verb}.", 401)
            if key not in emu.keys:
                return wc_error("woocommerce_rest_authentication_error", "Consumer key is invalid.", 401)
            if not hmac.compare_digest(emu.keys[key], secret or ""):
                return wc_error("woocommerce_rest_authentication_error", "Consumer secret is invalid.", 401)
            return None

        @app.get(api)
        @app.get(api + "/")
        def index():
            routes = {r: {"namespace": "wc/v3", "methods": ["GET", "POST"],
                          "endpoints": [{"methods": ["GET"], "args": args}]} for r, args in ROUTE_ARGS.items()}
            return jsonify({"namespace": "wc/v3", "routes": routes})

        @app.get(api + "/system_status")
        def system_status():
            plugins = [{"plugin": "woocommerce/woocommerce.php", "name": "WooCommerce", "version": WC_VERSION}]
            if emu.has_tracking:
                plugins.append({"plugin": "woocommerce-shipment-tracking/woocommerce-shipment-tracking.php",
                                "name": "WooCommerce Shipment Tracking", "version": "2.6.3"})
            return jsonify({"environment": {"home_url": emu.site_url.rstrip("/"), "site_url": emu.site_url.rstrip("/"),
                                            "version": WC_VERSION, "wp_version": WP_VERSION},
                            "active_plugins": plugins, "settings": {"currency": "EUR", "currency_symbol": "€"}})

        def paged(items: list[dict[str, Any]]):
            try:
                per_page = int(request.args.get("per_page", 10))
                page = int(request.args.get("page", 1))
            except ValueError:
                return wc_error("rest_invalid_param", "Invalid parameter(s): per_page", 400)
            if not 1 <= per_page <= emu.page_size_cap:
                return wc_error("rest_invalid_param", "Invalid parameter(s): per_page", 400,
                                params={"per_page": f"per_page must be between 1 (inclusive) and "
                                                    f"{emu.page_size_cap} (inclusive)"})
            total = len(items)
            pages = (total + per_page - 1) // per_page
            if page > max(pages, 1):
                return wc_error("rest_post_invalid_page_number",
                                "The page number requested is larger than the number of pages available.", 400)
            res = jsonify(items[(page - 1) * per_page: page * per_page])
            res.headers["X-WP-Total"], res.headers["X-WP-TotalPages"] = str(total), str(pages)
            links = []
            if page < pages:
                links.append(f'<{request.base_url}?page={page + 1}>; rel="next"')
            if page > 1:
                links.append(f'<{request.base_url}?page={page - 1}>; rel="prev"')
            if links:
                res.headers["Link"] = ", ".join(links)
            return res

        @app.get(api + "/orders")
        def orders():
            emu.last_orders_query = request.url
            with emu.lock:
                rows = list(emu.orders.values())
            after = request.args.get("modified_after")
            if after:
                try:
                    threshold = datetime.fromisoformat(after.replace("Z", "+00:00"))
                except ValueError:
                    return wc_error("rest_invalid_param", "Invalid parameter(s): modified_after", 400)
                if threshold.tzinfo is not None:
                    threshold = threshold.astimezone(timezone.utc).replace(tzinfo=None)
                gmt = request.args.get("dates_are_gmt") in ("true", "1")
                field = "date_modified_gmt" if gmt else "date_modified"  # store-local time otherwise
                rows = [o for o in rows if datetime.fromisoformat(o[field]) > threshold]
            statuses = [s for s in (request.args.get("status") or "any").split(",") if s]
            if statuses != ["any"]:
                rows = [o for o in rows if o["status"] in statuses]
            key = {"id": "id", "modified": "date_modified_gmt"}.get(request.args.get("orderby", "date"),
                                                                    "date_created_gmt")
            rows.sort(key=lambda o: (o[key], o["id"]), reverse=request.args.get("order", "desc") == "desc")
            return paged(rows)

        @app.route(api + "/orders/<int:oid>", methods=["GET", "PUT", "PATCH", "POST"])
        def order(oid: int):
            with emu.lock:
                found = emu.orders.get(oid)
                if found is None:
                    return wc_error("woocommerce_rest_shop_order_invalid_id", "Invalid ID.", 404)
                if request.method == "GET":
                    return jsonify(found)
                body = request.get_json(silent=True) or {}
                status = body.get("status")
                if status is not None and status not in ("pending", "processing", "on-hold", "completed",
                                                         "cancelled", "refunded", "failed"):
                    return wc_error("rest_invalid_param", "Invalid parameter(s): status", 400)
                return jsonify(emu.update_order(oid, **{k: v for k, v in body.items() if k in ("status",)}))

        @app.route(api + "/orders/<int:oid>/notes", methods=["GET", "POST"])
        def notes(oid: int):
            with emu.lock:
                if oid not in emu.orders:
                    return wc_error("woocommerce_rest_order_invalid_id", "Invalid order ID.", 404)
                if request.method == "GET":
                    kind = request.args.get("type", "any")
                    rows = [n for n in emu.notes[oid] if kind == "any" or n["customer_note"] == (kind == "customer")]
                    return jsonify(rows)
                body = request.get_json(silent=True) or {}
                if not body.get("note"):
                    return wc_error("woocommerce_rest_missing_parameter", "Missing parameter(s): note", 400)
                note = {"id": emu._next("note"), "author": "WooCommerce", "date_created": _local(emu.now()),
                        "date_created_gmt": _gmt(emu.now()), "note": body["note"],
                        "customer_note": bool(body.get("customer_note"))}
                emu.notes[oid].append(note)
                return jsonify(note), 201

        @app.get(api + "/products")
        def products():
            with emu.lock:
                rows = sorted(emu.products.values(), key=lambda p: p["id"])
            if request.args.get("sku"):
                wanted = set(request.args["sku"].split(","))
                rows = [p for p in rows if p["sku"] in wanted]
            return paged(rows)

        @app.get(api + "/products/<int:pid>/variations")
        def variations(pid: int):
            if pid not in emu.products:
                return wc_error("woocommerce_rest_product_invalid_id", "Invalid ID.", 404)
            with emu.lock:
                return paged(sorted(emu.variations[pid].values(), key=lambda v: v["id"]))

        def batch(path: str, table: Callable[[int], dict[str, Any] | None], parent: dict[str, Any] | None):
            body = request.get_json(silent=True) or {}
            count = sum(len(body.get(k) or []) for k in ("create", "update", "delete"))
            emu.batch_requests.append((path, count))
            if count > emu.batch_limit:
                return wc_error("woocommerce_rest_request_entity_too_large",
                                f"Unable to accept more than {emu.batch_limit} items for this request.", 413)
            out = []
            with emu.lock:
                for item in body.get("update") or []:
                    target = table(int(item.get("id") or 0))
                    if target is None:
                        out.append({"id": item.get("id"), "error": {"code": "woocommerce_rest_product_invalid_id",
                                                                    "message": "Invalid ID.", "data": {"status": 400}}})
                        continue
                    qty = item.get("stock_quantity")
                    if qty is not None and not isinstance(qty, int):
                        out.append({"id": target["id"], "error": {"code": "rest_invalid_param", "message":
                                    "Invalid parameter(s): stock_quantity", "data": {"status": 400}}})
                        continue
                    if "manage_stock" in item:
                        target["manage_stock"] = bool(item["manage_stock"])
                    if qty is not None:
                        target["stock_quantity"] = qty
                        target["stock_status"] = "instock" if qty > 0 else "outofstock"
                    out.append(target)
                    emu.fire("product.updated", parent or target)
            return jsonify({"update": out})

        @app.route(api + "/products/batch", methods=["POST", "PUT", "PATCH"])
        def products_batch():
            return batch("/products/batch", lambda i: emu.products.get(i) if emu.products.get(i, {}).get("type")
                         == "simple" else None, None)

        @app.route(api + "/products/<int:pid>/variations/batch", methods=["POST", "PUT", "PATCH"])
        def variations_batch(pid: int):
            if pid not in emu.products:
                return wc_error("woocommerce_rest_product_invalid_id", "Invalid ID.", 404)
            return batch(f"/products/{pid}/variations/batch", lambda i: emu.variations[pid].get(i),
                         emu.products[pid])

        @app.route(api + "/webhooks", methods=["GET", "POST"])
        def webhooks():
            if request.method == "GET":
                with emu.lock:
                    rows = [emu._public_webhook(h) for h in sorted(emu.webhooks.values(), key=lambda h: h["id"])]
                wanted = request.args.get("status", "all")
                return paged([h for h in rows if wanted == "all" or h["status"] == wanted])
            body = request.get_json(silent=True) or {}
            topic = body.get("topic", "")
            resource, _, event = topic.partition(".")
            if resource not in ("order", "product", "customer", "coupon") or event not in (
                    "created", "updated", "deleted", "restored"):
                return wc_error("woocommerce_rest_webhook_invalid_topic", "Webhook topic is required and must be "
                                "valid.", 400)
            if not str(body.get("delivery_url", "")).startswith(("http://", "https://")):
                return wc_error("woocommerce_rest_webhook_invalid_delivery_url", "Webhook delivery URL must be a "
                                "valid URL starting with http:// or https://.", 400)
            with emu.lock:
                hid = emu._next("webhook")
                hook = {"id": hid, "name": body.get("name") or f"Webhook created on {_local(emu.now())}",
                        "status": body.get("status", "active"), "topic": topic, "resource": resource, "event": event,
                        "hooks": [f"woocommerce_{'new' if event == 'created' else event}_{resource}"],
                        "delivery_url": body["delivery_url"], "secret": body.get("secret") or uuid.uuid4().hex,
                        "failure_count": 0}
                emu._stamp(hook, created=True)
                emu.webhooks[hid] = hook
            if hook["status"] == "active":  # the ping: a form, unsigned
                status = emu.sender(hook["delivery_url"], f"webhook_id={hid}".encode(),
                                    {"Content-Type": "application/x-www-form-urlencoded",
                                     "User-Agent": f"WooCommerce/{WC_VERSION} Hookshot (WordPress/{WP_VERSION})"})
                emu.pings.append((hid, status))
                if not (200 <= status < 300 or status in (301, 302)):
                    hook["status"] = "disabled"
            return jsonify(emu._public_webhook(hook)), 201

        @app.route(api + "/webhooks/<int:hid>", methods=["GET", "PUT", "PATCH", "POST", "DELETE"])
        def webhook(hid: int):
            with emu.lock:
                hook = emu.webhooks.get(hid)
                if hook is None:
                    return wc_error("woocommerce_rest_webhook_invalid_id", "Invalid ID.", 404)
                if request.method == "DELETE":
                    emu.webhooks.pop(hid)
                    return jsonify(emu._public_webhook(hook))
                if request.method != "GET":
                    body = request.get_json(silent=True) or {}
                    if body.get("status") in ("active", "paused", "disabled"):
                        hook["status"] = body["status"]
                        if body["status"] == "active":
                            hook["failure_count"] = 0
                    for key in ("delivery_url", "secret", "name"):
                        if body.get(key):
                            hook[key] = body[key]
                    emu._stamp(hook)
                return jsonify(emu._public_webhook(hook))

        tracking = "/wp-json/wc-shipment-tracking/v3/orders/<int:oid>/shipment-trackings"

        @app.route(tracking, methods=["GET", "POST"])
        def trackings(oid: int):
            if not emu.has_tracking:
                return wc_error("rest_no_route", "No route was found matching the URL and request method.", 404)
            with emu.lock:
                if oid not in emu.orders:
                    return wc_error("woocommerce_rest_shop_order_invalid_id", "Invalid ID.", 404)
                rows = emu.trackings.setdefault(oid, [])
                if request.method == "GET":
                    return jsonify(rows)
                body = request.get_json(silent=True) or {}
                if not body.get("tracking_number"):
                    return wc_error("woocommerce_rest_missing_tracking_number", "Missing tracking number.", 400)
                provider = body.get("tracking_provider") or body.get("custom_tracking_provider") or ""
                link = body.get("custom_tracking_link", "").replace("%1$s", body["tracking_number"])
                entry = {"tracking_id": uuid.uuid4().hex, "tracking_provider": provider, "tracking_link": link,
                         "tracking_number": body["tracking_number"],
                         "date_shipped": body.get("date_shipped") or _gmt(emu.now())[:10]}
                rows.append(entry)
                return jsonify(entry), 201

        @app.get("/wp-json/wc-shipment-tracking/v3/shipment-trackings/providers")
        def providers():
            if not emu.has_tracking:
                return wc_error("rest_no_route", "No route was found matching the URL and request method.", 404)
            return jsonify({"France": {"Colissimo": "https://www.laposte.fr/outils/suivre-vos-envois?code=%1$s",
                                       "Chronopost": "https://www.chronopost.fr/tracking-no-cms/suivi-page?listeNumerosLT=%1$s"}})

        @app.get("/")
        def storefront():
            with emu.lock:
                rows = [{"order": o, "notes": [n for n in emu.notes.get(o["id"], []) if n["customer_note"]],
                         "trackings": emu.trackings.get(o["id"], [])}
                        for o in sorted(emu.orders.values(), key=lambda o: o["id"], reverse=True)[:100]]
            return render_template_string(ORDERS_PAGE, rows=rows)

        return app


ORDERS_PAGE = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>Boutique WooCommerce — commandes</title>
<style>body{font:15px system-ui,sans-serif;margin:2rem;color:#1e1e1e}table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.5rem;border-bottom:1px solid #ddd;vertical-align:top}small{color:#757575}
.badge{padding:.1rem .5rem;border-radius:1rem;background:#e5e5e5}.completed{background:#c8d7e1}
.processing{background:#c6e1c6}.cancelled{background:#eba3a3}</style></head>
<body><h1>Boutique WooCommerce</h1>
<p><small>Émulateur WooCommerce : les commandes telles que les clients les suivent (statut, suivi envoyé par l'OMS).</small></p>
<table><thead><tr><th>Commande</th><th>Client</th><th>Articles</th><th>Statut</th><th>Suivi</th></tr></thead><tbody>
{% for r in rows %}{% set o = r.order %}<tr data-order="{{ o.number }}"><td><strong>n° {{ o.number }}</strong></td>
<td>{{ o.billing.first_name }} {{ o.billing.last_name }}</td>
<td>{% for li in o.line_items %}{{ li.quantity }} × {{ li.name }} <small>{{ li.sku }}</small><br>{% endfor %}</td>
<td><span class="badge {{ o.status }}">{{ {"processing": "En cours", "completed": "Terminée", "cancelled": "Annulée",
"on-hold": "En attente", "pending": "Attente paiement"}.get(o.status, o.status) }}</span></td>
<td>{% for t in r.trackings %}<div class="tracking">{{ t.tracking_provider }}
{% if t.tracking_link %}<a href="{{ t.tracking_link }}">{{ t.tracking_number }}</a>{% else %}{{ t.tracking_number }}{% endif %}</div>{% endfor %}
{% for n in r.notes %}<div class="note">{{ n.note }}</div>{% endfor %}</td></tr>
{% else %}<tr><td colspan="5">Aucune commande.</td></tr>{% endfor %}</tbody></table></body></html>"""


# ----------------------------------------------------------------------------- the demo
def seed_demo(emu: WooEmulator) -> None:
    """The demo merchant's catalogue (same SKUs as the OMS demo), stock managed by WooCommerce."""
    from core.demo import CATALOG, ean13

    seed = 1000
    for title, _desc, _hs, _origin, opts, price, _cost, _grams in CATALOG:
        variants = []
        for size, colour in opts:
            seed += 1
            base = "".join(w[0] for w in title.upper().split())[:4]
            suffix = "-".join(x[:3].upper() for x in (colour, size) if x) or "STD"
            attrs = {k: v for k, v in (("Taille", size), ("Couleur", colour)) if v}
            variants.append({"sku": f"{base}-{suffix}", "stock": 15, "price": price, "attributes": attrs,
                             "barcode": ean13(seed)})
        if len(variants) == 1 and not variants[0]["attributes"]:
            emu.add_product(title, variants[0]["sku"], 15, price, barcode=variants[0]["barcode"])
        else:
            emu.add_product(title, "", None, price, variations=variants)


FIRST_NAMES = ("Camille", "Louise", "Jules", "Adam", "Lina", "Raphaël", "Zoé", "Gabriel")
LAST_NAMES = ("Bernard", "Petit", "Durand", "Leroy", "Morel", "Simon", "Michel", "Lefebvre")
CITIES = (("Nantes", "44000"), ("Toulouse", "31000"), ("Rennes", "35000"), ("Strasbourg", "67000"))


class Customers:
    """The demo's customers: a burst of ``burst`` orders at start-up, then one every
    ``interval`` seconds (20 minutes: a calm stream, far under 100 orders a month… a day at
    most 72); the thread also runs the queued webhook deliveries every second."""

    def __init__(self, emu: WooEmulator, *, burst: int = 3, interval: float = 20 * 60, delay: float = 20.0) -> None:
        self.emu, self.burst, self.interval, self.delay = emu, burst, interval, delay
        self.rng = random.Random(18)
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="woocommerce-emulator-customers", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _loop(self) -> None:
        started = time.monotonic()
        placed = 0
        next_order = started + self.delay
        while not self.stop_event.wait(1.0):
            self.emu.flush()
            if time.monotonic() >= next_order:
                self.place_one()
                placed += 1
                next_order = time.monotonic() + (2.0 if placed < self.burst else self.interval)

    def place_one(self) -> dict[str, Any] | None:
        emu = self.emu
        with emu.lock:
            skus = [p["sku"] for p in emu.products.values() if p["type"] == "simple" and (p["stock_quantity"] or 0) > 1]
            skus += [v["sku"] for pid in emu.variations for v in emu.variations[pid].values()
                     if (v["stock_quantity"] or 0) > 1]
        if not skus:
            return None
        first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)
        city, postcode = self.rng.choice(CITIES)
        email = f"{first.lower().replace('ë', 'e').replace('é', 'e')}.{last.lower()}@exemple.fr"
        return emu.place_order([(self.rng.choice(skus), 1)], email=email, name=(first, last),
                               address={"city": city, "postcode": postcode,
                                        "address_1": f"{self.rng.randint(1, 80)} avenue Jean Jaurès"})


def demo_app() -> Flask:
    """The emulator the demo mounts: the demo catalogue, customers ordering calmly."""
    emu = WooEmulator()
    seed_demo(emu)
    Customers(emu).start()
    return emu.app


def demo_settings(base_url: str) -> dict[str, Any]:
    """Settings pointing the add-on at an emulator served at ``base_url``."""
    return {"store_url": base_url, "consumer_key": DEMO_KEY, "consumer_secret": DEMO_SECRET, "import_days": 30}


def parse_form(body: bytes) -> dict[str, str]:
    return dict(parse_qsl(body.decode()))
