"""The Shopify emulator's shop (:class:`ShopifyEmulator`): apps, OAuth grants and tokens, the
query-cost bucket, the in-memory catalogue, inventory, orders, refunds and fulfillments, and the
webhooks every change delivers."""
from __future__ import annotations

import hmac
import itertools
import json
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from graphql import FragmentDefinitionNode, OperationDefinitionNode, execute

from .client import DEFAULT_API_VERSION
from .graphql import COMPLIANCE_TOPICS
from .oauth import webhook_hmac
from .sandbox_base import (
    BUCKET_SIZE,
    CENT,
    CODE_TTL,
    DEMO_API_KEY,
    DEMO_API_SECRET,
    DEMO_DOMAIN,
    DEMO_SHOP,
    DEMO_TOKEN,
    INVALID_TOKEN,
    MAX_QUERY_COST,
    PAYMENTS_FLAT,
    PAYMENTS_RATE,
    REFRESH_TTL,
    RESTORE_RATE,
    SHOPIFY_PAYMENTS,
    TAX_RATE,
    TOKEN_TTL,
    Delivery,
    Sender,
    _App,
    _Bucket,
    _iso,
    _iso_precise,
    _money,
    _Token,
    http_sender,
)
from .sandbox_demo import seed_demo_catalog
from .sandbox_resolvers import (
    _checked,
    _count_objects,
    _handle,
    _num,
    _order_gid,
    _Resolvers,
    _variant_title,
)
from .sandbox_schema import requested_cost, resolve_field, schema


