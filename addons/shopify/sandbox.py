"""Emulator of a Shopify shop and its apps, speaking Shopify's wire formats.

* OAuth: ``GET /admin/oauth/authorize`` (the grant, approved at once) redirects to the app's
  ``redirect_uri`` with ``code``, ``hmac``, ``host``, ``shop``, ``state`` and ``timestamp``,
  signed like Shopify (hex HMAC-SHA256 of the sorted query with the app's secret);
  ``POST /admin/oauth/access_token`` exchanges the code (``expiring=1`` gives a 3600 s token
  and a 90-day refresh token) and refreshes (``grant_type=refresh_token``, rotating both).
* Admin GraphQL ``POST /admin/api/{version}/graphql.json``: the operations the add-on uses,
  validated against a schema with Shopify's type names; ``X-Shopify-Access-Token``
  checked (401 with Shopify's body otherwise); a leaky bucket charged with the query's cost,
  ``extensions.cost`` on every answer and ``THROTTLED`` errors when the bucket is short;
  ``userErrors`` on refused mutations; ``@idempotent`` required on inventory mutations.
* An in-memory shop: products, variants, inventory items and levels per location, orders
  (online and POS), their payment transactions (Shopify Payments ones carry their
  processing fees), refunds and the returns they close, fulfillment orders, fulfillments,
  webhook subscriptions.
* Webhooks: every change is delivered to the subscribed URIs (and the app's compliance
  URI) signed like Shopify: ``X-Shopify-Hmac-Sha256`` (base64 HMAC-SHA256 of the raw body
  with the app secret), ``X-Shopify-Topic``, ``X-Shopify-Shop-Domain``,
  ``X-Shopify-Webhook-Id``, ``X-Shopify-Event-Id``, ``X-Shopify-API-Version``,
  ``X-Shopify-Triggered-At``.

The demo mounts it with :func:`demo_app`: the shop sells the demo merchant's catalogue and a
customer places an order every few seconds, the first one buying the catalogue's first and
newest products. ``GET /`` shows the shop's orders as its customers see them: status,
shipments and their tracking (the emulator's own page, not part of Shopify's API).
"""
from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import itertools
import json
import os
import random
import re
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import urlencode

import httpx
from flask import Flask, jsonify, redirect, render_template_string, request
from graphql import (
    DocumentNode,
    FragmentDefinitionNode,
    GraphQLError,
    OperationDefinitionNode,
    execute,
    get_directive_values,
    parse,
    validate,
)

from core.connectors.emulator import EmulatorKit, ManualClock, mount_path  # noqa: F401 (ManualClock: the tests')

from .client import API_VERSION, DEFAULT_API_VERSION, ssl_context
from .graphql import COMPLIANCE_TOPICS, TOPICS, topic_enum
from .oauth import query_hmac, webhook_hmac
from .sandbox_schema import conn_field, connection, requested_cost, resolve_field, schema

DEMO_DOMAIN = "maison-lumiere.myshopify.com"
DEMO_TOKEN = "shpat_0d3m0t0k3n0f0m50000000000000"
DEMO_API_KEY = "0d3m0a5b7c9e1f3a5b7c9e1f3a5b7c9e"
DEMO_API_SECRET = "shpss_0d3m0s3cr3t0f0m5000000000000"
DEMO_SHOP = {
    "name": "Maison Lumière",
    "myshopifyDomain": DEMO_DOMAIN,
    "currencyCode": "EUR",
    "plan": {"publicDisplayName": "Basic"},
}
INVALID_TOKEN = {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}
#: where the OMS receives webhooks, relative to its root
WEBHOOK_PATH = "/apps/shopify/webhooks"
MOUNT_PATH = mount_path("shopify")

# Standard plan: a 2000-point bucket refilled at 100 points per second
BUCKET_SIZE = 2000.0
RESTORE_RATE = 100.0
MAX_QUERY_COST = 1000
TOKEN_TTL = 3600
REFRESH_TTL = 7_776_000
CODE_TTL = 600
INVENTORY_REASONS = {"correction", "cycle_count_available", "damaged", "movement_created", "movement_updated",
                     "movement_received", "movement_canceled", "other", "promotion", "quality_control",
                     "received", "reservation_created", "reservation_deleted", "reservation_updated",
                     "restock", "safety_stock", "shrinkage"}
TAX_RATE = Decimal("0.20")
CENT = Decimal("0.01")
SHOPIFY_PAYMENTS = "shopify_payments"
#: the emulated Shopify Payments card rate (percentage, flat fee in the shop's currency)
PAYMENTS_RATE = Decimal("1.5")
PAYMENTS_FLAT = Decimal("0.25")


