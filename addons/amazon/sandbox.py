"""Emulator of the Amazon endpoints the add-on calls, speaking the official models.

One file on purpose, beyond the ~600 lines of the rule: the emulator is one class whose
handlers, one group per API (sellers, orders, finances, listings, documents, feeds, reports,
FBA inventory, notifications: the banners inside :class:`Emulator`), all read and change the
same in-memory seller account under one lock, one clock and one per-operation wrapper (rate
and burst, faults on demand). Cut into mixins over several files, that state would be set up in
one file and changed in the others; one file reads top to bottom along the banners.

- ``POST /auth/o2/token``: Login with Amazon, ``refresh_token`` and ``client_credentials``
  (grantless, ``sellingpartnerapi::notifications``) grants, errors as LWA returns them.
- Sellers ``getMarketplaceParticipations``; Orders v2026-01-01 ``searchOrders`` (windows,
  filters, the 2-minute rule, ``paginationToken`` valid 24 h) and ``getOrder``; Orders v0
  ``confirmShipment`` (204, packages recorded, partial shipments); Listings Items
  ``getListingsItem`` and ``patchListingsItem``; Feeds (``JSON_LISTINGS_FEED`` applied, with
  a processing report per listings-feed-processing-report-schema-v2); Reports
  (``GET_MERCHANT_LISTINGS_ALL_DATA`` and ``GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL``,
  tab-delimited, GZIP); FBA Inventory ``getInventorySummaries`` (``nextToken`` valid 30 s);
  Notifications destinations (grantless) and subscriptions, with ORDER_CHANGE notifications
  handed to ``deliver`` when an order changes; Finances v0 ``listFinancialEventsByOrderId``
  (``NextToken`` pages): a shipment event, with its fees, readable ``finance_delay`` seconds
  after units ship (FBM: ``confirmShipment``; FBA: a version of the order with units shipped),
  and a refund event per :meth:`Emulator.refund_order`.
- Every operation's documented rate and burst, per seller (or application, for grantless
  calls) and operation, on the emulator's clock: 429 ``QuotaExceeded`` when exceeded, and
  ``x-amzn-RateLimit-Limit`` on the answers whose model declares it.
- Documents (feed uploads, reports, feed results) are served at ``/_documents/<id>`` as
  presigned URLs would be.

The clock is injectable (``clock.SimulatedClock`` in tests and the benchmark). Orders are
timelines: a version dated in the future stays invisible until the clock reaches it.
Point ``token_url`` at ``{base}/auth/o2/token`` and ``api_base_url`` at ``{base}``.
"""
from __future__ import annotations

import gzip
import itertools
import json
import random
import secrets
import threading
import uuid
from collections import Counter
from copy import deepcopy
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Callable

from flask import Flask, Response, jsonify, request

from core.connectors.emulator import EmulatorKit

from .client import EU_MARKETPLACES
from .clock import Clock, SystemClock, iso, parse_iso
from .operations import NOTIFICATIONS_SCOPE, OPERATIONS

DEMO_SELLER_ID = "A2OMSDEMO5ELLER"
DEMO_CLIENT_ID = "amzn1.application-oa2-client.0d3m0c11e47000000000000000000000"
DEMO_CLIENT_SECRET = "amzn1.oa2-cs.v1.0d3m05ecre70000000000000000000000000000000000000000000"
DEMO_REFRESH_TOKEN = "Atzr|IwEBIOMSdemoRefreshToken0000000000000000"
DEMO_PARTICIPATING = ("A13V1IB3VIYZZH", "A1PA6795UKMFR9", "A1F83G8C2ARO7P", "A1RKKUPIHCS9HS", "APJ6JRA9NG5V4",
                      "AMEN7PMS3EDWL")
FR, DE, UK = "A13V1IB3VIYZZH", "A1PA6795UKMFR9", "A1F83G8C2ARO7P"
STORE_NAME = "Boutique démo OMS"
MARKETPLACES = {m.id: m for m in EU_MARKETPLACES}
FBA_CHANNEL = "AMAZON_EU"

DENIED = {"code": "Unauthorized", "message": "Access to requested resource is denied."}
QUOTA = {"code": "QuotaExceeded", "message": "You exceeded your quota for the requested resource."}
#: statuses whose answer carries x-amzn-RateLimit-Limit in the models
RATE_HEADER_STATUSES = {200, 201, 202, 204, 400, 404}
SEARCH_TOKEN_TTL = 24 * 3600
INVENTORY_TOKEN_TTL = 30
V0_STATUS = {"PENDING_AVAILABILITY": "PendingAvailability", "PENDING": "Pending", "UNSHIPPED": "Unshipped",
             "PARTIALLY_SHIPPED": "PartiallyShipped", "SHIPPED": "Shipped", "CANCELLED": "Canceled",
             "UNFULFILLABLE": "Unfulfillable"}
ORDER_REPORT_COLUMNS = [
    "amazon-order-id", "merchant-order-id", "purchase-date", "last-updated-date", "order-status",
    "fulfillment-channel", "sales-channel", "order-channel", "ship-service-level", "product-name", "sku", "asin",
    "item-status", "quantity", "currency", "item-price", "item-tax", "shipping-price", "shipping-tax",
    "gift-wrap-price", "gift-wrap-tax", "item-promotion-discount", "ship-promotion-discount", "ship-city",
    "ship-state", "ship-postal-code", "ship-country", "promotion-ids", "is-business-order", "purchase-order-number",
    "price-designation"]
LISTING_REPORT_COLUMNS = [
    "item-name", "item-description", "listing-id", "seller-sku", "price", "quantity", "open-date", "image-url",
    "item-is-marketplace", "product-id-type", "zshop-shipping-fee", "item-note", "item-condition",
    "zshop-category1", "zshop-browse-path", "zshop-storefront-feature", "asin1", "asin2", "asin3",
    "will-ship-internationally", "expedited-shipping", "zshop-boldface", "product-id",
    "bid-for-featured-placement", "add-delete", "pending-quantity", "fulfillment-channel",
    "merchant-shipping-group", "status"]
REPORT_TYPES = {"GET_MERCHANT_LISTINGS_ALL_DATA", "GET_FLAT_FILE_ALL_ORDERS_DATA_BY_LAST_UPDATE_GENERAL"}
#: the event lists of ``FinancialEvents`` the emulator answers with (the others never concern it)
FINANCE_LISTS = ("ShipmentEventList", "RefundEventList", "GuaranteeClaimEventList", "ChargebackEventList",
                 "ServiceFeeEventList", "AdjustmentEventList")
FINANCE_TOKEN_TTL = 24 * 3600
#: the emulator's fees: referral fee (percent of the item price, "Commission"), the FBA
#: fulfilment fee per unit, and the part of the referral fee Amazon keeps on a refund
#: ("RefundCommission": 20 %, at most 5.00)
COMMISSION_RATE = Decimal("0.15")
FBA_UNIT_FEE = Decimal("3.20")
REFUND_COMMISSION_RATE = Decimal("0.20")
REFUND_COMMISSION_MAX = Decimal("5.00")


def demo_participations(participating: tuple[str, ...] = DEMO_PARTICIPATING) -> list[dict[str, Any]]:
    return [{
        "marketplace": {"id": m.id, "countryCode": m.country_code, "name": m.name,
                        "defaultCurrencyCode": m.currency, "defaultLanguageCode": m.language,
                        "domainName": m.domain},
        "storeName": STORE_NAME,
        "participation": {"isParticipating": m.id in participating, "hasSuspendedListings": False},
    } for m in EU_MARKETPLACES]


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, details: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


# ----------------------------------------------------------------------------- builders
def money(amount: Decimal | str, currency: str) -> dict[str, str]:
    return {"amount": str(Decimal(str(amount)).quantize(Decimal("0.01"))), "currencyCode": currency}