class ShopifyEmulator:
    """The emulated shop's state and behaviour (thread-safe)."""

    def __init__(self, *, domain: str = DEMO_DOMAIN, shop: dict[str, Any] | None = None,
                 apps: dict[str, str] | None = None, tokens: dict[str, str] | None = None,
                 time_fn: Callable[[], float] = time.time, monotonic: Callable[[], float] = time.monotonic,
                 bucket_size: float = BUCKET_SIZE, restore_rate: float = RESTORE_RATE, token_ttl: int = TOKEN_TTL,
                 sender: Sender = http_sender, catalog: str | None = "demo", first_id: int = 1001) -> None:
        self.domain = domain
        self.shop = dict(shop or {**DEMO_SHOP, "myshopifyDomain": domain})
        self.time = time_fn
        self.token_ttl = token_ttl
        self.sender = sender
        self.lock = threading.RLock()
        self.apps: dict[str, _App] = {}
        for client_id, secret in (apps if apps is not None else {DEMO_API_KEY: DEMO_API_SECRET}).items():
            self.apps[client_id] = _App(client_id, secret)
        self.tokens: dict[str, _Token] = {}
        for token, client_id in (tokens if tokens is not None else {DEMO_TOKEN: DEMO_API_KEY}).items():
            self.tokens[token] = _Token(client_id, "")
        self.refresh_tokens: dict[str, tuple[str, float]] = {}
        self.codes: dict[str, tuple[str, str, float]] = {}
        self.granted_scope: str | None = None  # a merchant who edits the scope in the URL
        self.bucket = _Bucket(bucket_size, restore_rate, monotonic)
        self.calls: list[tuple[str, str]] = []
        self.operations: list[str] = []
        self.deliveries: list[Delivery] = []
        self.default_webhook_uri: str | None = None
        self.outbox: list[tuple[str, dict[str, Any]]] = []  # webhooks caused by API calls, sent later
        self._ids = itertools.count(first_id)  # ids are Shopify's, unique across its stores
        #: the number of the emulator's first order ("#1001"); numbers follow on from it
        self.first_order_number = 1001
        self.locations: dict[str, dict[str, Any]] = {}
        self.products: dict[str, dict[str, Any]] = {}
        self.variants: dict[str, dict[str, Any]] = {}
        self.items: dict[str, dict[str, Any]] = {}
        self.orders: dict[str, dict[str, Any]] = {}
        self.fulfillment_orders: dict[str, dict[str, Any]] = {}
        self.fulfillments: dict[str, dict[str, Any]] = {}
        self.transactions: dict[str, list[dict[str, Any]]] = {}  # order GID → its transactions (GraphQL view)
        self.returns: dict[str, dict[str, Any]] = {}  # refund GID → the return it closed
        self.subscriptions: dict[str, dict[str, Any]] = {}
        self.idempotency: dict[str, tuple[str, dict[str, Any]]] = {}
        #: set to 429, 500 or 503: every GraphQL call answers that until set back to None
        self.failing: int | None = None
        self.schema = schema()
        if catalog == "demo":
            seed_demo_catalog(self)

    # ------------------------------------------------------------------ ids and time
    def new_id(self) -> int:
        return 7_000_000_000_000 + next(self._ids) * 7

    def now_iso(self) -> str:
        return _iso(self.time())

    # ------------------------------------------------------------------ apps and tokens
    def app(self, client_id: str) -> _App | None:
        return self.apps.get(client_id)

    def set_compliance_uri(self, client_id: str, uri: str) -> None:
        self.apps[client_id].compliance_uri = uri

    def issue_code(self, client_id: str, scope: str) -> str:
        code = secrets.token_hex(16)
        with self.lock:
            self.codes[code] = (client_id, self.granted_scope or scope, self.time() + CODE_TTL)
        return code

    def _issue(self, client_id: str, scope: str, expiring: bool) -> dict[str, Any]:
        token = "shpat_" + secrets.token_hex(16)
        answer: dict[str, Any] = {"access_token": token, "scope": scope}
        if expiring:
            self.tokens[token] = _Token(client_id, scope, self.time() + self.token_ttl)
            refresh = "shprt_" + secrets.token_hex(16)
            self.refresh_tokens[refresh] = (client_id, self.time() + REFRESH_TTL)
            answer.update(expires_in=self.token_ttl, refresh_token=refresh, refresh_token_expires_in=REFRESH_TTL)
        else:
            self.tokens[token] = _Token(client_id, scope)
        return answer

    def exchange(self, form: dict[str, Any]) -> tuple[dict[str, Any], int]:
        client_id = str(form.get("client_id") or "")
        app = self.app(client_id)
        if app is None or not hmac.compare_digest(app.secret, str(form.get("client_secret") or "")):
            return {"error": "invalid_client", "error_description": "Client authentication failed"}, 401
        with self.lock:
            if form.get("grant_type") == "refresh_token":
                entry = self.refresh_tokens.pop(str(form.get("refresh_token") or ""), None)
                if entry is None or entry[0] != client_id or entry[1] < self.time():
                    return {"error": "invalid_grant", "error_description": "Refresh token is invalid or expired"}, 400
                scope = next((t.scope for t in self.tokens.values() if t.client_id == client_id and t.scope), "")
                return self._issue(client_id, scope, expiring=True), 200
            entry_code = self.codes.pop(str(form.get("code") or ""), None)
            if entry_code is None or entry_code[0] != client_id or entry_code[2] < self.time():
                return {"error": "invalid_request", "error_description": "The authorization code was not found "
                                                                          "or was already used"}, 400
            return self._issue(client_id, entry_code[1], expiring=str(form.get("expiring", "0")) == "1"), 200

    def token_app(self, token: str | None) -> str | None:
        """The client id of a valid token, or None (unknown, expired or revoked)."""
        entry = self.tokens.get(token or "")
        if entry is None or (entry.expires_at is not None and entry.expires_at <= self.time()):
            return None
        return entry.client_id

    def expire_tokens(self) -> None:
        """Every expiring token is now past its expiry (refresh tokens stay valid)."""
        with self.lock:
            for entry in self.tokens.values():
                if entry.expires_at is not None:
                    entry.expires_at = self.time() - 1

    def uninstall(self, client_id: str = DEMO_API_KEY) -> None:
        """The merchant uninstalls the app: its tokens stop working, ``app/uninstalled`` is sent."""
        with self.lock:
            targets = [s for s in self.subscriptions.values() if s["client_id"] == client_id
                       and s["topic"] == "app/uninstalled"]
            for token in [t for t, e in self.tokens.items() if e.client_id == client_id]:
                del self.tokens[token]
            for refresh in [r for r, e in self.refresh_tokens.items() if e[0] == client_id]:
                del self.refresh_tokens[refresh]
        payload = {"id": 548380009, "name": self.shop["name"], "domain": self.domain,
                   "myshopify_domain": self.domain, "currency": self.shop["currencyCode"]}
        self._send(targets, "app/uninstalled", payload)
        for sub in targets:
            self.subscriptions.pop(sub["id"], None)

    # ------------------------------------------------------------------ catalogue
    def add_location(self, name: str, *, online: bool = True, country: str = "FR", city: str = "Paris") -> str:
        gid = f"gid://shopify/Location/{self.new_id()}"
        with self.lock:
            self.locations[gid] = {"id": gid, "name": name, "isActive": True, "fulfillsOnlineOrders": online,
                                   "address": {"city": city, "countryCode": country, "address1": "", "zip": ""}}
        return gid

    def online_location(self) -> str:
        return next(gid for gid, loc in self.locations.items() if loc["fulfillsOnlineOrders"])

    def add_product(self, title: str, variants: list[dict[str, Any]], *, description: str = "",
                    images: Iterable[str] = (), tags: Iterable[str] = (), notify: bool = False) -> str:
        """A product with its variants: each ``{"sku", "price", "options": {name: value},
        "barcode", "hs_code", "origin", "grams", "stock": {location gid: available}}``."""
        pid = self.new_id()
        gid = f"gid://shopify/Product/{pid}"
        now = self.now_iso()
        with self.lock:
            product = {"id": gid, "title": title, "handle": _handle(title), "descriptionHtml": description,
                       "status": "ACTIVE", "vendor": self.shop["name"], "productType": "", "tags": list(tags),
                       "createdAt": now, "updatedAt": now, "images": list(images), "variants": []}
            self.products[gid] = product
            for spec in variants:
                self._add_variant(product, spec)
        if notify:
            self.emit("products/create", self.product_rest(gid))
        return gid

    def _add_variant(self, product: dict[str, Any], spec: dict[str, Any]) -> str:
        vid = f"gid://shopify/ProductVariant/{self.new_id()}"
        iid = f"gid://shopify/InventoryItem/{self.new_id()}"
        options = dict(spec.get("options") or {}) or {"Title": "Default Title"}
        self.items[iid] = {"id": iid, "sku": spec.get("sku"), "tracked": True,
                           "harmonizedSystemCode": spec.get("hs_code"), "countryCodeOfOrigin": spec.get("origin"),
                           "weight": spec.get("grams"), "variant": vid,
                           "levels": {loc: {"available": int(qty), "committed": 0}
                                      for loc, qty in (spec.get("stock") or {}).items()}}
        for loc in self.locations:
            self.items[iid]["levels"].setdefault(loc, {"available": 0, "committed": 0})
        self.variants[vid] = {"id": vid, "product": product["id"], "sku": spec.get("sku"),
                              "barcode": spec.get("barcode"), "price": _money(spec.get("price", "0")),
                              "options": options, "item": iid, "updatedAt": self.now_iso()}
        product["variants"].append(vid)
        return vid

    def variant_by_sku(self, sku: str) -> dict[str, Any] | None:
        return next((v for v in self.variants.values() if v["sku"] == sku), None)

    def update_variant(self, sku: str, *, notify: bool = True, **changes: Any) -> None:
        """Change a variant as the merchant would in the Shopify admin (``price``, ``barcode``…)."""
        with self.lock:
            variant = self.variant_by_sku(sku)
            assert variant is not None, sku
            for key, value in changes.items():
                if key in ("hs_code", "origin"):
                    self.items[variant["item"]]["harmonizedSystemCode" if key == "hs_code"
                                                else "countryCodeOfOrigin"] = value
                else:
                    variant[key] = _money(value) if key == "price" else value
            variant["updatedAt"] = self.products[variant["product"]]["updatedAt"] = self.now_iso()
        if notify:
            self.emit("products/update", self.product_rest(variant["product"]))

    def update_product(self, gid: str, *, notify: bool = True, **changes: Any) -> dict[str, Any]:
        with self.lock:
            product = self.products[gid]
            product.update(changes)
            product["updatedAt"] = self.now_iso()
            payload = self.product_rest(gid)
        if notify:
            self.emit("products/update", payload)
        return payload

    def delete_product(self, gid: str, *, notify: bool = True) -> None:
        with self.lock:
            product = self.products.pop(gid)
            for vid in product["variants"]:
                self.items.pop(self.variants.pop(vid)["item"], None)
        if notify:
            self.emit("products/delete", {"id": int(_num(gid))})

    def available(self, sku: str, location: str | None = None) -> int:
        variant = self.variant_by_sku(sku)
        if variant is None:
            return 0
        levels = self.items[variant["item"]]["levels"]
        return levels.get(location or self.online_location(), {}).get("available", 0)

    # ------------------------------------------------------------------ orders
    def place_order(self, lines: list[tuple[str, int]], *, email: str = "client@exemple.fr",
                    customer: tuple[str, str] = ("Camille", "Durand"), address: dict[str, str] | None = None,
                    presentment_currency: str | None = None, rate: Decimal | str = "1",
                    pos_location: str | None = None, shipping: tuple[str, str] = ("Colissimo", "4.90"),
                    notify: bool = True, updated_at: float | None = None,
                    gateway: str = SHOPIFY_PAYMENTS) -> dict[str, Any]:
        """A customer order (``pos_location``: a POS sale in that retail location). A SKU the
        shop does not sell becomes a custom line item (no variant). The customer pays through
        ``gateway``: Shopify Payments charges its fee on the sale, other gateways report none."""
        with self.lock:
            oid = self.new_id()
            now = updated_at if updated_at is not None else self.time()
            shop_cur = self.shop["currencyCode"]
            pres_cur = presentment_currency or shop_cur
            fx = Decimal(str(rate))
            number = self.first_order_number + len(self.orders)
            pos = pos_location is not None
            items = []
            subtotal = Decimal("0")
            for sku, qty in lines:
                variant = self.variant_by_sku(sku)
                price = Decimal(variant["price"]) if variant else Decimal("10.00")
                title = self.products[variant["product"]]["title"] if variant else f"Article {sku}"
                tax = (price * qty - price * qty / (1 + TAX_RATE)).quantize(CENT)
                line_id = self.new_id()
                items.append({
                    "id": line_id, "admin_graphql_api_id": f"gid://shopify/LineItem/{line_id}",
                    "variant_id": int(_num(variant["id"])) if variant else None,
                    "product_id": int(_num(variant["product"])) if variant else None,
                    "sku": sku, "title": title, "name": title, "variant_title": _variant_title(variant),
                    "quantity": qty, "current_quantity": qty, "fulfillable_quantity": 0 if pos else qty,
                    "price": _money(price), "price_set": self._set(price, fx, pres_cur),
                    "total_discount": "0.00", "total_discount_set": self._set(0, fx, pres_cur),
                    "tax_lines": [{"title": "TVA", "rate": float(TAX_RATE), "price": _money(tax),
                                   "price_set": self._set(tax, fx, pres_cur)}],
                    "requires_shipping": not pos, "fulfillment_status": "fulfilled" if pos else None,
                })
                subtotal += price * qty
            ship_price = Decimal("0") if pos else Decimal(shipping[1])
            total = subtotal + ship_price
            tax_total = sum(Decimal(li["tax_lines"][0]["price"]) for li in items)
            first, last = customer
            addr = None if pos else {
                "first_name": first, "last_name": last, "name": f"{first} {last}", "company": None,
                "address1": "12 rue des Lilas", "address2": None, "city": "Lyon", "zip": "69003",
                "province": None, "province_code": None, "country": "France", "country_code": "FR",
                "phone": "+33 6 12 34 56 78", **(address or {})}
            order = {
                "id": oid, "admin_graphql_api_id": f"gid://shopify/Order/{oid}", "name": f"#{number}",
                "order_number": number, "number": number - 1000, "email": email, "contact_email": email,
                "phone": None, "created_at": _iso(now), "updated_at": _iso(now), "processed_at": _iso(now),
                "cancelled_at": None, "cancel_reason": None, "closed_at": None, "test": False,
                "currency": shop_cur, "presentment_currency": pres_cur,
                "subtotal_price": _money(subtotal), "subtotal_price_set": self._set(subtotal, fx, pres_cur),
                "total_price": _money(total), "total_price_set": self._set(total, fx, pres_cur),
                "total_tax": _money(tax_total), "total_tax_set": self._set(tax_total, fx, pres_cur),
                "total_discounts": "0.00", "total_discounts_set": self._set(0, fx, pres_cur),
                "total_shipping_price_set": self._set(ship_price, fx, pres_cur), "taxes_included": True,
                "financial_status": "paid", "fulfillment_status": "fulfilled" if pos else None,
                "source_name": "pos" if pos else "web", "location_id": int(_num(pos_location)) if pos else None,
                "tags": "", "note": None, "payment_gateway_names": [gateway],
                "customer": {"id": self.new_id(), "email": email, "first_name": first, "last_name": last},
                "billing_address": addr, "shipping_address": addr,
                "shipping_lines": [] if pos else [{"title": shipping[0], "code": shipping[0].upper(),
                                                   "price": _money(ship_price),
                                                   "price_set": self._set(ship_price, fx, pres_cur)}],
                "line_items": items, "fulfillments": [], "refunds": [],
            }
            gid = order["admin_graphql_api_id"]
            self.orders[gid] = order
            fees = []
            if gateway == SHOPIFY_PAYMENTS:
                fee = (total * PAYMENTS_RATE / 100 + PAYMENTS_FLAT).quantize(CENT, ROUND_HALF_UP)
                fees.append({"id": f"gid://shopify/TransactionFee/{self.new_id()}", "amount": fee,
                             "flatFee": PAYMENTS_FLAT, "flatFeeName": None, "rate": PAYMENTS_RATE / 100,
                             "rateName": "Carte bancaire", "type": "payments_credit_card_fee"})
            self.transactions[gid] = [self._transaction("sale", gateway, total, fx, pres_cur, now, fees)]
            location = pos_location or self._fulfilling_location(lines)
            for li, (sku, qty) in zip(items, lines):
                variant = self.variant_by_sku(sku)
                if variant is None:
                    continue
                level = self.items[variant["item"]]["levels"].setdefault(location, {"available": 0, "committed": 0})
                level["available"] -= qty
                if not pos:
                    level["committed"] += qty
            fo_id = f"gid://shopify/FulfillmentOrder/{self.new_id()}"
            self.fulfillment_orders[fo_id] = {
                "id": fo_id, "order": gid, "location": location, "status": "CLOSED" if pos else "OPEN",
                "lines": [{"id": f"gid://shopify/FulfillmentOrderLineItem/{self.new_id()}",
                           "line_item": li["admin_graphql_api_id"], "total": li["quantity"],
                           "remaining": 0 if pos else li["quantity"]} for li in items]}
        if notify:
            self.emit("orders/create", order)
        return order

    def _transaction(self, kind: str, gateway: str, amount: Decimal, fx: Decimal, currency: str, at: float,
                     fees: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        """A successful payment transaction (``amount`` in the shop's currency); the customer
        pays in ``currency``."""
        tid = self.new_id()
        return {"id": tid, "admin_graphql_api_id": f"gid://shopify/OrderTransaction/{tid}", "kind": kind,
                "gateway": gateway, "status": "success", "amount": _money(amount * fx), "currency": currency,
                "amount_set": self._set(amount, fx, currency), "created_at": _iso(at), "processed_at": _iso(at),
                "fees": fees or []}

    def refund_order(self, order_id: int | str, lines: list[tuple[str, int]], *, restock_type: str = "return",
                     reason: str | None = None, amount: Decimal | str | None = None, note: str | None = None,
                     notify: bool = True) -> dict[str, Any]:
        """The merchant refunds an order: ``lines`` are (SKU, quantity) refunded with
        ``restock_type`` (``return``: the units came back and are restocked, ``no_restock``,
        ``cancel``); ``amount`` (shop currency) defaults to the lines' price. With ``reason``
        (a ``ReturnReason`` value) the refund closes a return of those units. Sends
        ``refunds/create`` then ``orders/updated``; returns the REST ``Refund``."""
        with self.lock:
            order = self.orders[_order_gid(order_id)]
            gid = order["admin_graphql_api_id"]
            fx = Decimal(order["total_price_set"]["presentment_money"]["amount"]) / Decimal(order["total_price"]) \
                if Decimal(order["total_price"]) else Decimal("1")
            pres = order["presentment_currency"]
            now = self.time()
            refund_id = self.new_id()
            location = next((fo["location"] for fo in self.fulfillment_orders.values() if fo["order"] == gid), None)
            items, subtotal = [], Decimal("0")
            for sku, qty in lines:
                li = next(x for x in order["line_items"] if x["sku"] == sku)
                assert 0 < qty <= li["current_quantity"], f"{sku}: {qty} > {li['current_quantity']}"
                price = Decimal(li["price"])
                tax = (Decimal(li["tax_lines"][0]["price"]) * qty / li["quantity"]).quantize(CENT)
                li["current_quantity"] -= qty
                subtotal += price * qty
                rli_id = self.new_id()
                items.append({"id": rli_id, "line_item_id": li["id"], "quantity": qty, "restock_type": restock_type,
                              "location_id": int(_num(location)) if location and restock_type != "no_restock"
                              else None,
                              "subtotal": _money(price * qty), "subtotal_set": self._set(price * qty, fx, pres),
                              "total_tax": _money(tax), "total_tax_set": self._set(tax, fx, pres),
                              "line_item": json.loads(json.dumps(li))})
                self._restock(gid, location, li, qty, restock_type)
            value = Decimal(str(amount)) if amount is not None else subtotal
            transaction = self._transaction("refund", order["payment_gateway_names"][0], value, fx, pres, now)
            self.transactions[gid].append(transaction)
            refund = {"id": refund_id, "admin_graphql_api_id": f"gid://shopify/Refund/{refund_id}",
                      "order_id": order["id"], "created_at": _iso(now), "processed_at": _iso(now), "note": note,
                      "user_id": None, "restock": restock_type in ("return", "cancel"), "refund_line_items": items,
                      "transactions": [{k: v for k, v in transaction.items() if k not in ("fees", "amount_set")}
                                       | {"order_id": order["id"], "parent_id": self.transactions[gid][0]["id"]}],
                      "order_adjustments": [], "duties": [], "refund_shipping_lines": []}
            order["refunds"].append(refund)
            if reason is not None and items:
                self.returns[refund["admin_graphql_api_id"]] = {
                    "id": f"gid://shopify/Return/{self.new_id()}", "name": f"{order['name']}-R{len(order['refunds'])}",
                    "lines": [(rli, reason) for rli in items]}
            refunded = sum((Decimal(r["transactions"][0]["amount"]) / fx for r in order["refunds"]), Decimal("0"))
            order["financial_status"] = "refunded" if refunded >= Decimal(order["total_price"]) \
                else "partially_refunded"
            order["updated_at"] = _iso(now)
            payload = json.loads(json.dumps(order))
            refund_payload = json.loads(json.dumps(refund))
        if notify:
            self.emit("refunds/create", refund_payload)
            self.emit("orders/updated", payload)
        return refund_payload

    def _restock(self, order_gid: str, location: str | None, li: dict[str, Any], qty: int, restock_type: str) -> None:
        variant = self.variant_by_sku(li["sku"])
        if variant is None or location is None or restock_type not in ("return", "cancel"):
            return
        level = self.items[variant["item"]]["levels"].setdefault(location, {"available": 0, "committed": 0})
        level["available"] += qty
        if restock_type == "cancel":
            level["committed"] -= qty
            for fo in self.fulfillment_orders.values():
                for line in fo["lines"] if fo["order"] == order_gid else ():
                    if line["line_item"] == li["admin_graphql_api_id"]:
                        line["remaining"] = max(line["remaining"] - qty, 0)

    def _set(self, amount: Decimal | int | str, fx: Decimal, currency: str) -> dict[str, Any]:
        value = Decimal(amount)
        return {"shop_money": {"amount": _money(value), "currency_code": self.shop["currencyCode"]},
                "presentment_money": {"amount": _money(value * fx), "currency_code": currency}}

    def _fulfilling_location(self, lines: list[tuple[str, int]]) -> str:
        online = [gid for gid, loc in self.locations.items() if loc["fulfillsOnlineOrders"] and loc["isActive"]]
        for gid in online:
            if all(self.available(sku, gid) >= qty for sku, qty in lines if self.variant_by_sku(sku)):
                return gid
        return online[0]

    def touch_order(self, order_id: int | str, *, notify: bool = True, at: float | None = None,
                    **changes: Any) -> dict[str, Any]:
        """Change an order (tags, note, addresses…) and send ``orders/updated``."""
        with self.lock:
            order = self.orders[_order_gid(order_id)]
            order.update(changes)
            order["updated_at"] = _iso(at if at is not None else self.time())
            payload = json.loads(json.dumps(order))
        if notify:
            self.emit("orders/updated", payload)
        return payload

    def cancel_order(self, order_id: int | str, *, reason: str = "customer", notify: bool = True) -> dict[str, Any]:
        with self.lock:
            order = self.orders[_order_gid(order_id)]
            order.update(cancelled_at=self.now_iso(), cancel_reason=reason, financial_status="refunded",
                         updated_at=self.now_iso())
            for fo in self.fulfillment_orders.values():
                if fo["order"] != order["admin_graphql_api_id"] or fo["status"] not in ("OPEN", "IN_PROGRESS"):
                    continue
                for line in fo["lines"]:
                    li = next(x for x in order["line_items"] if x["admin_graphql_api_id"] == line["line_item"])
                    variant = self.variant_by_sku(li["sku"])
                    if variant is not None and line["remaining"]:
                        level = self.items[variant["item"]]["levels"][fo["location"]]
                        level["committed"] -= line["remaining"]
                        level["available"] += line["remaining"]
                    line["remaining"] = 0
                fo["status"] = "CANCELLED"
            payload = json.loads(json.dumps(order))
        if notify:
            self.emit("orders/cancelled", payload)
            self.emit("orders/updated", payload)
        return payload

    # ------------------------------------------------------------------ webhooks
    def subscribe(self, client_id: str, topic: str, uri: str | None, api_version: str = DEFAULT_API_VERSION) -> str:
        """A subscription; ``uri`` None means "the OMS this emulator is mounted in" (demo)."""
        sid = f"gid://shopify/WebhookSubscription/{self.new_id()}"
        with self.lock:
            self.subscriptions[sid] = {"id": sid, "client_id": client_id, "topic": topic, "uri": uri,
                                       "api_version": api_version}
        return sid

    def emit(self, topic: str, payload: dict[str, Any], *, defer: bool = False) -> list[Delivery]:
        """Send ``topic`` to its subscribers now, or (``defer``) once :meth:`flush` runs, as
        Shopify sends the webhooks an API call causes after answering it."""
        if defer:
            with self.lock:
                self.outbox.append((topic, payload))
            return []
        with self.lock:
            targets = [s for s in self.subscriptions.values() if s["topic"] == topic]
        return self._send(targets, topic, payload)

    def flush(self) -> list[Delivery]:
        """Send the webhooks waiting in the outbox."""
        with self.lock:
            waiting, self.outbox = self.outbox, []
        sent: list[Delivery] = []
        for topic, payload in waiting:
            sent += self.emit(topic, payload)
        return sent

    def send_compliance(self, topic: str, payload: dict[str, Any], client_id: str = DEMO_API_KEY) -> Delivery:
        """A compliance webhook, sent to the app's configured compliance URI."""
        assert topic in COMPLIANCE_TOPICS
        app = self.apps[client_id]
        uri = app.compliance_uri or self.default_webhook_uri
        assert uri, "no compliance URI configured for this app"
        return self._deliver(client_id, topic, uri, DEFAULT_API_VERSION, payload)

    def _send(self, targets: list[dict[str, Any]], topic: str, payload: dict[str, Any]) -> list[Delivery]:
        sent = []
        for sub in targets:
            uri = sub["uri"] or self.default_webhook_uri
            if uri:
                sent.append(self._deliver(sub["client_id"], topic, uri, sub["api_version"], payload))
        return sent

    def _deliver(self, client_id: str, topic: str, uri: str, api_version: str, payload: dict[str, Any]) -> Delivery:
        body = json.dumps(payload, separators=(",", ":")).encode()
        secret = self.apps[client_id].secret
        webhook_id = str(uuid.uuid4())
        headers = {"Content-Type": "application/json", "X-Shopify-Topic": topic,
                   "X-Shopify-Hmac-Sha256": webhook_hmac(body, secret), "X-Shopify-Shop-Domain": self.domain,
                   "X-Shopify-Webhook-Id": webhook_id, "X-Shopify-Event-Id": str(uuid.uuid4()),
                   "X-Shopify-API-Version": api_version, "X-Shopify-Triggered-At": _iso_precise(self.time())}
        delivery = Delivery(webhook_id, topic, uri, body, headers)
        delivery.status = self.sender(uri, body, headers)
        with self.lock:
            self.deliveries.append(delivery)
        return delivery

    def redeliver(self, webhook_id: str) -> Delivery:
        """Shopify retrying a delivery: same id, same body, same signature."""
        original = next(d for d in self.deliveries if d.webhook_id == webhook_id)
        again = Delivery(original.webhook_id, original.topic, original.uri, original.body, dict(original.headers))
        again.status = self.sender(again.uri, again.body, again.headers)
        with self.lock:
            self.deliveries.append(again)
        return again

    # ------------------------------------------------------------------ REST payloads (webhooks)
    def product_rest(self, gid: str) -> dict[str, Any]:
        p = self.products[gid]
        variants = []
        for pos, vid in enumerate(p["variants"], 1):
            v = self.variants[vid]
            opts = list(v["options"].values())
            variants.append({
                "id": int(_num(vid)), "admin_graphql_api_id": vid, "product_id": int(_num(gid)),
                "title": _variant_title(v) or "Default Title", "sku": v["sku"], "barcode": v["barcode"],
                "price": v["price"], "position": pos, "inventory_item_id": int(_num(v["item"])),
                "option1": opts[0] if opts else None, "option2": opts[1] if len(opts) > 1 else None,
                "option3": opts[2] if len(opts) > 2 else None, "updated_at": v["updatedAt"],
            })
        names: list[str] = []
        for vid in p["variants"]:
            names += [n for n in self.variants[vid]["options"] if n not in names]
        return {"id": int(_num(gid)), "admin_graphql_api_id": gid, "title": p["title"],
                "body_html": p["descriptionHtml"], "handle": p["handle"], "status": p["status"].lower(),
                "vendor": p["vendor"], "product_type": p["productType"], "tags": ", ".join(p["tags"]),
                "created_at": p["createdAt"], "updated_at": p["updatedAt"], "variants": variants,
                "options": [{"name": n, "position": i + 1} for i, n in enumerate(names)],
                "images": [{"src": url, "position": i + 1} for i, url in enumerate(p["images"])]}

    # ------------------------------------------------------------------ GraphQL
    def execute(self, token: str | None, body: Any,
                api_version: str = DEFAULT_API_VERSION) -> tuple[dict[str, Any], int]:
        client_id = self.token_app(token)
        if client_id is None:
            return INVALID_TOKEN, 401
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            return {"errors": {"query": "Required parameter missing or invalid"}}, 400
        variables = body.get("variables") or {}
        document, problems = _checked(body["query"])
        if document is None or problems:
            return {"errors": problems}, 200
        operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
        fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        operation = operations[0]
        cost = requested_cost(self.schema, operation, fragments, variables)
        if cost > MAX_QUERY_COST:
            return {"errors": [{"message": f"Query cost is {cost}, which exceeds the single query max cost "
                                           f"limit ({MAX_QUERY_COST}).",
                                "extensions": {"code": "MAX_COST_EXCEEDED", "cost": cost,
                                               "maxCost": MAX_QUERY_COST}}]}, 200
        with self.lock:
            available = self.bucket.level()
            if available < cost:
                return {"errors": [{"message": "Throttled", "extensions": {
                            "code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}],
                        "extensions": self._cost(cost, None, available)}, 200
            self.bucket.available -= cost
            self.operations.append(operation.name.value if operation.name else operation.operation.value)
            context = {"client_id": client_id, "operation": operation, "api_version": api_version}
            root = _Resolvers(self, context)
            result = execute(self.schema, document, root_value=root.root(operation.operation.value),
                             variable_values=variables, context_value=context, field_resolver=resolve_field)
            actual = min(cost, _count_objects(result.data) + (10 if operation.operation.value == "mutation" else 0))
            self.bucket.available = min(self.bucket.size, self.bucket.available + cost - actual)
            answer: dict[str, Any] = {"data": result.data}
            if result.errors:
                answer["errors"] = [e.formatted for e in result.errors]
            answer["extensions"] = self._cost(cost, actual, self.bucket.available)
        return answer, 200

    def _cost(self, requested: int, actual: int | None, available: float) -> dict[str, Any]:
        return {"cost": {"requestedQueryCost": requested, "actualQueryCost": actual,
                         "throttleStatus": {"maximumAvailable": self.bucket.size,
                                            "currentlyAvailable": int(available),
                                            "restoreRate": self.bucket.rate}}}