def _money(value: Decimal | str | int) -> str:
    return str(Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP))


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _iso_precise(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _parse_iso(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


@dataclass
class _App:
    client_id: str
    secret: str
    compliance_uri: str | None = None


@dataclass
class _Token:
    client_id: str
    scope: str
    expires_at: float | None = None


@dataclass
class Delivery:
    webhook_id: str
    topic: str
    uri: str
    body: bytes
    headers: dict[str, str]
    status: int = 0


@dataclass
class _Bucket:
    size: float
    rate: float
    clock: Callable[[], float]
    available: float = field(init=False)
    at: float = field(init=False)

    def __post_init__(self) -> None:
        self.available = self.size
        self.at = self.clock()

    def level(self) -> float:
        now = self.clock()
        self.available = min(self.size, self.available + (now - self.at) * self.rate)
        self.at = now
        return self.available


Sender = Callable[[str, bytes, dict[str, str]], int]


_HTTP: httpx.Client | None = None


def http_sender(url: str, body: bytes, headers: dict[str, str]) -> int:
    """Deliver like Shopify: POST, 5 s in total (1 s to connect), keep-alive; any answer but
    2xx is a failure."""
    global _HTTP
    if _HTTP is None:
        _HTTP = httpx.Client(timeout=httpx.Timeout(5.0, connect=1.0), verify=ssl_context())
    try:
        return _HTTP.post(url, content=body, headers=headers).status_code
    except httpx.HTTPError:
        return 0


class ShopifyEmulator:
    """The emulated shop's state and behaviour (thread-safe)."""

    def __init__(self, *, domain: str = DEMO_DOMAIN, shop: dict[str, Any] | None = None,
                 apps: dict[str, str] | None = None, tokens: dict[str, str] | None = None,
                 time_fn: Callable[[], float] = time.time, monotonic: Callable[[], float] = time.monotonic,
                 bucket_size: float = BUCKET_SIZE, restore_rate: float = RESTORE_RATE, token_ttl: int = TOKEN_TTL,
                 sender: Sender = http_sender, catalog: str | None = "demo") -> None:
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
        self._ids = itertools.count(1001)
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
            number = 1000 + len(self.orders) + 1
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


@functools.lru_cache(maxsize=256)
def _checked(query: str) -> tuple[DocumentNode | None, list[dict[str, Any]]]:
    """The parsed query and its validation errors against the schema (cached: apps send
    the same few operations over and over)."""
    try:
        document = parse(query)
    except GraphQLError as exc:
        return None, [exc.formatted]
    return document, [p.formatted for p in validate(schema(), document)]


def _count_objects(data: Any) -> int:
    if isinstance(data, dict):
        return 1 + sum(_count_objects(v) for v in data.values())
    if isinstance(data, list):
        return sum(_count_objects(v) for v in data)
    return 0


def _num(gid: str | int) -> str:
    return str(gid).rsplit("/", 1)[-1]


def _order_gid(order_id: int | str) -> str:
    text = str(order_id)
    return text if text.startswith("gid://") else f"gid://shopify/Order/{text}"


def _handle(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "produit"


def _variant_title(variant: dict[str, Any] | None) -> str | None:
    if not variant:
        return None
    values = [v for v in variant["options"].values() if v != "Default Title"]
    return " / ".join(values) or None


def _err(message: str, field: list[str] | None = None, code: str | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {"field": field, "message": message}
    if code:
        entry["code"] = code
    return entry


class _Resolvers:
    """Builds the view dicts graphql-core resolves from, for one request."""

    def __init__(self, emu: ShopifyEmulator, context: dict[str, Any]) -> None:
        self.emu = emu
        self.context = context

    def root(self, kind: str) -> dict[str, Any]:
        if kind == "mutation":
            return {"productSet": self.product_set, "inventorySetQuantities": self.inventory_set,
                    "fulfillmentCreate": self.fulfillment_create,
                    "webhookSubscriptionCreate": self.webhook_subscribe, "orderCancel": self.order_cancel}
        emu = self.emu
        return {
            "shop": emu.shop,
            "locations": lambda _i, first=None, after=None, includeInactive=False, query=None: _conn(
                [loc for loc in emu.locations.values() if includeInactive or loc["isActive"]], first, after,
                self.location),
            "products": self.products,
            "product": lambda _i, id: self.product(emu.products[id]) if id in emu.products else None,
            "orders": self.orders,
            "order": lambda _i, id: self.order(emu.orders[id]) if id in emu.orders else None,
            "refund": lambda _i, id: self.node(id) if id.startswith("gid://shopify/Refund/") else None,
            "node": lambda _i, id: self.node(id),
            "nodes": lambda _i, ids: [self.node(i) for i in ids],
            "webhookSubscriptions": lambda _i, first=None, after=None, topics=None: _conn(
                [s for s in emu.subscriptions.values() if s["client_id"] == self.context["client_id"]
                 and (not topics or topic_enum(s["topic"]) in topics)], first, after, self.subscription),
        }

    # ---------------------------------------------------------------- views
    def location(self, loc: dict[str, Any]) -> dict[str, Any]:
        return {"__typename": "Location", **loc}

    def product(self, p: dict[str, Any]) -> dict[str, Any]:
        emu = self.emu
        return {"__typename": "Product", **{k: p[k] for k in ("id", "title", "handle", "descriptionHtml", "status",
                                                               "vendor", "productType", "tags", "createdAt",
                                                               "updatedAt")},
                "media": conn_field(lambda: p["images"], lambda url: {
                    "__typename": "MediaImage", "id": f"gid://shopify/MediaImage/{abs(hash(url)) % 10**12}",
                    "alt": None, "mediaContentType": "IMAGE", "image": {"url": url, "altText": None}}),
                "variants": conn_field(lambda: [emu.variants[v] for v in p["variants"] if v in emu.variants],
                                       self.variant)}

    def variant(self, v: dict[str, Any]) -> dict[str, Any]:
        emu = self.emu
        item = emu.items[v["item"]]
        return {"__typename": "ProductVariant", "id": v["id"], "title": _variant_title(v) or "Default Title",
                "sku": v["sku"], "barcode": v["barcode"], "price": v["price"], "compareAtPrice": None,
                "updatedAt": v["updatedAt"],
                "inventoryQuantity": sum(level["available"] for level in item["levels"].values()),
                "selectedOptions": [{"name": n, "value": val} for n, val in v["options"].items()],
                "inventoryItem": lambda _i: self.item(item),
                "product": lambda _i: self.product(emu.products[v["product"]])}

    def item(self, item: dict[str, Any]) -> dict[str, Any]:
        emu = self.emu

        def level(_info: Any, locationId: str) -> dict[str, Any] | None:
            quantities = item["levels"].get(locationId)
            if quantities is None or locationId not in emu.locations:
                return None
            return {"id": f"gid://shopify/InventoryLevel/{_num(item['id'])}?inventory_item_id={_num(locationId)}",
                    "location": self.location(emu.locations[locationId]),
                    "quantities": lambda _i, names: [
                        {"name": n, "quantity": _quantity(quantities, n)} for n in names]}

        weight = item.get("weight")
        return {"__typename": "InventoryItem", "id": item["id"], "sku": item["sku"], "tracked": item["tracked"],
                "harmonizedSystemCode": item["harmonizedSystemCode"],
                "countryCodeOfOrigin": item["countryCodeOfOrigin"],
                "measurement": {"weight": {"unit": "GRAMS", "value": float(weight)} if weight else None},
                "inventoryLevel": level}

    def order(self, o: dict[str, Any]) -> dict[str, Any]:
        emu = self.emu
        pres = o["presentment_currency"]

        def bag(key: str) -> dict[str, Any] | None:
            value = o.get(key)
            if value is None:
                return None
            return {"shopMoney": {"amount": value["shop_money"]["amount"],
                                  "currencyCode": value["shop_money"]["currency_code"]},
                    "presentmentMoney": {"amount": value["presentment_money"]["amount"],
                                         "currencyCode": value["presentment_money"]["currency_code"]}}

        def address(a: dict[str, Any] | None) -> dict[str, Any] | None:
            if not a:
                return None
            return {"name": a.get("name"), "firstName": a.get("first_name"), "lastName": a.get("last_name"),
                    "company": a.get("company"), "address1": a.get("address1"), "address2": a.get("address2"),
                    "city": a.get("city"), "zip": a.get("zip"), "province": a.get("province"),
                    "provinceCode": a.get("province_code"), "country": a.get("country"),
                    "countryCodeV2": a.get("country_code"), "phone": a.get("phone")}

        line = self.line_item
        location = None
        if o.get("location_id"):
            location = emu.locations.get(f"gid://shopify/Location/{o['location_id']}")
        customer = o.get("customer") or {}
        fulfilled = o.get("fulfillment_status")
        return {
            "__typename": "Order", "id": o["admin_graphql_api_id"], "name": o["name"], "createdAt": o["created_at"],
            "updatedAt": o["updated_at"], "processedAt": o["processed_at"], "cancelledAt": o["cancelled_at"],
            "sourceName": o["source_name"], "test": o["test"], "email": o["email"], "phone": o["phone"],
            "tags": [t.strip() for t in (o.get("tags") or "").split(",") if t.strip()],
            "currencyCode": o["currency"], "presentmentCurrencyCode": pres,
            "displayFinancialStatus": (o.get("financial_status") or "pending").upper(),
            "displayFulfillmentStatus": {"fulfilled": "FULFILLED", "partial": "PARTIALLY_FULFILLED"}.get(
                fulfilled or "", "UNFULFILLED"),
            "totalPriceSet": bag("total_price_set"), "subtotalPriceSet": bag("subtotal_price_set"),
            "totalShippingPriceSet": bag("total_shipping_price_set"), "totalTaxSet": bag("total_tax_set"),
            "totalDiscountsSet": bag("total_discounts_set"),
            "customer": {"id": f"gid://shopify/Customer/{customer.get('id')}", "firstName": customer.get("first_name"),
                         "lastName": customer.get("last_name"),
                         "displayName": f"{customer.get('first_name', '')} {customer.get('last_name', '')}".strip()}
            if customer else None,
            "shippingAddress": address(o.get("shipping_address")), "billingAddress": address(o.get("billing_address")),
            "retailLocation": self.location(location) if location else None,
            "shippingLines": conn_field(lambda: o["shipping_lines"],
                                        lambda s: {"title": s["title"], "code": s["code"]}),
            "lineItems": conn_field(lambda: o["line_items"], line),
            "fulfillmentOrders": conn_field(
                lambda: [fo for fo in emu.fulfillment_orders.values() if fo["order"] == o["admin_graphql_api_id"]],
                lambda fo: self.fulfillment_order(fo, o, line)),
            "refunds": lambda _i, first=None: [self.refund(r, o, line) for r in o["refunds"][:first]],
            "transactions": lambda _i, first=None, **_: [
                self.transaction(t) for t in emu.transactions.get(o["admin_graphql_api_id"], [])[:first]],
        }

    def transaction(self, t: dict[str, Any]) -> dict[str, Any]:
        cur = self.emu.shop["currencyCode"]
        return {"__typename": "OrderTransaction", "id": t["admin_graphql_api_id"], "kind": t["kind"].upper(),
                "status": t["status"].upper(), "gateway": t["gateway"], "createdAt": t["created_at"],
                "processedAt": t["processed_at"], "amountSet": _bag_from(t["amount_set"]),
                "fees": [{"__typename": "TransactionFee", "id": f["id"],
                          "amount": {"amount": _money(f["amount"]), "currencyCode": cur},
                          "flatFee": {"amount": _money(f["flatFee"]), "currencyCode": cur},
                          "flatFeeName": f["flatFeeName"], "rate": str(f["rate"]), "rateName": f["rateName"],
                          "taxAmount": {"amount": "0.00", "currencyCode": cur}, "type": f["type"]}
                         for f in t.get("fees") or []]}

    def refund(self, r: dict[str, Any], o: dict[str, Any], line: Callable[[dict], dict]) -> dict[str, Any]:
        emu = self.emu
        items = {li["id"]: li for li in o["line_items"]}
        txs = {t["id"]: t for t in emu.transactions.get(o["admin_graphql_api_id"], [])}
        shop_cur = emu.shop["currencyCode"]
        paid = [txs[t["id"]]["amount_set"] for t in r["transactions"]]
        total = sum((Decimal(bag["shop_money"]["amount"]) for bag in paid), Decimal("0"))
        pres = sum((Decimal(bag["presentment_money"]["amount"]) for bag in paid), Decimal("0"))

        def refund_line(rli: dict[str, Any]) -> dict[str, Any]:
            location = emu.locations.get(f"gid://shopify/Location/{rli['location_id']}")
            unit = {k: {"amount": _money(Decimal(v["amount"]) / rli["quantity"]), "currency_code": v["currency_code"]}
                    for k, v in rli["subtotal_set"].items()}
            return {"id": f"gid://shopify/RefundLineItem/{rli['id']}", "lineItem": line(items[rli["line_item_id"]]),
                    "location": self.location(location) if location else None, "priceSet": _bag_from(unit),
                    "quantity": rli["quantity"], "restocked": rli["restock_type"] in ("return", "cancel"),
                    "restockType": rli["restock_type"].upper(), "subtotalSet": _bag_from(rli["subtotal_set"]),
                    "totalTaxSet": _bag_from(rli["total_tax_set"])}

        ret = emu.returns.get(r["admin_graphql_api_id"])
        return {
            "__typename": "Refund", "id": r["admin_graphql_api_id"], "createdAt": r["created_at"],
            "updatedAt": r["processed_at"], "note": r["note"],
            "totalRefundedSet": {"shopMoney": {"amount": _money(total), "currencyCode": shop_cur},
                                 "presentmentMoney": {"amount": _money(pres),
                                                      "currencyCode": o["presentment_currency"]}},
            "refundLineItems": conn_field(lambda: r["refund_line_items"], refund_line),
            "transactions": conn_field(lambda: [txs[t["id"]] for t in r["transactions"]], self.transaction),
            "return": self.return_view(ret, line, items) if ret else None,
        }

    def return_view(self, ret: dict[str, Any], line: Callable[[dict], dict],
                    items: dict[int, dict[str, Any]]) -> dict[str, Any]:
        return {"__typename": "Return", "id": ret["id"], "name": ret["name"], "status": "CLOSED",
                "returnLineItems": conn_field(lambda: ret["lines"], lambda pair: {
                    "__typename": "ReturnLineItem", "id": f"gid://shopify/ReturnLineItem/{pair[0]['id']}",
                    "quantity": pair[0]["quantity"], "refundedQuantity": pair[0]["quantity"],
                    "returnReason": pair[1], "returnReasonNote": "", "customerNote": None,
                    "fulfillmentLineItem": {"id": f"gid://shopify/FulfillmentLineItem/{pair[0]['line_item_id']}",
                                            "quantity": pair[0]["quantity"],
                                            "lineItem": line(items[pair[0]["line_item_id"]])}})}

    def line_item(self, li: dict[str, Any]) -> dict[str, Any]:
        emu = self.emu
        variant = emu.variants.get(f"gid://shopify/ProductVariant/{li['variant_id']}") if li["variant_id"] else None
        return {"__typename": "LineItem", "id": li["admin_graphql_api_id"], "sku": li["sku"], "name": li["name"],
                "title": li["title"], "quantity": li["quantity"], "currentQuantity": li["current_quantity"],
                "variant": (lambda _i: self.variant(variant)) if variant else None,
                "originalUnitPriceSet": _bag_from(li["price_set"]),
                "totalDiscountSet": _bag_from(li["total_discount_set"]),
                "taxLines": [{"title": t["title"], "rate": t["rate"], "priceSet": _bag_from(t["price_set"])}
                             for t in li["tax_lines"]]}

    def fulfillment_order(self, fo: dict[str, Any], o: dict[str, Any], line: Callable[[dict], dict]) -> dict[str, Any]:
        emu = self.emu
        items = {li["admin_graphql_api_id"]: li for li in o["line_items"]}
        return {"__typename": "FulfillmentOrder", "id": fo["id"], "status": fo["status"],
                "assignedLocation": {"name": emu.locations[fo["location"]]["name"],
                                     "location": self.location(emu.locations[fo["location"]])},
                "lineItems": conn_field(lambda: fo["lines"], lambda fl: {
                    "id": fl["id"], "totalQuantity": fl["total"], "remainingQuantity": fl["remaining"],
                    "lineItem": line(items[fl["line_item"]])})}

    def subscription(self, s: dict[str, Any]) -> dict[str, Any]:
        return {"__typename": "WebhookSubscription", "id": s["id"], "topic": topic_enum(s["topic"]),
                "uri": s["uri"] or self.emu.default_webhook_uri or "", "format": "JSON"}

    def node(self, ident: str) -> dict[str, Any] | None:
        emu = self.emu
        if ident in emu.items:
            return self.item(emu.items[ident])
        if ident in emu.products:
            return self.product(emu.products[ident])
        if ident in emu.variants:
            return self.variant(emu.variants[ident])
        if ident in emu.orders:
            return self.order(emu.orders[ident])
        if ident in emu.locations:
            return self.location(emu.locations[ident])
        for o in emu.orders.values():
            for r in o["refunds"]:
                if r["admin_graphql_api_id"] == ident:
                    return self.refund(r, o, self.line_item)
        return None

    # ---------------------------------------------------------------- lists with search
    def products(self, _info: Any, first: int | None = None, after: str | None = None, query: str | None = None,
                 sortKey: str | None = None, reverse: bool = False) -> dict[str, Any]:
        items = [p for p in self.emu.products.values() if _matches(query, {
            "updated_at": p["updatedAt"], "created_at": p["createdAt"], "title": p["title"],
            "sku": [self.emu.variants[v]["sku"] for v in p["variants"]], "status": p["status"].lower()})]
        items.sort(key=lambda p: (p["updatedAt"] if sortKey == "UPDATED_AT" else p["id"], p["id"]), reverse=reverse)
        return _conn(items, first, after, self.product)

    def orders(self, _info: Any, first: int | None = None, after: str | None = None, query: str | None = None,
               sortKey: str | None = None, reverse: bool = False) -> dict[str, Any]:
        def fields(o: dict[str, Any]) -> dict[str, Any]:
            return {"updated_at": o["updated_at"], "created_at": o["created_at"], "name": o["name"],
                    "status": "cancelled" if o["cancelled_at"] else ("closed" if o.get("closed_at") else "open"),
                    "fulfillment_status": o.get("fulfillment_status") or "unfulfilled",
                    "source_name": o["source_name"], "financial_status": o["financial_status"]}

        items = [o for o in self.emu.orders.values() if _matches(query, fields(o))]
        items.sort(key=lambda o: (o["updated_at"] if sortKey == "UPDATED_AT" else o["id"], o["id"]), reverse=reverse)
        return _conn(items, first, after, self.order)

    # ---------------------------------------------------------------- mutations
    def _idempotent_key(self, info: Any) -> str | None:
        directive = info.schema.get_directive("idempotent")
        values = get_directive_values(directive, info.field_nodes[0], info.variable_values) if directive else None
        return (values or {}).get("key")

    def inventory_set(self, info: Any, input: dict[str, Any]) -> dict[str, Any]:
        emu = self.emu
        key = self._idempotent_key(info)
        if not key:
            raise GraphQLError("The @idempotent directive is required for this mutation: add "
                               "@idempotent(key: \"<unique key>\") to inventorySetQuantities.",
                               extensions={"code": "BAD_REQUEST"})
        fingerprint = hashlib.sha256(json.dumps(input, sort_keys=True, default=str).encode()).hexdigest()
        previous = emu.idempotency.get(key)
        if previous is not None:
            if previous[0] != fingerprint:
                return {"inventoryAdjustmentGroup": None, "userErrors": [_err(
                    "The same idempotency key cannot be used with different operation parameters.", ["input"],
                    "IDEMPOTENCY_KEY_PARAMETER_MISMATCH")]}
            return previous[1]
        name = input["name"]
        errors: list[dict[str, Any]] = []
        if name not in ("available", "on_hand"):
            errors.append(_err("The quantity name must be either 'available' or 'on_hand'.", ["input", "name"],
                               "INVALID_NAME"))
        if input["reason"] not in INVENTORY_REASONS:
            errors.append(_err("The specified reason is invalid.", ["input", "reason"], "INVALID_REASON"))
        seen: set[tuple[str, str]] = set()
        for i, q in enumerate(input["quantities"]):
            path = ["input", "quantities", str(i)]
            if "changeFromQuantity" not in q:
                raise GraphQLError("InventoryQuantityInput.changeFromQuantity is required: pass the quantity you "
                                   "expect, or null to skip the check.", extensions={"code": "INVALID_FIELD_ARGUMENTS"})
            item = emu.items.get(q["inventoryItemId"])
            if item is None:
                errors.append(_err("The specified inventory item could not be found.", path + ["inventoryItemId"],
                                   "INVALID_INVENTORY_ITEM"))
                continue
            if q["locationId"] not in emu.locations:
                errors.append(_err("The specified location could not be found.", path + ["locationId"],
                                   "INVALID_LOCATION"))
                continue
            if (q["inventoryItemId"], q["locationId"]) in seen:
                errors.append(_err("The combination of inventoryItemId and locationId must be unique.", path,
                                   "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR"))
            seen.add((q["inventoryItemId"], q["locationId"]))
            if q["quantity"] < 0 and name == "on_hand":
                errors.append(_err("The quantity can't be negative.", path + ["quantity"], "INVALID_QUANTITY_NEGATIVE"))
            current = _quantity(item["levels"].setdefault(q["locationId"], {"available": 0, "committed": 0}), name)
            if q["changeFromQuantity"] is not None and q["changeFromQuantity"] != current:
                errors.append(_err(f"The changeFromQuantity value does not match persisted value ({current}).",
                                   path + ["changeFromQuantity"], "CHANGE_FROM_QUANTITY_STALE"))
        if errors:
            return {"inventoryAdjustmentGroup": None, "userErrors": errors}
        changes = []
        for q in input["quantities"]:
            level = emu.items[q["inventoryItemId"]]["levels"][q["locationId"]]
            before = _quantity(level, name)
            target = q["quantity"] if name == "available" else q["quantity"] - level["committed"]
            delta = q["quantity"] - before
            level["available"] = target
            changes.append({"name": name, "delta": delta, "quantityAfterChange": q["quantity"]})
        result = {"inventoryAdjustmentGroup": {
            "id": f"gid://shopify/InventoryAdjustmentGroup/{emu.new_id()}", "createdAt": emu.now_iso(),
            "reason": input["reason"], "referenceDocumentUri": input.get("referenceDocumentUri"), "changes": changes},
            "userErrors": []}
        emu.idempotency[key] = (fingerprint, result)
        return result

    def fulfillment_create(self, _info: Any, fulfillment: dict[str, Any], message: str | None = None) -> dict[str, Any]:
        emu = self.emu
        groups = fulfillment["lineItemsByFulfillmentOrder"]
        fos = []
        for i, group in enumerate(groups):
            fo = emu.fulfillment_orders.get(group["fulfillmentOrderId"])
            if fo is None:
                return {"fulfillment": None, "userErrors": [_err(
                    "Fulfillment order does not exist.",
                    ["fulfillment", "lineItemsByFulfillmentOrder", str(i), "fulfillmentOrderId"])]}
            if fo["status"] not in ("OPEN", "IN_PROGRESS"):
                return {"fulfillment": None, "userErrors": [_err(
                    f"Fulfillment order {fo['id']} has an unfulfillable status= {fo['status'].lower()}.",
                    ["fulfillment"])]}
            fos.append((fo, group))
        if len({fo["order"] for fo, _g in fos}) > 1 or len({fo["location"] for fo, _g in fos}) > 1:
            return {"fulfillment": None, "userErrors": [_err(
                "All fulfillment orders must belong to the same order and be assigned to the same location.",
                ["fulfillment"])]}
        plan: list[tuple[dict[str, Any], dict[str, Any], int]] = []
        for fo, group in fos:
            wanted = group.get("fulfillmentOrderLineItems")
            lines = {fl["id"]: fl for fl in fo["lines"]}
            if wanted is None:
                plan += [(fo, fl, fl["remaining"]) for fl in fo["lines"] if fl["remaining"]]
                continue
            for entry in wanted:
                fl = lines.get(entry["id"])
                if fl is None or entry["quantity"] <= 0 or entry["quantity"] > fl["remaining"]:
                    return {"fulfillment": None, "userErrors": [_err(
                        "Invalid fulfillment order line item quantity requested.", ["fulfillment"])]}
                plan.append((fo, fl, entry["quantity"]))
        if not plan:
            return {"fulfillment": None, "userErrors": [_err("Nothing left to fulfill.", ["fulfillment"])]}
        order = emu.orders[fos[0][0]["order"]]
        items = {li["admin_graphql_api_id"]: li for li in order["line_items"]}
        for fo, fl, qty in plan:
            fl["remaining"] -= qty
            li = items[fl["line_item"]]
            li["fulfillable_quantity"] = max(li["fulfillable_quantity"] - qty, 0)
            variant = emu.variant_by_sku(li["sku"])
            if variant is not None:
                emu.items[variant["item"]]["levels"][fo["location"]]["committed"] -= qty
        for fo, _g in fos:
            fo["status"] = "CLOSED" if all(fl["remaining"] == 0 for fl in fo["lines"]) else "IN_PROGRESS"
        tracking = fulfillment.get("trackingInfo") or {}
        fid = f"gid://shopify/Fulfillment/{emu.new_id()}"
        record = {"id": fid, "order": order["admin_graphql_api_id"], "status": "SUCCESS", "createdAt": emu.now_iso(),
                  "tracking": {"company": tracking.get("company"), "number": tracking.get("number"),
                               "url": tracking.get("url")},
                  "notify_customer": bool(fulfillment.get("notifyCustomer")),
                  "lines": [(fl["line_item"], qty) for _fo, fl, qty in plan], "message": message}
        emu.fulfillments[fid] = record
        remaining = sum(fl["remaining"] for fo in emu.fulfillment_orders.values()
                        if fo["order"] == order["admin_graphql_api_id"] and fo["status"] != "CANCELLED"
                        for fl in fo["lines"])
        order["fulfillment_status"] = "fulfilled" if remaining == 0 else "partial"
        order["updated_at"] = emu.now_iso()
        order["fulfillments"].append({"id": int(_num(fid)), "tracking_company": tracking.get("company"),
                                      "tracking_number": tracking.get("number"), "tracking_url": tracking.get("url")})
        emu.emit("orders/updated", json.loads(json.dumps(order)), defer=True)
        return {"fulfillment": {"__typename": "Fulfillment", "id": fid, "status": "SUCCESS",
                                "createdAt": record["createdAt"],
                                "trackingInfo": lambda _i, first=None: [record["tracking"]] if tracking else []},
                "userErrors": []}

    def product_set(self, _info: Any, input: dict[str, Any], identifier: dict[str, Any] | None = None,
                    synchronous: bool = True) -> dict[str, Any]:
        emu = self.emu
        product: dict[str, Any] | None = None
        if identifier and identifier.get("id"):
            product = emu.products.get(identifier["id"])
            if product is None:
                return {"product": None, "productSetOperation": None, "userErrors": [_err(
                    "Product does not exist", ["identifier", "id"], "PRODUCT_DOES_NOT_EXIST")]}
        elif identifier and identifier.get("handle"):
            product = next((p for p in emu.products.values() if p["handle"] == identifier["handle"]), None)
        if product is None and not input.get("title"):
            return {"product": None, "productSetOperation": None,
                    "userErrors": [_err("Title can't be blank", ["input", "title"], "INVALID_INPUT")]}
        options = [o["name"] for o in input.get("productOptions") or []]
        variants_in = input.get("variants")
        if variants_in is not None:
            for i, v in enumerate(variants_in):
                names = [ov.get("optionName") for ov in v["optionValues"]]
                if options and sorted(names) != sorted(options):
                    return {"product": None, "productSetOperation": None, "userErrors": [_err(
                        "Option values must be given for every product option.",
                        ["input", "variants", str(i), "optionValues"], "OPTION_DOES_NOT_EXIST")]}
                sku = v.get("sku") or (v.get("inventoryItem") or {}).get("sku")
                other = emu.variant_by_sku(sku) if sku else None
                taken = other is not None and other["id"] != v.get("id")
                if taken and (product is None or other["product"] != product["id"]):
                    return {"product": None, "productSetOperation": None, "userErrors": [_err(
                        f"SKU {sku} is already used by another product.", ["input", "variants", str(i), "sku"],
                        "DUPLICATE_SKU")]}
        created = product is None
        if created:
            gid = emu.add_product(input["title"], [], description=input.get("descriptionHtml") or "",
                                  tags=input.get("tags") or [])
            product = emu.products[gid]
        assert product is not None
        for key in ("title", "descriptionHtml", "handle", "vendor", "productType", "tags", "status"):
            if input.get(key) is not None:
                product[key] = input[key]
        for f in input.get("files") or []:
            if f.get("originalSource") and f["originalSource"] not in product["images"]:
                product["images"].append(f["originalSource"])
        if variants_in is not None:
            keep = []
            for v in variants_in:
                item_in = v.get("inventoryItem") or {}
                spec_opts = {ov["optionName"]: ov["name"] for ov in v["optionValues"]}
                vid = v.get("id") if v.get("id") in emu.variants else None
                if vid is None:
                    vid = emu._add_variant(product, {"sku": v.get("sku") or item_in.get("sku"), "options": spec_opts,
                                                     "price": v.get("price") or "0"})
                variant = emu.variants[vid]
                item = emu.items[variant["item"]]
                variant["options"] = spec_opts or variant["options"]
                if v.get("price") is not None:
                    variant["price"] = _money(v["price"])
                if v.get("barcode") is not None:
                    variant["barcode"] = v["barcode"]
                sku = v.get("sku") or item_in.get("sku")
                if sku:
                    variant["sku"] = item["sku"] = sku
                for src, dst in (("tracked", "tracked"), ("harmonizedSystemCode", "harmonizedSystemCode"),
                                 ("countryCodeOfOrigin", "countryCodeOfOrigin")):
                    if item_in.get(src) is not None:
                        item[dst] = item_in[src]
                weight = ((item_in.get("measurement") or {}).get("weight") or {})
                if weight:
                    item["weight"] = _grams(weight["value"], weight["unit"])
                variant["updatedAt"] = emu.now_iso()
                keep.append(vid)
            for vid in [x for x in product["variants"] if x not in keep]:
                emu.items.pop(emu.variants.pop(vid)["item"], None)
            product["variants"] = keep
        product["updatedAt"] = emu.now_iso()
        emu.emit("products/create" if created else "products/update", emu.product_rest(product["id"]), defer=True)
        return {"product": self.product(product), "productSetOperation": None, "userErrors": []}

    def order_cancel(self, _info: Any, orderId: str, reason: str, restock: bool, refund: bool | None = None,
                     notifyCustomer: bool | None = None, staffNote: str | None = None) -> dict[str, Any]:
        emu = self.emu
        order = emu.orders.get(orderId)
        if order is None:
            return {"job": None, "userErrors": [], "orderCancelUserErrors": [_err(
                "Order does not exist", ["orderId"], "NOT_FOUND")]}
        if order["cancelled_at"]:
            return {"job": None, "userErrors": [], "orderCancelUserErrors": [_err(
                "Cannot cancel an order that has already been cancelled", ["orderId"], "INVALID")]}
        if order.get("fulfillment_status") == "fulfilled":
            return {"job": None, "userErrors": [], "orderCancelUserErrors": [_err(
                "Cannot cancel a fulfilled order", ["orderId"], "INVALID")]}
        payload = emu.cancel_order(orderId, reason=reason.lower(), notify=False)
        emu.emit("orders/cancelled", payload, defer=True)
        emu.emit("orders/updated", payload, defer=True)
        return {"job": {"id": f"gid://shopify/Job/{uuid.uuid4()}", "done": True}, "userErrors": [],
                "orderCancelUserErrors": []}

    def webhook_subscribe(self, _info: Any, topic: str, webhookSubscription: dict[str, Any]) -> dict[str, Any]:
        emu = self.emu
        uri = webhookSubscription.get("uri") or ""
        if not re.match(r"^https?://", uri):
            return {"webhookSubscription": None, "userErrors": [_err("Address is invalid",
                                                                     ["webhookSubscription", "callbackUrl"])]}
        name = topic.lower().replace("_", "/", 1)
        client_id = self.context["client_id"]
        if any(s["topic"] == name and s["uri"] == uri and s["client_id"] == client_id
               for s in emu.subscriptions.values()):
            return {"webhookSubscription": None, "userErrors": [_err(
                "Address for this topic has already been taken", ["webhookSubscription", "callbackUrl"])]}
        sid = emu.subscribe(client_id, name, uri, self.context.get("api_version", DEFAULT_API_VERSION))
        return {"webhookSubscription": self.subscription(emu.subscriptions[sid]), "userErrors": []}


def _conn(items: list[Any], first: int | None, after: str | None, view: Callable[[Any], Any]) -> dict[str, Any]:
    return connection(items, first, after, view)


def _bag_from(value: dict[str, Any]) -> dict[str, Any]:
    return {"shopMoney": {"amount": value["shop_money"]["amount"],
                          "currencyCode": value["shop_money"]["currency_code"]},
            "presentmentMoney": {"amount": value["presentment_money"]["amount"],
                                 "currencyCode": value["presentment_money"]["currency_code"]}}


def _quantity(level: dict[str, int], name: str) -> int:
    if name == "on_hand":
        return level["available"] + level["committed"]
    return level.get(name, 0)


def _grams(value: float, unit: str) -> int:
    factor = {"GRAMS": 1, "KILOGRAMS": 1000, "OUNCES": 28.3495, "POUNDS": 453.592}[unit]
    return int(round(value * factor))


_TERM = re.compile(r"(\w+):(>=|<=|>|<)?('[^']*'|\"[^\"]*\"|\S+)")


def _matches(query: str | None, fields: dict[str, Any]) -> bool:
    """Shopify search syntax, the part the add-on uses: ``key:value``, ``key:>value`` …
    joined by spaces or AND; unknown keys are ignored as Shopify does."""
    for key, op, raw in _TERM.findall(query or ""):
        if key not in fields:
            continue
        value = raw.strip("'\"")
        have = fields[key]
        if key.endswith("_at"):
            left, right = _parse_iso(have), _parse_iso(value)
            ok = {">": left > right, ">=": left >= right, "<": left < right, "<=": left <= right,
                  "": left == right}[op]
        elif isinstance(have, list):
            ok = value in have
        elif key == "fulfillment_status" and value in ("unshipped", "unfulfilled"):
            ok = have in ("unfulfilled", "partial")
        else:
            ok = str(have).lower() == value.lower()
        if not ok:
            return False
    return True


# ----------------------------------------------------------------------------- demo catalogue
def demo_sku(title: str, size: str | None, colour: str | None) -> str:
    """The demo merchant's SKU for a catalogue entry (same rule as the demo data)."""
    base = "".join(w[0] for w in title.upper().split())[:4]
    suffix = "-".join(x[:3].upper() for x in (colour, size) if x) or "STD"
    return f"{base}-{suffix}"


def seed_demo_catalog(emu: ShopifyEmulator) -> None:
    """The demo merchant's shop: a warehouse fulfilling online orders, a store selling with
    POS, and the same catalogue as the OMS demo (so SKUs match)."""
    from core.demo import CATALOG, ean13

    online = emu.add_location("Entrepôt Paris Nord", online=True)
    emu.add_location("Boutique Le Marais", online=False, city="Paris")
    seed = 1000
    for title, desc, hs, origin, opts, price, _cost, grams in CATALOG:
        variants = []
        for size, colour in opts:
            seed += 1
            options = {k: v for k, v in (("Taille", size), ("Couleur", colour)) if v}
            variants.append({"sku": demo_sku(title, size, colour), "price": price, "options": options,
                             "barcode": ean13(seed), "hs_code": hs, "origin": origin, "grams": grams,
                             "stock": {online: 12}})
        emu.add_product(title, variants, description=f"<p>{desc}</p>")


# ----------------------------------------------------------------------------- live customers (demo)
FIRST_NAMES = ("Julie", "Thomas", "Emma", "Lucas", "Chloé", "Nathan", "Manon", "Hugo", "Inès", "Louis")
LAST_NAMES = ("Moreau", "Laurent", "Girard", "Roux", "Fournier", "Faure", "Mercier", "Blanc", "Garnier")
MARKETS = (  # (country, city, zip, presentment currency, rate)
    ("FR", "Lyon", "69003", "EUR", "1"), ("FR", "Bordeaux", "33000", "EUR", "1"), ("FR", "Lille", "59000", "EUR", "1"),
    ("BE", "Bruxelles", "1000", "EUR", "1"), ("CH", "Genève", "1201", "CHF", "0.94"),
    ("GB", "London", "SW1A 1AA", "GBP", "0.85"), ("US", "New York", "10001", "USD", "1.08"),
)


class Customers:
    """A background thread placing a customer order every ``interval`` seconds on in-stock
    variants (the demo's live shop)."""

    def __init__(self, emu: ShopifyEmulator, interval: float = 8.0, seed: int | None = None,
                 opening: list[str] | None = None) -> None:
        self.emu = emu
        self.interval = interval
        self.rng = random.Random(seed)
        #: the SKUs the first customer buys (one each), when given
        self.opening = list(opening or [])
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="shopify-emulator-customers", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stop_event.set()

    def _loop(self) -> None:
        next_order = time.monotonic() + self.interval
        while not self.stop_event.wait(1.0):
            self.emu.flush()
            if time.monotonic() >= next_order:
                next_order = time.monotonic() + self.interval
                self.place_one()

    def place_one(self) -> dict[str, Any] | None:
        emu = self.emu
        location = emu.online_location()
        with emu.lock:
            in_stock = [v["sku"] for v in emu.variants.values() if v["sku"] and emu.available(v["sku"], location) > 0]
        if not in_stock:
            return None
        opening = [sku for sku in self.opening if sku in in_stock]
        self.opening = []
        if opening:
            lines = [(sku, 1) for sku in opening]
        else:
            picks = self.rng.sample(in_stock, min(len(in_stock), self.rng.choice((1, 1, 2))))
            lines = [(sku, 1 if emu.available(sku, location) < 2 else self.rng.choice((1, 1, 2))) for sku in picks]
        country, city, zip_code, currency, rate = self.rng.choice(MARKETS)
        first, last = self.rng.choice(FIRST_NAMES), self.rng.choice(LAST_NAMES)
        local = f"{first.lower().replace('é', 'e').replace('è', 'e')}.{last.lower()}{self.rng.randint(1, 99)}"
        email = f"{local}@exemple.fr"
        return emu.place_order(lines, email=email, customer=(first, last), presentment_currency=currency, rate=rate,
                               address={"city": city, "zip": zip_code, "country_code": country,
                                        "country": country, "address1": f"{self.rng.randint(1, 90)} rue de la Paix"})


# ----------------------------------------------------------------------------- WSGI app
def error_body(status: int) -> dict[str, Any]:
    """Shopify's body of an HTTP error (``{"errors": "..."}``), for the faults told on demand."""
    return {"errors": {429: "Exceeded 2 calls per second for api client. Reduce request rates to resume "
                            "uninterrupted service."}.get(status, "Internal Server Error" if status >= 500 else
                                                              "Bad Request")}


def make_app(emulator: ShopifyEmulator | None = None, *, access_token: str | None = None,
             shop: dict[str, Any] | None = None, live: bool = False, order_interval: float = 8.0,
             **options: Any) -> Flask:
    """The emulator as a WSGI app (``app.extensions["shopify"]`` is its state).

    ``live``: subscribe the demo app to every topic at the OMS it is mounted in and start a
    customer placing orders (the demo, see :func:`demo_app`)."""
    if emulator is None:
        if access_token is not None:
            options.setdefault("tokens", {access_token: DEMO_API_KEY})
        emulator = ShopifyEmulator(shop=shop, **options)
    emu = emulator
    app = Flask(__name__)
    app.config["CALLS"] = emu.calls
    app.extensions["shopify"] = emu
    EmulatorKit("shopify", calls=emu.calls, error_body=error_body).attach(app)

    learned = threading.Event()

    @app.before_request
    def _learn() -> None:
        if live and not learned.is_set():  # the OMS is where this emulator is mounted
            root = request.host_url.rstrip("/") + request.script_root.removesuffix(MOUNT_PATH)
            emu.default_webhook_uri = root + WEBHOOK_PATH
            learned.set()

    @app.post("/admin/api/<version>/graphql.json")
    def graphql(version: str):
        if not API_VERSION.match(version):
            return jsonify({"errors": "Not Found"}), 404
        if emu.failing:  # an outage on demand: 429 (with Retry-After) or a 5xx, as Shopify answers
            status = emu.failing
            headers = {"Retry-After": "1.0"} if status == 429 else {}
            return jsonify({"errors": "Throttled" if status == 429 else "Internal Server Error"}), status, headers
        answer, status = emu.execute(request.headers.get("X-Shopify-Access-Token"), request.get_json(silent=True),
                                     version)
        return jsonify(answer), status

    @app.get("/admin/oauth/authorize")
    def authorize():
        args = request.args
        app_conf = emu.app(args.get("client_id", ""))
        redirect_uri = args.get("redirect_uri", "")
        if app_conf is None or not redirect_uri:
            return ("<h1>Oauth error invalid_request</h1><p>The client_id or redirect_uri is missing or "
                    "unknown.</p>"), 400
        params = {"code": emu.issue_code(app_conf.client_id, args.get("scope", "")),
                  "host": base64.b64encode(f"admin.shopify.com/store/{emu.domain.split('.')[0]}".encode()).decode(),
                  "shop": emu.domain, "state": args.get("state", ""), "timestamp": str(int(emu.time()))}
        params["hmac"] = query_hmac(params, app_conf.secret)
        return redirect(f"{redirect_uri}?{urlencode(params)}", 302)

    @app.get("/")
    def storefront_orders():
        with emu.lock:
            orders = sorted(emu.orders.values(), key=lambda o: o["id"], reverse=True)[:100]
            rows = [{"name": o["name"], "created_at": o["created_at"], "email": o["email"],
                     "cancelled": bool(o["cancelled_at"]), "status": o["fulfillment_status"] or "unfulfilled",
                     "lines": [(li["quantity"], li["title"], li["sku"]) for li in o["line_items"]],
                     "fulfillments": list(o["fulfillments"])} for o in orders]
        return render_template_string(ORDERS_PAGE, shop=emu.shop, rows=rows)

    @app.post("/admin/oauth/access_token")
    def access_token_endpoint():
        form = request.get_json(silent=True) if request.is_json else request.form.to_dict()
        answer, status = emu.exchange(form or {})
        return jsonify(answer), status

    if live:
        for topic in TOPICS:
            emu.subscribe(DEMO_API_KEY, topic, None)
        root = os.environ.get("OMS_PUBLIC_URL") or f"http://127.0.0.1:{os.environ.get('PORT', '5000')}"
        emu.default_webhook_uri = root.rstrip("/") + WEBHOOK_PATH
        customers = Customers(emu, interval=order_interval, opening=opening_basket(emu))
        app.extensions["shopify_customers"] = customers
        customers.start()
    return app


def opening_basket(emu: ShopifyEmulator) -> list[str]:
    """The first variant of the catalogue's first and newest products."""
    with emu.lock:
        products = sorted(emu.products.values(), key=lambda p: int(_num(p["id"])))
        firsts = [next((v["sku"] for v in emu.variants.values() if v["product"] == p["id"] and v["sku"]), None)
                  for p in (products[:1] + products[-1:] if len(products) > 1 else products)]
    return [sku for sku in firsts if sku]


ORDERS_PAGE = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><title>{{ shop.name }} — commandes</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font:15px system-ui,sans-serif;margin:2rem;color:#202223}table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.5rem;border-bottom:1px solid #e1e3e5;vertical-align:top}
.badge{padding:.1rem .5rem;border-radius:1rem;background:#e4e5e7}.fulfilled{background:#aee9d1}
.partial{background:#ffea8a}.cancelled{background:#fed3d1}small{color:#6d7175}</style></head>
<body><h1>{{ shop.name }}</h1>
<p><small>Émulateur Shopify : les commandes de la boutique telles que ses clients les suivent
(statut d'expédition, transporteur et numéro de suivi envoyés par l'OMS).</small></p>
<table><thead><tr><th>Commande</th><th>Client</th><th>Articles</th><th>Expédition</th><th>Suivi</th></tr></thead>
<tbody>{% for o in rows %}<tr data-order="{{ o.name }}">
<td><strong>{{ o.name }}</strong><br><small>{{ o.created_at }}</small></td><td>{{ o.email }}</td>
<td>{% for qty, title, sku in o.lines %}{{ qty }} × {{ title }} <small>{{ sku }}</small><br>{% endfor %}</td>
<td>{% if o.cancelled %}<span class="badge cancelled">Annulée</span>{% else %}
<span class="badge {{ o.status }}">{{ {"fulfilled": "Expédiée", "partial": "Expédiée en partie"}.get(o.status,
"Non expédiée") }}</span>{% endif %}</td>
<td>{% for f in o.fulfillments %}<div class="tracking">{{ f.tracking_company or "" }}
{% if f.tracking_url %}<a href="{{ f.tracking_url }}">{{ f.tracking_number }}</a>{% else %}{{ f.tracking_number or "—" }}{% endif %}
</div>{% endfor %}</td></tr>{% else %}<tr><td colspan="5">Aucune commande.</td></tr>{% endfor %}</tbody></table>
</body></html>"""


def demo_app() -> Flask:
    """The emulator the demo mounts: a live shop where customers keep ordering."""
    return make_app(live=True)


def demo_settings(base_url: str) -> dict[str, Any]:
    """Settings pointing the add-on at an emulator served at ``base_url``."""
    return {"shop_domain": DEMO_DOMAIN, "api_version": DEFAULT_API_VERSION, "access_token": DEMO_TOKEN,
            "api_key": DEMO_API_KEY, "api_secret": DEMO_API_SECRET, "api_base_url": base_url}