def make_order(order_id: str, *, marketplace: str, fulfilled_by: str = "MERCHANT", status: str = "UNSHIPPED",
               items: list[tuple[str, int, str]], created: float | datetime, updated: float | datetime | None = None,
               prime: bool = False, level: str = "STANDARD", buyer: str = "Client Amazon",
               address: dict[str, str] | None = None, business: bool = False) -> dict[str, Any]:
    """An Orders API v2026-01-01 ``Order``; ``items`` are (SKU, quantity, unit price)."""
    mp = MARKETPLACES[marketplace]
    created_iso, updated_iso = iso(created), iso(updated if updated is not None else created)
    order_items, subtotal = [], Decimal("0")
    for n, (sku, qty, price) in enumerate(items, 1):
        line = Decimal(price) * qty
        subtotal += line
        unshipped = 0 if status == "SHIPPED" else qty
        order_items.append({
            "orderItemId": f"{order_id.replace('-', '')[-10:]}{n:04d}",
            "quantityOrdered": qty,
            "product": {"asin": asin_of(sku), "title": f"Article {sku}", "sellerSku": sku,
                        "condition": {"conditionType": "NEW", "conditionSubtype": "NEW"},
                        "price": {"unitPrice": money(price, mp.currency)}},
            "proceeds": {"proceedsTotal": money(line, mp.currency),
                         "breakdowns": [{"type": "ITEM", "subtotal": money(line, mp.currency)}]},
            "fulfillment": {"quantityFulfilled": qty - unshipped, "quantityUnfulfilled": unshipped},
        })
    programs = (["PRIME"] if prime else []) + (["AMAZON_BUSINESS"] if business else [])
    order: dict[str, Any] = {
        "orderId": order_id, "createdTime": created_iso, "lastUpdatedTime": updated_iso, "programs": programs,
        "salesChannel": {"channelName": "AMAZON", "marketplaceId": mp.id, "marketplaceName": mp.name},
        "proceeds": {"grandTotal": money(subtotal, mp.currency),
                     "breakdowns": [{"type": "ITEM", "subtotal": money(subtotal, mp.currency)}]},
        "fulfillment": {"fulfillmentStatus": status, "fulfilledBy": fulfilled_by, "fulfillmentServiceLevel": level},
        "orderItems": order_items,
    }
    if status not in ("PENDING", "PENDING_AVAILABILITY"):
        order["buyer"] = {"buyerName": buyer}
        if fulfilled_by == "MERCHANT":
            order["buyer"]["buyerEmail"] = f"{order_id.replace('-', '')}@marketplace.{mp.domain[4:]}"
        order["recipient"] = {"deliveryAddress": {"name": buyer, "addressLine1": "12 rue des Lilas",
                                                  "city": "Lyon", "postalCode": "69003",
                                                  "countryCode": mp.country_code, "addressType": "RESIDENTIAL",
                                                  **(address or {})}}
    if fulfilled_by == "MERCHANT":
        order["packages"] = []
    return order


def asin_of(sku: str) -> str:
    import hashlib

    return "B0" + hashlib.sha1(sku.encode()).hexdigest()[:8].upper()


@dataclass
class Listing:
    sku: str
    product_type: str
    title: str
    prices: dict[str, str]  # marketplace -> price
    channels: dict[str, int]  # DEFAULT -> MFN quantity, AMAZON_EU -> FBA
    image: str = ""
    parent: str | None = None
    children: list[str] = field(default_factory=list)
    theme: str | None = None
    missing: list[str] = field(default_factory=list)  # required attributes not supplied
    created: str = "2026-01-15T10:00:00Z"
    ean: str | None = None  # the offer was created on this EAN (else on its ASIN)

    @property
    def asin(self) -> str:
        return asin_of(self.sku)


# ----------------------------------------------------------------------------- the emulator
class Emulator:
    def __init__(self, *, clock: Clock | None = None, client_id: str = DEMO_CLIENT_ID,
                 client_secret: str = DEMO_CLIENT_SECRET, refresh_token: str = DEMO_REFRESH_TOKEN,
                 seller_id: str = DEMO_SELLER_ID, token_lifetime: int = 3600,
                 participations: list[dict[str, Any]] | None = None,
                 rate_factor: float | dict[str, float] = 1.0, report_delay: float = 60.0,
                 feed_delay: float = 60.0, deliver: Callable[[dict[str, Any], dict[str, Any]], None] | None = None,
                 seed: bool = False, finance_delay: float = 3600.0) -> None:
        self.clock: Clock = clock or SystemClock()
        self.client_id, self.client_secret, self.refresh_token = client_id, client_secret, refresh_token
        self.seller_id = seller_id
        self.token_lifetime = token_lifetime
        self.participations = participations if participations is not None else demo_participations()
        self.rate_factor = rate_factor
        self.report_delay, self.feed_delay = report_delay, feed_delay
        self.finance_delay = finance_delay
        self.deliver = deliver
        self.lock = threading.RLock()
        self.tokens: dict[str, tuple[float, str | None]] = {}
        self.orders: dict[str, list[tuple[float, dict[str, Any]]]] = {}
        self.listings: dict[str, Listing] = {}
        self.fba: dict[str, int] = {}
        self.documents: dict[str, dict[str, Any]] = {}
        self.reports: dict[str, dict[str, Any]] = {}
        self.feeds: dict[str, dict[str, Any]] = {}
        self.destinations: dict[str, dict[str, Any]] = {}
        self.subscriptions: dict[str, dict[str, Any]] = {}
        self.search_tokens: dict[str, dict[str, Any]] = {}
        self.inventory_tokens: dict[str, tuple[list[str], int, float]] = {}
        self.buckets: dict[tuple[str, str], tuple[float, float]] = {}
        self.calls: list[tuple[str, str]] = []
        self.operations: Counter = Counter()
        self.throttled: Counter = Counter()
        self.failures: dict[str, list[int]] = {}
        self.confirmations: list[tuple[str, dict[str, Any]]] = []
        self.patches: list[tuple[str, dict[str, Any]]] = []
        self.deliveries: list[dict[str, Any]] = []
        #: order id -> [(readable from, list name, event)]; units of each item already posted
        self.financial_events: dict[str, list[tuple[float, str, dict[str, Any]]]] = {}
        self.posted_units: dict[str, Counter] = {}
        self.finance_tokens: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(1)
        self.app = self._build_app()
        if seed:
            seed_demo(self)

    # ------------------------------------------------------------------ helpers for tests and the demo
    def now(self) -> float:
        return self.clock.time()

    def add_order(self, order: dict[str, Any], at: float | datetime | None = None) -> None:
        """Add an order version dated ``at`` (default: its lastUpdatedTime)."""
        when = parse_iso(order["lastUpdatedTime"]).timestamp() if at is None else \
            (at.timestamp() if isinstance(at, datetime) else float(at))
        with self.lock:
            versions = self.orders.setdefault(order["orderId"], [])
            versions.append((when, deepcopy(order)))
            versions.sort(key=lambda v: v[0])
            self._post_shipment(order, when)
        if when <= self.now():
            self._notify(order)

    def update_order(self, order_id: str, at: float | datetime | None = None, *, status: str | None = None,
                     cancel_reason: str = "BuyerCanceled") -> dict[str, Any]:
        """A new version of an order (status change), dated ``at`` (default: now)."""
        when = self.now() if at is None else (at.timestamp() if isinstance(at, datetime) else float(at))
        with self.lock:
            base = deepcopy(self.orders[order_id][-1][1])
        base["lastUpdatedTime"] = iso(when)
        if status:
            base["fulfillment"]["fulfillmentStatus"] = status
            for item in base["orderItems"]:
                if status == "CANCELLED":
                    item["cancellation"] = {"cancellationRequest": {"requester": "BUYER",
                                                                    "cancelReason": cancel_reason}}
                if status == "SHIPPED":
                    item["fulfillment"] = {"quantityFulfilled": item["quantityOrdered"], "quantityUnfulfilled": 0}
            if status in ("UNSHIPPED", "SHIPPED") and "buyer" not in base:
                mp = MARKETPLACES[base["salesChannel"]["marketplaceId"]]
                base["buyer"] = {"buyerName": "Client Amazon"}
                base["recipient"] = {"deliveryAddress": {"name": "Client Amazon", "addressLine1": "3 place Bellecour",
                                                         "city": "Lyon", "postalCode": "69002",
                                                         "countryCode": mp.country_code}}
        self.add_order(base, at=when)
        return base

    def view(self, order_id: str, at: float | None = None) -> dict[str, Any] | None:
        """The order as it stands at ``at`` (a copy), or None before its first version."""
        found = self._peek(order_id, self.now() if at is None else at)
        return deepcopy(found) if found is not None else None

    def _peek(self, order_id: str, at: float) -> dict[str, Any] | None:
        with self.lock:
            current = None
            for stamp, order in self.orders.get(order_id, []):
                if stamp > at:
                    break
                current = order
            return current

    def visible_orders(self, at: float | None = None) -> list[dict[str, Any]]:
        """Every order as it stands at ``at`` (shared, read-only: copy before changing)."""
        at = self.now() if at is None else at
        with self.lock:
            ids = list(self.orders)
        return [o for o in (self._peek(i, at) for i in ids) if o is not None]

    def refund_order(self, order_id: str, items: dict[str, int] | None = None,
                     at: float | datetime | None = None) -> dict[str, Any]:
        """The buyer is refunded (default: every unit shipped) at ``at`` (default: now): a
        RefundEvent, readable at once. ``items`` are {SKU: units}. Returns the event."""
        when = self.now() if at is None else (at.timestamp() if isinstance(at, datetime) else float(at))
        order = self._peek(order_id, when)
        if order is None:
            raise KeyError(order_id)
        currency = MARKETPLACES[order["salesChannel"]["marketplaceId"]].currency
        with self.lock:
            posted = self.posted_units.get(order_id, Counter())
        adjustments = []
        for item in order["orderItems"]:
            sku = item["product"].get("sellerSku", "")
            units = posted[item["orderItemId"]] if items is None else items.get(sku, 0)
            if units <= 0:
                continue
            if units > posted[item["orderItemId"]]:
                raise ValueError(f"{sku}: {units} unit(s) refunded, {posted[item['orderItemId']]} shipped")
            principal = Decimal(item["product"]["price"]["unitPrice"]["amount"]) * units
            commission = _cents(principal * COMMISSION_RATE)
            kept = min(_cents(commission * REFUND_COMMISSION_RATE), REFUND_COMMISSION_MAX)
            adjustments.append({
                "SellerSKU": sku, "OrderItemId": item["orderItemId"], "OrderAdjustmentItemId": self._new_id("7"),
                "QuantityShipped": units,
                "ItemChargeAdjustmentList": [_charge("Principal", -principal, currency)],
                "ItemFeeAdjustmentList": [_fee("Commission", commission, currency),
                                          _fee("RefundCommission", -kept, currency)],
            })
        if not adjustments:
            raise ValueError(f"{order_id}: nothing shipped to refund")
        event = {"AmazonOrderId": order_id, "MarketplaceName": order["salesChannel"].get("marketplaceName", ""),
                 "PostedDate": iso(when), "ShipmentItemAdjustmentList": adjustments}
        with self.lock:
            self.financial_events.setdefault(order_id, []).append((when, "RefundEventList", event))
        return deepcopy(event)

    def _post_shipment(self, order: dict[str, Any], when: float) -> None:
        """Units newly shipped in this version of the order: a ShipmentEvent with their
        charges and fees, readable ``finance_delay`` later (caller holds the lock)."""
        order_id = order["orderId"]
        posted = self.posted_units.setdefault(order_id, Counter())
        currency = MARKETPLACES[order["salesChannel"]["marketplaceId"]].currency
        fba = order["fulfillment"]["fulfilledBy"] == "AMAZON"
        items = []
        for item in order["orderItems"]:
            done = (item.get("fulfillment") or {}).get("quantityFulfilled") or 0
            units = done - posted[item["orderItemId"]]
            if units <= 0:
                continue
            posted[item["orderItemId"]] = done
            principal = Decimal(item["product"]["price"]["unitPrice"]["amount"]) * units
            fees = [_fee("Commission", -_cents(principal * COMMISSION_RATE), currency)]
            if fba:
                fees.append(_fee("FBAPerUnitFulfillmentFee", -FBA_UNIT_FEE * units, currency))
            items.append({"SellerSKU": item["product"].get("sellerSku", ""), "OrderItemId": item["orderItemId"],
                          "QuantityShipped": units, "ItemChargeList": [_charge("Principal", principal, currency)],
                          "ItemFeeList": fees})
        if items:
            posted_at = when + self.finance_delay
            event = {"AmazonOrderId": order_id, "MarketplaceName": order["salesChannel"].get("marketplaceName", ""),
                     "PostedDate": iso(posted_at), "ShipmentItemList": items}
            self.financial_events.setdefault(order_id, []).append((posted_at, "ShipmentEventList", event))

    def add_listing(self, listing: Listing) -> None:
        with self.lock:
            self.listings[listing.sku] = listing

    def fail_next(self, operation: str, *statuses: int, after: int = 0) -> None:
        """After ``after`` normal answers, the next calls of ``operation`` answer these
        statuses (fault injection)."""
        with self.lock:
            self.failures.setdefault(operation, []).extend([0] * after + list(statuses))

    def plan(self, operation: str) -> tuple[float, int]:
        op = OPERATIONS[operation]
        factor = self.rate_factor.get(operation, 1.0) if isinstance(self.rate_factor, dict) else self.rate_factor
        return op.rate * factor, op.burst

    # ------------------------------------------------------------------ app
    def _build_app(self) -> Flask:
        app = Flask(__name__)
        app.config["CALLS"] = self.calls
        app.extensions["amazon_emulator"] = self
        EmulatorKit("amazon", clock=self.clock, calls=self.calls, error_body=error_body).attach(app)

        app.add_url_rule("/auth/o2/token", "lwa", self._token, methods=["POST"])
        app.add_url_rule("/_documents/<doc_id>", "document", self._document, methods=["GET", "PUT"])
        routes = {
            "getMarketplaceParticipations": self._participations, "searchOrders": self._search_orders,
            "getOrder": self._get_order, "confirmShipment": self._confirm_shipment,
            "getListingsItem": self._get_listing, "patchListingsItem": self._patch_listing,
            "createFeedDocument": self._create_feed_document, "createFeed": self._create_feed,
            "getFeed": self._get_feed, "getFeedDocument": self._get_feed_document,
            "createReport": self._create_report, "getReport": self._get_report,
            "getReportDocument": self._get_report_document, "getInventorySummaries": self._inventory,
            "createDestination": self._create_destination, "getDestinations": self._get_destinations,
            "createSubscription": self._create_subscription, "getSubscription": self._get_subscription,
            "listFinancialEventsByOrderId": self._financial_events,
        }
        for name, handler in routes.items():
            op = OPERATIONS[name]
            rule = op.path.replace("{", "<").replace("}", ">")
            app.add_url_rule(rule, name, self._operation(name, handler), methods=[op.method])
        return app

    # ------------------------------------------------------------------ LWA
    def _token(self):
        form = request.form if request.form else (request.get_json(silent=True) or {})
        for name in ("grant_type", "client_id", "client_secret"):
            if not form.get(name):
                return _lwa_error(400, "invalid_request", f"The request is missing a required parameter : {name}")
        grant = form["grant_type"]
        if grant not in ("refresh_token", "client_credentials"):
            return _lwa_error(400, "unsupported_grant_type", "The authorization grant type is not supported "
                                                             "by the authorization server")
        if form["client_id"] != self.client_id or form["client_secret"] != self.client_secret:
            return _lwa_error(401, "invalid_client", "Client authentication failed")
        scope = None
        if grant == "client_credentials":
            if form.get("scope") != NOTIFICATIONS_SCOPE:
                return _lwa_error(400, "invalid_scope", "The request has an invalid parameter : scope")
            scope = NOTIFICATIONS_SCOPE
        else:
            if not form.get("refresh_token"):
                return _lwa_error(400, "invalid_request",
                                  "The request is missing a required parameter : refresh_token")
            if form["refresh_token"] != self.refresh_token:
                return _lwa_error(400, "invalid_grant", "The request has an invalid grant parameter : refresh_token")
        access = "Atza|" + secrets.token_urlsafe(48)
        with self.lock:
            self.tokens[access] = (self.now() + self.token_lifetime, scope)
        return jsonify({"access_token": access, "token_type": "bearer", "expires_in": self.token_lifetime})

    # ------------------------------------------------------------------ operation wrapper
    def _operation(self, name: str, handler: Callable[..., Any]) -> Callable[..., Any]:
        op = OPERATIONS[name]

        def view(**kwargs: Any):
            access = request.headers.get("x-amz-access-token", "")
            with self.lock:
                entry = self.tokens.get(access)
            if entry is None:
                return _sp_error(403, DENIED)
            expiry, scope = entry
            if self.now() >= expiry:
                return _sp_error(403, DENIED, "The access token you provided has expired.")
            if op.grantless != (scope == NOTIFICATIONS_SCOPE):
                return _sp_error(403, DENIED)
            bucket = (self.client_id if op.grantless else self.seller_id, name)
            rate, burst = self.plan(name)
            with self.lock:
                now = self.now()
                tokens, at = self.buckets.get(bucket, (float(burst), now))
                tokens = min(float(burst), tokens + max(now - at, 0) * rate)
                if tokens < 1 - 1e-9:
                    self.buckets[bucket] = (tokens, now)
                    self.throttled[name] += 1
                    return _sp_error(429, QUOTA)
                self.buckets[bucket] = (max(tokens - 1, 0.0), now)
                self.operations[name] += 1
                failure = self.failures.get(name)
                status = failure.pop(0) if failure else None
            if status:
                return _sp_error(status, {"code": "InternalFailure" if status >= 500 else "InvalidInput",
                                          "message": "We encountered an internal error. Please try again."})
            try:
                out = handler(**kwargs)
            except ApiError as exc:
                res = _sp_error(exc.status, {"code": exc.code, "message": exc.message}, exc.details)
            else:
                res = out if isinstance(out, Response) else _json_response(*out)
            if res.status_code in RATE_HEADER_STATUSES:
                res.headers["x-amzn-RateLimit-Limit"] = f"{rate:g}"
            return res

        view.__name__ = f"op_{name}"
        return view

    def _url(self, doc_id: str) -> str:
        return f"{request.host_url.rstrip('/')}{request.script_root}/_documents/{doc_id}"

    def _new_id(self, prefix: str = "") -> str:
        return f"{prefix}{50000 + next(self._ids)}"

    # ------------------------------------------------------------------ sellers
    def _participations(self):
        return {"payload": self.participations}, 200

    # ------------------------------------------------------------------ orders
    def _search_orders(self):
        args = request.args
        now = self.now()
        fixed = {k: args.get(k) for k in ("createdAfter", "createdBefore", "lastUpdatedAfter", "lastUpdatedBefore",
                                         "fulfillmentStatuses", "marketplaceIds", "fulfilledBy")}
        token = args.get("paginationToken")
        size = _int_arg(args, "maxResultsPerPage", 100, 1, 100)
        included = set(_csv(args.get("includedData")))
        if token:
            with self.lock:
                entry = self.search_tokens.get(token)
            if entry is None or entry["expires"] < now:
                raise ApiError(400, "InvalidInput", "Invalid paginationToken.")
            if entry["params"] != fixed:
                raise ApiError(400, "InvalidInput", "All parameters except maxResultsPerPage and includedData "
                                                    "must be the same as in the first request.")
            ids, offset, echo = entry["ids"], entry["offset"], entry["echo"]
        else:
            if bool(fixed["createdAfter"]) == bool(fixed["lastUpdatedAfter"]):
                raise ApiError(400, "InvalidInput", "Exactly one of createdAfter and lastUpdatedAfter is required.")
            field_name = "createdTime" if fixed["createdAfter"] else "lastUpdatedTime"
            after_key, before_key = (("createdAfter", "createdBefore") if fixed["createdAfter"]
                                     else ("lastUpdatedAfter", "lastUpdatedBefore"))
            after = _date_arg(fixed[after_key], after_key)
            latest = now - 120
            before = _date_arg(fixed[before_key], before_key) if fixed[before_key] else latest
            if before > latest:
                raise ApiError(400, "InvalidInput", f"{before_key} must be at least 2 minutes before now.")
            if after >= before:
                raise ApiError(400, "InvalidInput", f"{after_key} must be before {before_key}.")
            mps = _csv(fixed["marketplaceIds"])
            if len(mps) > 50:
                raise ApiError(400, "InvalidInput", "marketplaceIds: at most 50.")
            statuses = set(_csv(fixed["fulfillmentStatuses"]))
            by = set(_csv(fixed["fulfilledBy"]))
            matched = []
            for order in self.visible_orders(now):
                stamp = parse_iso(order[field_name]).timestamp()
                if not after <= stamp <= before:
                    continue
                if mps and order["salesChannel"].get("marketplaceId") not in mps:
                    continue
                if statuses and order["fulfillment"]["fulfillmentStatus"] not in statuses:
                    continue
                if by and order["fulfillment"]["fulfilledBy"] not in by:
                    continue
                matched.append((stamp, order["orderId"]))
            ids = [oid for _s, oid in sorted(matched)]
            offset = 0
            echo = {("createdBefore" if field_name == "createdTime" else "lastUpdatedBefore"): iso(before)}
        page = ids[offset:offset + size]
        body: dict[str, Any] = {"orders": [_included(self.view(oid, now) or {}, included) for oid in page], **echo}
        if offset + size < len(ids):
            new_token = secrets.token_urlsafe(24)
            with self.lock:
                self.search_tokens[new_token] = {"ids": ids, "offset": offset + size, "params": fixed,
                                                 "expires": now + SEARCH_TOKEN_TTL, "echo": echo}
            body["pagination"] = {"nextToken": new_token}
        body["orders"] = [o for o in body["orders"] if o]
        return body, 200

    def _get_order(self, orderId: str):
        order = self.view(orderId)
        if order is None:
            raise ApiError(404, "NotFound", f"Order {orderId} not found.")
        return {"order": _included(order, set(_csv(request.args.get("includedData"))))}, 200

    def _confirm_shipment(self, orderId: str):
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not body.get("marketplaceId") or not isinstance(body.get("packageDetail"),
                                                                                       dict):
            raise ApiError(400, "InvalidInput", "Invalid Input")
        detail = body["packageDetail"]
        for name in ("packageReferenceId", "carrierCode", "trackingNumber", "shipDate", "orderItems"):
            if not detail.get(name):
                raise ApiError(400, "InvalidInput", f"Invalid Input: {name} is required")
        if not str(detail["packageReferenceId"]).isdigit() or int(detail["packageReferenceId"]) <= 0:
            raise ApiError(400, "InvalidInput", "Invalid Input: packageReferenceId must be a positive number")
        if detail["carrierCode"] == "Other" and not detail.get("carrierName"):
            raise ApiError(400, "InvalidInput", "Invalid Input: carrierName is required when carrierCode is Other")
        try:
            ship_time = parse_iso(detail["shipDate"])
        except (ValueError, TypeError):
            raise ApiError(400, "InvalidInput", "Invalid Input") from None
        order = self.view(orderId)
        if order is None:
            raise ApiError(404, "NotFound", f"Order {orderId} not found.")
        if order["salesChannel"].get("marketplaceId") != body["marketplaceId"]:
            raise ApiError(400, "InvalidInput", "Invalid Input: marketplaceId does not match the order")
        if order["fulfillment"]["fulfilledBy"] != "MERCHANT":
            raise ApiError(400, "InvalidInput", "Invalid Input: the order is fulfilled by Amazon")
        if order["fulfillment"]["fulfillmentStatus"] in ("CANCELLED", "PENDING", "PENDING_AVAILABILITY"):
            raise ApiError(400, "InvalidInput", "Invalid Input: the order cannot be shipped")
        items = {i["orderItemId"]: i for i in order["orderItems"]}
        for entry in detail["orderItems"]:
            item = items.get(entry.get("orderItemId"))
            qty = entry.get("quantity")
            if item is None or not isinstance(qty, int) or qty <= 0:
                raise ApiError(400, "InvalidInput", f"Invalid Input: orderItemId {entry.get('orderItemId')}")
            done = (item.get("fulfillment") or {}).get("quantityFulfilled", 0)
            same_package = next((p for p in order.get("packages", [])
                                 if p["packageReferenceId"] == str(detail["packageReferenceId"])), None)
            if same_package is None and done + qty > item["quantityOrdered"]:
                raise ApiError(400, "InvalidInput", f"Invalid Input: quantity of {entry['orderItemId']}")
        packages = [p for p in order.get("packages", []) if p["packageReferenceId"] != str(detail["packageReferenceId"])]
        packages.append({"packageReferenceId": str(detail["packageReferenceId"]), "createdTime": iso(self.now()),
                         "packageStatus": {"status": "SHIPPED"},
                         "carrier": detail.get("carrierName") or detail["carrierCode"],
                         "shipTime": iso(ship_time), "shippingService": detail.get("shippingMethod", ""),
                         "trackingNumber": detail["trackingNumber"],
                         "packageItems": [{"orderItemId": e["orderItemId"], "quantity": e["quantity"]}
                                          for e in detail["orderItems"]]})
        order["packages"] = packages
        shipped: Counter = Counter()
        for p in packages:
            for e in p["packageItems"]:
                shipped[e["orderItemId"]] += e["quantity"]
        for item in order["orderItems"]:
            done = min(shipped[item["orderItemId"]], item["quantityOrdered"])
            item["fulfillment"] = {"quantityFulfilled": done, "quantityUnfulfilled": item["quantityOrdered"] - done}
        complete = all(i["fulfillment"]["quantityUnfulfilled"] == 0 for i in order["orderItems"])
        order["fulfillment"]["fulfillmentStatus"] = "SHIPPED" if complete else "PARTIALLY_SHIPPED"
        order["lastUpdatedTime"] = iso(self.now())
        self.confirmations.append((orderId, deepcopy(body)))
        self.add_order(order, at=self.now())
        return Response(status=204)

    # ------------------------------------------------------------------ finances
    def _financial_events(self, orderId: str):
        """The order's events posted by now, oldest first, ``MaxResultsPerPage`` at a time.
        An order without events (or unknown) answers empty lists."""
        now = self.now()
        size = _int_arg(request.args, "MaxResultsPerPage", 100, 1, 100)
        token = request.args.get("NextToken")
        if token:
            with self.lock:
                entry = self.finance_tokens.get(token)
            if entry is None or entry["expires"] < now:
                raise ApiError(400, "InvalidInput", "Invalid NextToken.")
            if entry["orderId"] != orderId:
                raise ApiError(400, "InvalidInput", "NextToken was issued for another order.")
            events, offset = entry["events"], entry["offset"]
        else:
            with self.lock:
                events = [(kind, deepcopy(event)) for posted, kind, event
                          in sorted(self.financial_events.get(orderId, []), key=lambda e: e[0]) if posted <= now]
            offset = 0
        lists: dict[str, list[dict[str, Any]]] = {name: [] for name in FINANCE_LISTS}
        for kind, event in events[offset:offset + size]:
            lists[kind].append(event)
        payload: dict[str, Any] = {"FinancialEvents": lists}
        if offset + size < len(events):
            new_token = secrets.token_urlsafe(24)
            with self.lock:
                self.finance_tokens[new_token] = {"orderId": orderId, "events": events, "offset": offset + size,
                                                  "expires": now + FINANCE_TOKEN_TTL}
            payload["NextToken"] = new_token
        return {"payload": payload}, 200

    # ------------------------------------------------------------------ listings
    def _listing(self, sellerId: str, sku: str) -> Listing:
        if sellerId != self.seller_id:
            raise ApiError(403, "Unauthorized", "Access to requested resource is denied.")
        listing = self.listings.get(sku)
        if listing is None:
            raise ApiError(404, "NOT_FOUND", f"SKU '{sku}' not found in marketplace.")
        return listing

    def _get_listing(self, sellerId: str, sku: str):
        mps = _csv(request.args.get("marketplaceIds"))
        if not mps:
            raise ApiError(400, "InvalidInput", "marketplaceIds is required.")
        listing = self._listing(sellerId, sku)
        included = set(_csv(request.args.get("includedData")) or ["summaries"])
        mp = mps[0]
        item: dict[str, Any] = {"sku": sku}
        if "summaries" in included:
            summary = {"marketplaceId": mp, "asin": listing.asin, "productType": listing.product_type,
                       "conditionType": "new_new", "status": ["BUYABLE", "DISCOVERABLE"], "itemName": listing.title,
                       "createdDate": listing.created, "lastUpdatedDate": listing.created}
            if listing.image:
                summary["mainImage"] = {"link": listing.image, "height": 1000, "width": 1000}
            if FBA_CHANNEL in listing.channels:
                summary["fnSku"] = "X00" + listing.asin[2:]
            item["summaries"] = [summary]
        if "offers" in included and mp in listing.prices:
            item["offers"] = [{"marketplaceId": mp, "offerType": "B2C",
                               "price": money(listing.prices[mp], MARKETPLACES[mp].currency)}]
        if "fulfillmentAvailability" in included:
            item["fulfillmentAvailability"] = [
                {"fulfillmentChannelCode": code, "quantity": qty} for code, qty in sorted(listing.channels.items())]
        if "relationships" in included:
            rels = []
            if listing.parent:
                rels.append({"type": "VARIATION", "parentSkus": [listing.parent]})
            if listing.children:
                rels.append({"type": "VARIATION", "childSkus": list(listing.children),
                             **({"variationTheme": {"attributes": ["size", "color"], "theme": listing.theme}}
                                if listing.theme else {})})
            item["relationships"] = [{"marketplaceId": mp, "relationships": rels}]
        if "issues" in included:
            item["issues"] = [_missing_issue(a) for a in listing.missing]
        return item, 200

    def _patch_listing(self, sellerId: str, sku: str):
        if not _csv(request.args.get("marketplaceIds")):
            raise ApiError(400, "InvalidInput", "marketplaceIds is required.")
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not body.get("productType") or not body.get("patches"):
            raise ApiError(400, "InvalidInput", "productType and patches are required.")
        if sellerId != self.seller_id:
            raise ApiError(403, "Unauthorized", "Access to requested resource is denied.")
        submission = uuid.uuid4().hex
        listing = self.listings.get(sku)
        if listing is None:
            return {"sku": sku, "status": "INVALID", "submissionId": submission, "issues": [
                {"code": "8541", "message": f"SKU '{sku}' not found.", "severity": "ERROR",
                 "categories": ["INVALID_ATTRIBUTE"]}]}, 200
        issues = _apply_patches(listing, body["productType"], body["patches"])
        self.patches.append((sku, deepcopy(body)))
        return {"sku": sku, "status": "INVALID" if issues else "ACCEPTED", "submissionId": submission,
                "issues": issues}, 200

    # ------------------------------------------------------------------ documents
    def _document(self, doc_id: str):
        with self.lock:
            doc = self.documents.get(doc_id)
        if doc is None:
            return Response("NoSuchKey", status=404)
        if request.method == "PUT":
            if doc["kind"] != "feed-input":
                return Response("AccessDenied", status=403)
            doc["content"] = request.get_data()
            doc["content_type"] = request.headers.get("Content-Type", "")
            return Response(status=200)
        data = doc.get("content") or b""
        return Response(data, status=200, mimetype="application/octet-stream")

    def _store(self, kind: str, content: bytes | None = None, gzip_it: bool = False) -> str:
        doc_id = f"amzn1.tortuga.4.eu.{uuid.uuid4().hex}"
        with self.lock:
            self.documents[doc_id] = {"kind": kind, "content": gzip.compress(content) if gzip_it and content
                                      is not None else content, "gzip": gzip_it}
        return doc_id

    # ------------------------------------------------------------------ feeds
    def _create_feed_document(self):
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not body.get("contentType"):
            raise ApiError(400, "InvalidInput", "contentType is required.")
        doc_id = self._store("feed-input")
        return {"feedDocumentId": doc_id, "url": self._url(doc_id)}, 201

    def _create_feed(self):
        body = request.get_json(silent=True) or {}
        for name in ("feedType", "marketplaceIds", "inputFeedDocumentId"):
            if not body.get(name):
                raise ApiError(400, "InvalidInput", f"{name} is required.")
        if body["feedType"] != "JSON_LISTINGS_FEED":
            raise ApiError(400, "InvalidInput", f"Feed type {body['feedType']} is not supported here.")
        doc = self.documents.get(body["inputFeedDocumentId"])
        if doc is None or doc["kind"] != "feed-input" or doc.get("content") is None:
            raise ApiError(400, "InvalidInput", "The feed document was not uploaded.")
        feed_id = self._new_id()
        try:
            messages = len(json.loads(doc["content"]).get("messages") or [])
        except ValueError:
            messages = 0
        now = self.now()
        with self.lock:
            self.feeds[feed_id] = {"feedId": feed_id, "feedType": body["feedType"],
                                   "marketplaceIds": list(body["marketplaceIds"]), "createdTime": now,
                                   "start": now + 5, "end": now + self.feed_delay + 0.01 * messages,
                                   "input": body["inputFeedDocumentId"], "result": None}
        return {"feedId": feed_id}, 202

    def _get_feed(self, feedId: str):
        feed = self.feeds.get(feedId)
        if feed is None:
            raise ApiError(404, "NotFound", f"Feed {feedId} not found.")
        now = self.now()
        out = {"feedId": feedId, "feedType": feed["feedType"], "marketplaceIds": feed["marketplaceIds"],
               "createdTime": iso(feed["createdTime"])}
        if now < feed["start"]:
            out["processingStatus"] = "IN_QUEUE"
        elif now < feed["end"]:
            out.update(processingStatus="IN_PROGRESS", processingStartTime=iso(feed["start"]))
        else:
            with self.lock:
                if feed["result"] is None:
                    feed["result"] = self._process_feed(feed)
            out.update(processingStatus="DONE", processingStartTime=iso(feed["start"]),
                       processingEndTime=iso(feed["end"]), resultFeedDocumentId=feed["result"])
        return out, 200

    def _process_feed(self, feed: dict[str, Any]) -> str:
        issues: list[dict[str, Any]] = []
        accepted = invalid = 0
        try:
            document = json.loads(self.documents[feed["input"]]["content"])
            messages = document["messages"]
            header_ok = document.get("header", {}).get("sellerId") == self.seller_id and \
                document.get("header", {}).get("version") == "2.0"
        except (ValueError, KeyError, TypeError):
            messages, header_ok = [], False
        if not header_ok:
            issues.append({"code": "100001", "severity": "ERROR",
                           "message": "The feed header is missing or invalid (sellerId, version 2.0)."})
        for message in messages if header_ok else []:
            sku, mid = message.get("sku"), message.get("messageId")
            listing = self.listings.get(sku)
            found: list[dict[str, Any]] = []
            if listing is None:
                found = [{"code": "8541", "severity": "ERROR", "message": f"SKU '{sku}' not found."}]
            elif message.get("operationType") == "PATCH":
                found = [{k: v for k, v in i.items() if k in ("code", "severity", "message")}
                         for i in _apply_patches(listing, message.get("productType", ""), message.get("patches") or [])]
            elif message.get("operationType") == "PARTIAL_UPDATE":
                patches = [{"op": "replace", "path": f"/attributes/{k}", "value": v}
                           for k, v in (message.get("attributes") or {}).items()]
                found = [{k: v for k, v in i.items() if k in ("code", "severity", "message")}
                         for i in _apply_patches(listing, message.get("productType", ""), patches)]
            else:
                found = [{"code": "100002", "severity": "ERROR",
                          "message": f"operationType {message.get('operationType')} is not supported here."}]
            for issue in found:
                issues.append({"messageId": mid, "sku": sku, **issue})
            if any(i["severity"] == "ERROR" for i in found):
                invalid += 1
            else:
                accepted += 1
        report = {"header": {"sellerId": self.seller_id, "version": "2.0", "feedId": feed["feedId"]},
                  "issues": issues,
                  "summary": {"errors": sum(1 for i in issues if i["severity"] == "ERROR"),
                              "warnings": sum(1 for i in issues if i["severity"] == "WARNING"),
                              "messagesProcessed": accepted + invalid, "messagesAccepted": accepted,
                              "messagesInvalid": invalid}}
        return self._store("feed-result", json.dumps(report).encode(), gzip_it=True)

    def _get_feed_document(self, feedDocumentId: str):
        doc = self.documents.get(feedDocumentId)
        if doc is None or doc["kind"] != "feed-result":
            raise ApiError(404, "NotFound", f"Feed document {feedDocumentId} not found.")
        out = {"feedDocumentId": feedDocumentId, "url": self._url(feedDocumentId)}
        if doc["gzip"]:
            out["compressionAlgorithm"] = "GZIP"
        return out, 200

    # ------------------------------------------------------------------ reports
    def _create_report(self):
        body = request.get_json(silent=True) or {}
        if not body.get("reportType") or not body.get("marketplaceIds"):
            raise ApiError(400, "InvalidInput", "reportType and marketplaceIds are required.")
        if body["reportType"] not in REPORT_TYPES:
            raise ApiError(400, "InvalidInput", f"Report type {body['reportType']} is not supported here.")
        now = self.now()
        start = _date_arg(body["dataStartTime"], "dataStartTime") if body.get("dataStartTime") else None
        end = _date_arg(body["dataEndTime"], "dataEndTime") if body.get("dataEndTime") else now
        report_id = self._new_id()
        content = self._report_content(body["reportType"], body["marketplaceIds"][0], start, end)
        rows = content.count(b"\n")
        with self.lock:
            self.reports[report_id] = {"reportId": report_id, "reportType": body["reportType"],
                                       "marketplaceIds": list(body["marketplaceIds"]), "createdTime": now,
                                       "start": now + 5, "end": now + self.report_delay + 0.005 * rows,
                                       "dataStartTime": start, "dataEndTime": end, "content": content,
                                       "document": None}
        return {"reportId": report_id}, 202

    def _report_content(self, report_type: str, marketplace: str, start: float | None, end: float) -> bytes:
        if report_type == "GET_MERCHANT_LISTINGS_ALL_DATA":
            lines = ["\t".join(LISTING_REPORT_COLUMNS)]
            for listing in sorted(self.listings.values(), key=lambda ln: ln.sku):
                if marketplace not in listing.prices and not listing.children:
                    continue
                channel = "DEFAULT" if "DEFAULT" in listing.channels or not listing.channels else FBA_CHANNEL
                row = {"item-name": listing.title, "listing-id": f"0{abs(hash(listing.sku)) % 10**10:010d}",
                       "seller-sku": listing.sku, "price": listing.prices.get(marketplace, ""),
                       "quantity": str(listing.channels.get("DEFAULT", "")) if channel == "DEFAULT" else "",
                       "open-date": listing.created.replace("T", " ").replace("Z", " UTC"),
                       "image-url": listing.image, "item-is-marketplace": "y",
                       "product-id-type": "4" if listing.ean else "1", "item-condition": "11",
                       "asin1": listing.asin, "product-id": listing.ean or listing.asin,
                       "fulfillment-channel": channel, "status": "Active" if not listing.missing else "Incomplete"}
                lines.append("\t".join(row.get(c, "") for c in LISTING_REPORT_COLUMNS))
            return ("\n".join(lines) + "\n").encode("utf-8")
        lines = ["\t".join(ORDER_REPORT_COLUMNS)]
        for order in self.visible_orders(end):
            if order["salesChannel"].get("marketplaceId") != marketplace:
                continue
            stamp = parse_iso(order["lastUpdatedTime"]).timestamp()
            if (start is not None and stamp < start) or stamp > end:
                continue
            mp = MARKETPLACES[marketplace]
            status = order["fulfillment"]["fulfillmentStatus"]
            address = (order.get("recipient") or {}).get("deliveryAddress") or {}
            for item in order["orderItems"]:
                product = item["product"]
                unit = Decimal(product["price"]["unitPrice"]["amount"])
                row = {"amazon-order-id": order["orderId"], "purchase-date": order["createdTime"],
                       "last-updated-date": order["lastUpdatedTime"],
                       "order-status": "Cancelled" if status == "CANCELLED" else V0_STATUS[status],
                       "fulfillment-channel": "Amazon" if order["fulfillment"]["fulfilledBy"] == "AMAZON" else "Merchant",
                       "sales-channel": mp.name, "ship-service-level": "Expedited" if
                       order["fulfillment"].get("fulfillmentServiceLevel") == "EXPEDITED" else "Standard",
                       "product-name": product.get("title", ""), "sku": product.get("sellerSku", ""),
                       "asin": product.get("asin", ""), "item-status": "Cancelled" if status == "CANCELLED" else
                       ("Shipped" if status == "SHIPPED" else "Unshipped"), "quantity": str(item["quantityOrdered"]),
                       "currency": mp.currency, "item-price": str(unit * item["quantityOrdered"]),
                       "item-tax": "0.00", "shipping-price": "0.00", "shipping-tax": "0.00",
                       "ship-city": address.get("city", ""), "ship-state": address.get("stateOrRegion", ""),
                       "ship-postal-code": address.get("postalCode", ""),
                       "ship-country": address.get("countryCode", mp.country_code),
                       "is-business-order": "true" if "AMAZON_BUSINESS" in order.get("programs", []) else "false"}
                lines.append("\t".join(row.get(c, "") for c in ORDER_REPORT_COLUMNS))
        return ("\n".join(lines) + "\n").encode("utf-8")

    def _get_report(self, reportId: str):
        report = self.reports.get(reportId)
        if report is None:
            raise ApiError(404, "NotFound", f"Report {reportId} not found.")
        now = self.now()
        out = {"reportId": reportId, "reportType": report["reportType"], "marketplaceIds": report["marketplaceIds"],
               "createdTime": iso(report["createdTime"]), "dataEndTime": iso(report["dataEndTime"])}
        if report["dataStartTime"] is not None:
            out["dataStartTime"] = iso(report["dataStartTime"])
        if now < report["start"]:
            out["processingStatus"] = "IN_QUEUE"
        elif now < report["end"]:
            out.update(processingStatus="IN_PROGRESS", processingStartTime=iso(report["start"]))
        else:
            with self.lock:
                if report["document"] is None:
                    report["document"] = self._store("report", report["content"], gzip_it=True)
            out.update(processingStatus="DONE", processingStartTime=iso(report["start"]),
                       processingEndTime=iso(report["end"]), reportDocumentId=report["document"])
        return out, 200

    def _get_report_document(self, reportDocumentId: str):
        doc = self.documents.get(reportDocumentId)
        if doc is None or doc["kind"] != "report":
            raise ApiError(404, "NotFound", f"Report document {reportDocumentId} not found.")
        return {"reportDocumentId": reportDocumentId, "url": self._url(reportDocumentId),
                "compressionAlgorithm": "GZIP"}, 200

    # ------------------------------------------------------------------ FBA inventory
    def _inventory(self):
        args = request.args
        if args.get("granularityType") != "Marketplace" or not args.get("granularityId"):
            raise ApiError(400, "InvalidInput", "granularityType=Marketplace and granularityId are required.")
        mps = _csv(args.get("marketplaceIds"))
        if len(mps) != 1:
            raise ApiError(400, "InvalidInput", "Exactly one marketplaceId is required.")
        now = self.now()
        token = args.get("nextToken")
        if token:
            with self.lock:
                entry = self.inventory_tokens.get(token)
            if entry is None or entry[2] < now:
                raise ApiError(400, "InvalidInput", "The nextToken has expired.")
            skus, offset = entry[0], entry[1]
        else:
            wanted = set(_csv(args.get("sellerSkus")))
            skus = sorted(s for s in self.fba if not wanted or s in wanted)
            offset = 0
        details = args.get("details") == "true"
        page = skus[offset:offset + 50]
        summaries = []
        for sku in page:
            qty = self.fba[sku]
            summary = {"asin": asin_of(sku), "fnSku": "X00" + asin_of(sku)[2:], "sellerSku": sku,
                       "condition": "NewItem", "lastUpdatedTime": iso(now),
                       "productName": self.listings[sku].title if sku in self.listings else sku,
                       "totalQuantity": qty, "stores": []}
            if details:
                summary["inventoryDetails"] = {"fulfillableQuantity": qty, "inboundWorkingQuantity": 0,
                                               "inboundShippedQuantity": 0, "inboundReceivingQuantity": 0,
                                               "reservedQuantity": {"totalReservedQuantity": 0}}
            summaries.append(summary)
        body: dict[str, Any] = {"payload": {"granularity": {"granularityType": "Marketplace",
                                                            "granularityId": args["granularityId"]},
                                            "inventorySummaries": summaries}}
        if offset + 50 < len(skus):
            new_token = secrets.token_urlsafe(16)
            with self.lock:
                self.inventory_tokens[new_token] = (skus, offset + 50, now + INVENTORY_TOKEN_TTL)
            body["pagination"] = {"nextToken": new_token}
        return body, 200

    # ------------------------------------------------------------------ notifications
    def _create_destination(self):
        body = request.get_json(silent=True) or {}
        arn = ((body.get("resourceSpecification") or {}).get("sqs") or {}).get("arn")
        if not body.get("name") or not arn or not str(arn).startswith("arn:aws:sqs:"):
            raise ApiError(400, "InvalidInput", "name and resourceSpecification.sqs.arn are required.")
        if any(d["resource"]["sqs"]["arn"] == arn for d in self.destinations.values()):
            raise ApiError(409, "Conflict", "A destination with this resource already exists.")
        destination_id = str(uuid.uuid4())
        destination = {"name": body["name"][:256], "destinationId": destination_id, "resource": {"sqs": {"arn": arn}}}
        with self.lock:
            self.destinations[destination_id] = destination
        return {"payload": destination}, 200

    def _get_destinations(self):
        return {"payload": list(self.destinations.values())}, 200

    def _create_subscription(self, notificationType: str):
        body = request.get_json(silent=True) or {}
        if not body.get("payloadVersion") or not body.get("destinationId"):
            raise ApiError(400, "InvalidInput", "payloadVersion and destinationId are required.")
        if body["destinationId"] not in self.destinations:
            raise ApiError(400, "InvalidInput", "Unknown destinationId.")
        if notificationType in self.subscriptions:
            raise ApiError(409, "Conflict", "A subscription of this type already exists.")
        sub = {"subscriptionId": str(uuid.uuid4()), "payloadVersion": body["payloadVersion"],
               "destinationId": body["destinationId"]}
        if body.get("processingDirective"):
            sub["processingDirective"] = body["processingDirective"]
        with self.lock:
            self.subscriptions[notificationType] = sub
        return {"payload": sub}, 200

    def _get_subscription(self, notificationType: str):
        sub = self.subscriptions.get(notificationType)
        if sub is None:
            raise ApiError(404, "NotFound", f"No subscription for {notificationType}.")
        return {"payload": sub}, 200

    def _notify(self, order: dict[str, Any]) -> None:
        sub = self.subscriptions.get("ORDER_CHANGE")
        if sub is None:
            return
        event_filter = (sub.get("processingDirective") or {}).get("eventFilter") or {}
        mp = order["salesChannel"].get("marketplaceId")
        if event_filter.get("marketplaceIds") and mp not in event_filter["marketplaceIds"]:
            return
        notification = order_change_notification(order, self.seller_id, sub["subscriptionId"], self.now())
        self.deliveries.append(notification)
        if self.deliver is not None:
            self.deliver(notification, self.destinations.get(sub["destinationId"], {}))


def order_change_notification(order: dict[str, Any], seller_id: str, subscription_id: str,
                              now: float) -> dict[str, Any]:
    """An ORDER_CHANGE notification (schema ``OrderChangeNotification.json``)."""
    status = order["fulfillment"]["fulfillmentStatus"]
    programs = {"PRIME": "Prime", "AMAZON_BUSINESS": "Business", "PREMIUM": "Premium"}
    items = [{"OrderItemId": i["orderItemId"], "SellerSKU": i["product"].get("sellerSku", ""), "SupplySourceId": None,
              "OrderItemStatus": "Shipped" if (i.get("fulfillment") or {}).get("quantityUnfulfilled") == 0
              and status in ("SHIPPED", "PARTIALLY_SHIPPED") else "Unshipped",
              "Quantity": i["quantityOrdered"],
              "QuantityShipped": (i.get("fulfillment") or {}).get("quantityFulfilled", 0),
              "IsBuyerRequestedCancel": bool(i.get("cancellation"))} for i in order["orderItems"]]
    shipped = sum(i["QuantityShipped"] for i in items)
    return {
        "NotificationVersion": "1.0", "NotificationType": "ORDER_CHANGE", "PayloadVersion": "1.0",
        "EventTime": iso(now),
        "Payload": {"OrderChangeNotification": {
            "NotificationLevel": "OrderLevel", "SellerId": seller_id, "AmazonOrderId": order["orderId"],
            "OrderChangeType": "OrderStatusChange",
            "OrderChangeTrigger": {"TimeOfOrderChange": order["lastUpdatedTime"], "ChangeReason": "OrderStatusChange"},
            "Summary": {
                "MarketplaceId": order["salesChannel"].get("marketplaceId", ""), "OrderStatus": V0_STATUS[status],
                "PurchaseDate": order["createdTime"],
                "DestinationPostalCode": ((order.get("recipient") or {}).get("deliveryAddress") or {}).get("postalCode"),
                "FulfillmentType": "AFN" if order["fulfillment"]["fulfilledBy"] == "AMAZON" else "MFN",
                "OrderType": "StandardOrder", "NumberOfItemsShipped": shipped,
                "NumberOfItemsUnshipped": sum(i["Quantity"] for i in items) - shipped,
                "OrderPrograms": [programs[p] for p in order.get("programs", []) if p in programs],
                "ShippingPrograms": [], "OrderItems": items}}},
        "NotificationMetadata": {"ApplicationId": "amzn1.sp.solution.oms-demo", "SubscriptionId": subscription_id,
                                 "PublishTime": iso(now), "NotificationId": str(uuid.uuid4())},
    }


def _cents(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.01"))


def _finance_amount(amount: Decimal, currency: str) -> dict[str, Any]:
    """A Finances ``Currency`` (``CurrencyAmount`` is a JSON number)."""
    return {"CurrencyCode": currency, "CurrencyAmount": float(_cents(amount))}


def _charge(kind: str, amount: Decimal, currency: str) -> dict[str, Any]:
    return {"ChargeType": kind, "ChargeAmount": _finance_amount(amount, currency)}


def _fee(kind: str, amount: Decimal, currency: str) -> dict[str, Any]:
    return {"FeeType": kind, "FeeAmount": _finance_amount(amount, currency)}


# ----------------------------------------------------------------------------- request helpers
def _csv(value: str | None) -> list[str]:
    return [v for v in (value or "").split(",") if v]


def _int_arg(args, name: str, default: int, low: int, high: int) -> int:
    raw = args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, "InvalidInput", f"{name} must be an integer.") from None
    if not low <= value <= high:
        raise ApiError(400, "InvalidInput", f"{name} must be between {low} and {high}.")
    return value


def _date_arg(value: str, name: str) -> float:
    try:
        return parse_iso(value).timestamp()
    except (ValueError, TypeError, AttributeError):
        raise ApiError(400, "InvalidInput", f"{name} must be an ISO 8601 date-time.") from None


def _included(order: dict[str, Any], included: set[str]) -> dict[str, Any]:
    if not order:
        return order
    out = {k: v for k, v in order.items() if k not in ("buyer", "recipient", "proceeds", "packages")}
    for name, key in (("BUYER", "buyer"), ("RECIPIENT", "recipient"), ("PROCEEDS", "proceeds"),
                      ("PACKAGES", "packages")):
        if name in included and key in order:
            out[key] = order[key]
    if "PROCEEDS" not in included:
        out["orderItems"] = [{k: v for k, v in i.items() if k != "proceeds"} for i in order["orderItems"]]
    return out


def _missing_issue(attribute: str) -> dict[str, Any]:
    return {"code": "90220", "message": f"'[{attribute}]' is required but not supplied.", "severity": "ERROR",
            "attributeNames": [attribute], "categories": ["MISSING_ATTRIBUTE"]}


def _apply_patches(listing: Listing, product_type: str, patches: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Apply fulfillment_availability patches; the issues Amazon would raise, if any."""
    if listing.missing:
        return [_missing_issue(a) for a in listing.missing]
    if product_type != listing.product_type:
        return [{"code": "4000001", "message": f"The product type '{product_type}' does not match the listing "
                 f"('{listing.product_type}').", "severity": "ERROR", "categories": ["INVALID_ATTRIBUTE"]}]
    for patch in patches:
        if patch.get("path") != "/attributes/fulfillment_availability":
            continue
        entries = patch.get("value") or []
        if patch.get("op") == "replace":
            listing.channels = {}
        for entry in entries:
            code = entry.get("fulfillment_channel_code")
            qty = entry.get("quantity")
            if not code or not isinstance(qty, int) or qty < 0:
                return [{"code": "99022", "message": "fulfillment_availability needs a channel code and a quantity "
                         ">= 0.", "severity": "ERROR", "categories": ["INVALID_ATTRIBUTE"]}]
            if code == "DEFAULT":
                listing.channels[code] = qty
    return []


def _json_response(body: dict[str, Any], status: int) -> Response:
    res = jsonify(body)
    res.status_code = status
    res.headers["x-amzn-RequestId"] = str(uuid.uuid4())
    return res


def _lwa_error(status: int, error: str, description: str):
    return jsonify({"error_description": description, "error": error}), status


def error_body(status: int) -> dict[str, Any]:
    """The SP-API's error body, for the faults told on demand (429 ``QuotaExceeded``)."""
    if status == 429:
        return {"errors": [dict(QUOTA)]}
    code = {503: "ServiceUnavailable"}.get(status, "InternalFailure" if status >= 500 else "InvalidInput")
    return {"errors": [{"code": code, "message": "We encountered an internal error. Please try again."}]}


def _sp_error(status: int, error: dict[str, str], details: str | None = None) -> Response:
    entry = dict(error)
    if details is not None:
        entry["details"] = details
    elif error is DENIED:
        entry["details"] = ""
    return _json_response({"errors": [entry]}, status)


# ----------------------------------------------------------------------------- the demo's account
DEMO_LISTINGS = [
    # (SKU, product type, title, FR price, MFN qty, FBA qty)
    ("TCB-BLA-S", "SHIRT", "T-shirt coton bio – Blanc, S", "19.90", 12, None),
    ("TCB-BLA-M", "SHIRT", "T-shirt coton bio – Blanc, M", "19.90", 10, 25),
    ("TCB-NOI-M", "SHIRT", "T-shirt coton bio – Noir, M", "19.90", 8, None),
    ("BPF-STD", "CANDLE", "Bougie parfumée Figuier", "24.00", None, 40),
    ("TBL-NAT", "HANDBAG", "Tote bag lin – Naturel", "22.00", 15, None),
    ("CAP-STD", "NOTEBOOK", "Carnet A5 pointillé", "12.90", 30, 18),
    ("AMZ-LOT3-BOUGIES", "CANDLE", "Lot de 3 bougies (offre Amazon seulement)", "59.00", 5, None),
]
#: offers created on their EAN (the listings report gives it as ``product-id``)
DEMO_EANS = {"AMZ-LOT3-BOUGIES": "3760301234562"}


def seed_demo(emulator: Emulator) -> None:
    """A few listings whose SKUs match the demo catalog, FBA stock, and FBA/FBM orders in
    France, the United Kingdom and Germany over the last days."""
    now = emulator.now()
    rng = random.Random(2026)
    emulator.add_listing(Listing("TCB-PARENT", "SHIRT", "T-shirt coton bio", {}, {}, children=[
        "TCB-BLA-S", "TCB-BLA-M", "TCB-NOI-M"], theme="SIZE_NAME/COLOR_NAME"))
    for sku, product_type, title, price, mfn, fba in DEMO_LISTINGS:
        channels = {**({"DEFAULT": mfn} if mfn is not None else {}), **({FBA_CHANNEL: fba} if fba is not None else {})}
        prices = {FR: price, DE: price, UK: str((Decimal(price) * Decimal("0.86")).quantize(Decimal("0.01")))}
        emulator.add_listing(Listing(sku, product_type, title, prices, channels,
                                     image=f"https://m.media-amazon.com/images/I/{asin_of(sku)}.jpg",
                                     parent="TCB-PARENT" if sku.startswith("TCB-") else None,
                                     ean=DEMO_EANS.get(sku)))
        if fba is not None:
            emulator.fba[sku] = fba
    plan = [(FR, "MERCHANT", "UNSHIPPED", False), (FR, "AMAZON", "SHIPPED", True), (DE, "MERCHANT", "UNSHIPPED", True),
            (DE, "AMAZON", "UNSHIPPED", False), (UK, "MERCHANT", "PENDING", False), (UK, "AMAZON", "SHIPPED", True),
            (FR, "MERCHANT", "SHIPPED", False), (FR, "AMAZON", "CANCELLED", False)]
    names = ["Camille Dubois", "Jonas Weber", "Oliver Smith", "Léa Fontaine", "Anna Schmidt", "Emily Jones"]
    for n, (mp, by, status, prime) in enumerate(plan, 1):
        skus = [s for s, _pt, _t, _p, mfn, fba in DEMO_LISTINGS if (mfn if by == "MERCHANT" else fba) is not None]
        sku = skus[n % len(skus)]
        price = next(p for s, _pt, _t, p, _m, _f in DEMO_LISTINGS if s == sku)
        if mp == UK:
            price = str((Decimal(price) * Decimal("0.86")).quantize(Decimal("0.01")))
        created = now - 3600 * (6 + 9 * n)
        emulator.add_order(make_order(f"40{n}-{rng.randint(10**6, 10**7 - 1)}-{rng.randint(10**6, 10**7 - 1)}",
                                      marketplace=mp, fulfilled_by=by, status=status,
                                      items=[(sku, 1 + n % 2, price)], created=created, updated=created + 600,
                                      prime=prime, level="EXPEDITED" if prime else "STANDARD",
                                      buyer=names[n % len(names)]))


def make_app(client_id: str = DEMO_CLIENT_ID, client_secret: str = DEMO_CLIENT_SECRET,
             refresh_token: str = DEMO_REFRESH_TOKEN, token_lifetime: int = 3600,
             participations: list[dict[str, Any]] | None = None, *, clock: Clock | None = None,
             seed: bool = True, **options: Any) -> Flask:
    """The emulator's WSGI app (the demo's, seeded); ``app.extensions["amazon_emulator"]``
    is the :class:`Emulator`."""
    return Emulator(client_id=client_id, client_secret=client_secret, refresh_token=refresh_token,
                    token_lifetime=token_lifetime, participations=participations, clock=clock, seed=seed,
                    **options).app


def demo_settings(base_url: str) -> dict[str, Any]:
    """Settings pointing the add-on at an emulator served at ``base_url``."""
    return {"region": "eu", "selling_partner_id": DEMO_SELLER_ID,
            "marketplaces": [FR, DE, UK],
            "lwa_client_id": DEMO_CLIENT_ID, "lwa_client_secret": DEMO_CLIENT_SECRET,
            "refresh_token": DEMO_REFRESH_TOKEN, "api_base_url": base_url,
            "token_url": f"{base_url}/auth/o2/token", "import_days": 7}
