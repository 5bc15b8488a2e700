"""Emulator of eBay's REST APIs for tests and the demo, on core's emulator base (mounted under
/sandbox/ebay with OMS_SANDBOXES=1; every request recorded; 429/500/timeouts on demand).

It speaks what the add-on uses, as eBay's references define it:

* OAuth: the consent page (``/oauth2/authorize``) redirecting to the RuName's accept URL with
  ``code`` and ``state``; the token endpoint ``/identity/v1/oauth2/token`` (Basic app
  credentials; authorization_code, refresh_token, client_credentials grants; user token
  7,200 s, refresh token 47,304,000 s, single-use codes, ``invalid_grant``/``invalid_client``);
* Identity ``getUser``, Account ``privilege`` and ``fulfillment_policy``;
* Fulfillment ``getOrders`` (the ``filter`` syntax checked as eBay checks it, ``limit`` ≤ 200,
  ``offset`` pages, orders of the last 90 days without a filter), ``getOrder``,
  ``shipping_fulfillment`` (eBay's 32xxx errors), ``issue_refund`` (signed);
* Inventory ``getInventoryItems``, ``getOffers``, ``bulk_update_price_quantity`` (≤ 25 entries,
  200 or 207 Multi-Status with per-SKU errors), ``bulkMigrateListing`` (≤ 5 listings);
* Notification: ``getPublicKey`` (ECDSA key it publishes), destinations (the endpoint
  challenge sent to the OMS), subscriptions, and signed deliveries (:meth:`Emulator.notify`);
* Post-Order cancellations (``IAF`` token, signed) and returns (``return/search`` by
  creation date, ``offset`` a page number, ``paginationOutput``; ``return/{returnId}``),
  Key Management ``createSigningKey``, Finances ``getTransactions`` (SALE and REFUND).

A buyer's return is opened on an order with :meth:`Emulator.open_return`, then moved on
with :meth:`Emulator.return_delivered` and :meth:`Emulator.refund_return`; a refund without a
return (the Seller Hub's, eBay's guarantee) with :meth:`Emulator.seller_refund`; refunds
``issue_refund`` left PENDING are completed by :meth:`Emulator.complete_refunds`.

Errors carry eBay's body ``{"errors": [{"errorId", "domain", "category", "message",
"longMessage"}]}``. The demo shop gets a burst of three orders at start-up, then one every
20 minutes at most, and a return of a shipped order every two hours at most, on the
emulator's clock; ``POST /_emulator/returns`` opens one on demand.
"""
from __future__ import annotations

import base64
import json
import random
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import httpx
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask, Response, jsonify, redirect, request
from markupsafe import escape

from core.connectors.emulator import CONTROL_PREFIX, EmulatorKit, SystemClock

from . import signing

DEMO_CLIENT_ID = "OMSDemo-OMS-PRD-1a2b3c4d5-6e7f8a9b"
DEMO_CLIENT_SECRET = "PRD-a1b2c3d4e5f6-7a8b-9c0d-1e2f-3a4b"
DEMO_RU_NAME = "OMS_Demo-OMSDemo-OMS-PR-abcdefghi"
DEMO_USERNAME = "atelier-lumiere-fr"
DEMO_USER_ID = "eGV7OTkzNDE"
DEMO_REFRESH_TOKEN = "v^1.1#i^1#r^1#p^3#I^3#f^0#t^Ul4xMF8yOkRFTU9SRUZSRVNIVE9LRU4="
DEMO_VERIFICATION_TOKEN = "oms-demo-verification-token-0123456789abcdef"
USER_TOKEN_LIFETIME = 7200
REFRESH_TOKEN_LIFETIME = 47_304_000
APP_TOKEN_LIFETIME = 7200
#: the emulator's short-term guard for a benchmark or a demo (requests per second, burst); eBay
#: documents daily quotas per API only (developer.ebay.com/develop/api/sell/api_call_limits)
FULFILLMENT_RATE = (5.0, 10)
HISTORY_DAYS = 730  # getOrders returns orders up to two years old
DEFAULT_WINDOW_DAYS = 90  # without a filter: orders created in the last 90 days
CARRIERS = {"Colissimo", "LaPoste", "Chronopost", "MondialRelay", "RelaisColis", "DPD", "GLS", "UPS", "FedEx",
            "DHL", "TNT", "ColisPrive", "Geodis", "Hermes", "Other"}
DEMO_LISTINGS = [  # (sku, title, price, quantity)
    ("TCB-BLA-M", "T-shirt coton bio Blanc M", "19.90", 10),
    ("TCB-NOI-L", "T-shirt coton bio Noir L", "19.90", 6),
    ("BPF-STD", "Bougie parfumée Figuier", "24.00", 12),
    ("TBL-NAT", "Tote bag lin Naturel", "22.00", 8),
    ("CAP-STD", "Carnet A5 pointillé", "12.90", 20),
]
#: a listing made in the Seller Hub: unknown to the Inventory API until migrated
DEMO_FOREIGN = [("TBL-TER", "Tote bag lin Terracotta", "22.00", 4, "110556677881")]
BUYERS = [("Julie Moreau", "Lyon", "69003"), ("Thomas Laurent", "Bordeaux", "33000"),
          ("Emma Girard", "Lille", "59000"), ("Lucas Roux", "Nantes", "44000"), ("Chloé Fournier", "Rennes", "35000")]
FILTER = re.compile(r"^(?P<field>creationdate|lastmodifieddate):\[(?P<from>[^\]]*?)\.\.(?P<to>[^\]]*)\]$")
STATUS_FILTERS = {"{NOT_STARTED|IN_PROGRESS}": {"NOT_STARTED", "IN_PROGRESS"},
                  "{FULFILLED|IN_PROGRESS}": {"FULFILLED", "IN_PROGRESS"}}
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$")


def iso(ts: float) -> str:
    when = datetime.fromtimestamp(ts, tz=timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def parse_iso(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def error(status: int, error_id: int, message: str, *, domain: str = "API_FULFILLMENT", category: str = "REQUEST",
          long: str | None = None, params: list[dict[str, str]] | None = None):
    body = {"errors": [{"errorId": error_id, "domain": domain, "category": category, "message": message[:50],
                        "longMessage": (long or message)[:200],
                        **({"parameters": params} if params else {})}]}
    return jsonify(body), status


def error_body(status: int) -> dict[str, Any]:
    """eBay's error body for the faults told on demand."""
    if status == 429:
        entry = {"errorId": 2001, "domain": "ACCESS", "category": "REQUEST", "message": "Too many requests.",
                 "longMessage": "The request limit has been reached for the resource."}
    else:
        entry = {"errorId": 15000 if status < 502 else 15001, "domain": "API_FULFILLMENT", "category": "APPLICATION",
                 "message": "There was a problem with an eBay internal system.",
                 "longMessage": "There was a problem with an eBay internal system or process. Contact eBay "
                                "developer support for assistance."}
    return {"errors": [entry]}


@dataclass
class Delivery:
    topic: str
    url: str
    status: int
    body: bytes = b""


@dataclass
class State:
    orders: dict[str, dict[str, Any]] = field(default_factory=dict)
    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    offers: dict[str, dict[str, Any]] = field(default_factory=dict)  # offerId → offer
    foreign: dict[str, dict[str, Any]] = field(default_factory=dict)  # listingId → Seller Hub listing
    fulfillments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    destinations: dict[str, dict[str, Any]] = field(default_factory=dict)
    subscriptions: dict[str, dict[str, Any]] = field(default_factory=dict)
    signing_keys: dict[str, str] = field(default_factory=dict)  # jwe → public key
    cancellations: dict[str, dict[str, Any]] = field(default_factory=dict)
    refunds: list[dict[str, Any]] = field(default_factory=list)
    returns: dict[str, dict[str, Any]] = field(default_factory=dict)  # returnId → ReturnSummaryType
    transactions: list[dict[str, Any]] = field(default_factory=list)


class Emulator:
    def __init__(self, *, clock: Any = None, client_id: str = DEMO_CLIENT_ID, client_secret: str = DEMO_CLIENT_SECRET,
                 ru_name: str = DEMO_RU_NAME, accept_url: str | None = None, username: str = DEMO_USERNAME,
                 user_id: str = DEMO_USER_ID, seed: bool = True, live: bool = False, rng: random.Random | None = None,
                 deliver: Any = None) -> None:
        self.clock = clock or SystemClock()
        self.client_id, self.client_secret, self.ru_name = client_id, client_secret, ru_name
        self.accept_url = accept_url
        self.username, self.user_id = username, user_id
        self.lock = threading.RLock()
        self.state = State()
        self.rng = rng or random.Random()
        self.codes: dict[str, dict[str, Any]] = {}
        self.user_tokens: dict[str, float] = {}
        self.app_tokens: dict[str, float] = {}
        self.refresh_tokens: dict[str, float] = {DEMO_REFRESH_TOKEN: self.clock.time() + REFRESH_TOKEN_LIFETIME}
        self.revoked: set[str] = set()
        self.token_grants: list[str] = []  # grant_type of every token request
        self.deliveries: list[Delivery] = []
        self.answers: list[tuple[str, int]] = []  # (path, status) of every answer
        self.deliver = deliver  # (url, headers, body) -> status; default: httpx
        self.challenge = deliver  # (url) -> response JSON
        self._notification_key = ec.generate_private_key(ec.SECP256R1())
        self.kid = "99d8e5b1-4d0f-4c5e-9d1c-" + secrets.token_hex(6)
        self.live = live
        self.started = self.clock.time()
        self.demo_placed = 0
        self.demo_returns = 0
        self._numbers: set[str] = set()
        self.app = self._make_app()
        if seed:
            self.seed_catalogue()

    # ------------------------------------------------------------------ helpers (tests, demo)
    def now(self) -> float:
        return self.clock.time()

    def order_number(self) -> str:
        while True:
            number = f"{self.rng.randint(10, 27):02d}-{self.rng.randint(10000, 99999)}-{self.rng.randint(10000, 99999)}"
            if number not in self._numbers:
                self._numbers.add(number)
                return number

    def seed_catalogue(self) -> None:
        for sku, title, price, qty in DEMO_LISTINGS:
            self.add_listing(sku, title, price, qty)
        for sku, title, price, qty, listing_id in DEMO_FOREIGN:
            self.state.foreign[listing_id] = {"listingId": listing_id, "sku": sku, "title": title, "price": price,
                                              "quantity": qty}

    def add_listing(self, sku: str, title: str, price: str, qty: int, *, marketplace: str = "EBAY_FR") -> str:
        with self.lock:
            self.state.items[sku] = {"sku": sku, "locale": "fr_FR", "condition": "NEW",
                                     "product": {"title": title},
                                     "availability": {"shipToLocationAvailability": {"quantity": qty}}}
            offer_id = str(5_000_000_000 + len(self.state.offers) + 1)
            listing_id = str(110_000_000_000 + len(self.state.offers) + 1)
            self.state.offers[offer_id] = {"offerId": offer_id, "sku": sku, "marketplaceId": marketplace,
                                           "format": "FIXED_PRICE", "availableQuantity": qty, "status": "PUBLISHED",
                                           "pricingSummary": {"price": {"value": price, "currency": "EUR"}},
                                           "listing": {"listingId": listing_id, "listingStatus": "ACTIVE"}}
        return offer_id

    def quantity(self, sku: str) -> tuple[int, list[int]]:
        """(item quantity, offers' quantities) of a SKU."""
        item = self.state.items[sku]
        offers = [o["availableQuantity"] for o in self.state.offers.values() if o["sku"] == sku]
        return item["availability"]["shipToLocationAvailability"]["quantity"], offers

    def listing_id_of(self, sku: str) -> str | None:
        for o in self.state.offers.values():
            if o["sku"] == sku:
                return o["listing"]["listingId"]
        for lid, f in self.state.foreign.items():
            if f["sku"] == sku:
                return lid
        return None

    def place_order(self, lines: list[tuple[str, int]], *, buyer: str = "Julie Moreau", city: str = "Lyon",
                    postal: str = "69003", country: str = "FR", email: str | None = None, created: float | None = None,
                    pickup: str | None = None, collected_vat: str | None = None, marketplace: str = "EBAY_FR",
                    notify: bool = True, order_id: str | None = None) -> dict[str, Any]:
        """A buyer checks out: the order, its SALE transaction and its ORDER_CONFIRMATION
        notifications (one per line item)."""
        with self.lock:
            now = self.now() if created is None else created
            order_id = order_id or self.order_number()
            legacy = f"{self.rng.randint(10**11, 10**12 - 1)}-{self.rng.randint(10**12, 10**13 - 1)}"
            items, subtotal = [], Decimal("0")
            for n, (sku, qty) in enumerate(lines, 1):
                price = self._price(sku)
                cost = price * qty
                subtotal += cost
                line = {"lineItemId": f"{order_id.replace('-', '')[:10]}{n:03d}", "legacyItemId": self.listing_id_of(sku)
                        or "110000000000", "sku": sku, "title": self._title(sku), "quantity": qty,
                        "lineItemCost": {"value": f"{cost:.2f}", "currency": "EUR"},
                        "total": {"value": f"{cost:.2f}", "currency": "EUR"},
                        "deliveryCost": {"shippingCost": {"value": "0.00", "currency": "EUR"}},
                        "taxes": [], "lineItemFulfillmentStatus": "NOT_STARTED", "soldFormat": "FIXED_PRICE",
                        "listingMarketplaceId": marketplace, "purchaseMarketplaceId": marketplace,
                        "lineItemFulfillmentInstructions": {"guaranteedDelivery": False,
                                                            "shipByDate": iso(now + 2 * 86400)}}
                if collected_vat:
                    line["ebayCollectAndRemitTaxes"] = [{"taxType": "VAT", "collectionMethod": "NET",
                                                         "amount": {"value": collected_vat, "currency": "EUR"}}]
                items.append(line)
                self._take_stock(sku, qty)
            shipping = Decimal("4.90")
            total = subtotal + shipping
            contact = {"fullName": buyer, "contactAddress": {"addressLine1": f"{self.rng.randint(1, 90)} rue de la Paix",
                                                             "city": city, "postalCode": postal, "countryCode": country},
                       "primaryPhone": {"phoneNumber": "0601020304"},
                       "email": email or f"{buyer.split()[0].lower()}.{self.rng.randint(100, 999)}@members.ebay.fr"}
            step: dict[str, Any] = {"fulfillmentInstructionsType": "SHIP_TO", "ebaySupportedFulfillment": False,
                                    "minEstimatedDeliveryDate": iso(now + 2 * 86400),
                                    "maxEstimatedDeliveryDate": iso(now + 4 * 86400),
                                    "shippingStep": {"shipTo": contact, "shippingCarrierCode": "Colissimo",
                                                     "shippingServiceCode": "FR_ColissimoStandard"}}
            if pickup:
                step["fulfillmentInstructionsType"] = "PREPARE_FOR_PICKUP"
                step["pickupStep"] = {"merchantLocationKey": pickup}
            order = {"orderId": order_id, "legacyOrderId": legacy, "creationDate": iso(now),
                     "lastModifiedDate": iso(now), "orderFulfillmentStatus": "NOT_STARTED",
                     "orderPaymentStatus": "PAID", "sellerId": self.username,
                     "buyer": {"username": re.sub(r"[^a-z0-9]", "", buyer.lower()) + str(self.rng.randint(10, 99)),
                               "taxAddress": {"countryCode": country, "postalCode": postal, "city": city}},
                     "pricingSummary": {"priceSubtotal": {"value": f"{subtotal:.2f}", "currency": "EUR"},
                                        "deliveryCost": {"value": f"{shipping:.2f}", "currency": "EUR"},
                                        "total": {"value": f"{total:.2f}", "currency": "EUR"}},
                     "cancelStatus": {"cancelState": "NONE_REQUESTED", "cancelRequests": []},
                     "paymentSummary": {"totalDueSeller": {"value": f"{total:.2f}", "currency": "EUR"},
                                        "payments": [{"paymentMethod": "EBAY", "paymentStatus": "PAID",
                                                      "amount": {"value": f"{total:.2f}", "currency": "EUR"}}],
                                        "refunds": []},
                     "fulfillmentStartInstructions": [step], "fulfillmentHrefs": [], "lineItems": items,
                     "ebayCollectAndRemitTax": bool(collected_vat), "salesRecordReference": str(1000 + len(self.state.orders)),
                     "totalMarketplaceFee": {"value": f"{(total * Decimal('0.129') + Decimal('0.35')):.2f}",
                                             "currency": "EUR"}}
            self.state.orders[order_id] = order
            fee = (total * Decimal("0.129")).quantize(Decimal("0.01"))
            self.state.transactions.append({
                "transactionId": f"{self.rng.randint(10**9, 10**10 - 1)}", "orderId": order_id,
                "transactionType": "SALE", "transactionStatus": "FUNDS_AVAILABLE_FOR_PAYOUT",
                "transactionDate": iso(now), "bookingEntry": "CREDIT",
                "amount": {"value": f"{total - fee - Decimal('0.35'):.2f}", "currency": "EUR"},
                "totalFeeAmount": {"value": f"{fee + Decimal('0.35'):.2f}", "currency": "EUR"},
                "orderLineItems": [{"lineItemId": items[0]["lineItemId"],
                                    "feeBasisAmount": {"value": f"{total:.2f}", "currency": "EUR"},
                                    "marketplaceFees": [
                                        {"feeType": "FINAL_VALUE_FEE", "amount": {"value": f"{fee:.2f}",
                                                                                  "currency": "EUR"}},
                                        {"feeType": "FINAL_VALUE_FEE_FIXED_PER_ORDER",
                                         "amount": {"value": "0.35", "currency": "EUR"}}]}]})
        if notify:
            for line in items:
                self.notify("ORDER_CONFIRMATION", {"orderId": order_id, "lineItemId": line["lineItemId"],
                                                   "sellerId": self.username})
        return order

    def modify(self, order_id: str, **changes: Any) -> dict[str, Any]:
        with self.lock:
            order = self.state.orders[order_id]
            order.update(changes)
            order["lastModifiedDate"] = iso(self.now())
            return order

    def buyer_cancels(self, order_id: str) -> None:
        """The buyer's cancellation, accepted: the order's cancelState becomes CANCELED."""
        self.modify(order_id, cancelStatus={"cancelState": "CANCELED", "cancelledDate": iso(self.now()),
                                            "cancelRequests": [{"cancelInitiator": "BUYER",
                                                                "cancelReason": "BUYER_CANCEL"}]})

    # ------------------------------------------------------------------ returns and refunds (tests, demo)
    def open_return(self, order_id: str, sku: str | None = None, quantity: int = 1, *, reason: str = "WRONG_SIZE",
                    comment: str = "") -> dict[str, Any]:
        """The buyer opens a return on one line of an order (``RETURN_REQUESTED``)."""
        with self.lock:
            order = self.state.orders[order_id]
            line = next((ln for ln in order["lineItems"] if sku is None or ln["sku"] == sku), None)
            if line is None:
                raise KeyError(sku)
            return_id = str(5_200_000_000 + len(self.state.returns) + 1)
            unit = Decimal(line["lineItemCost"]["value"]) / int(line["quantity"])
            estimate = {"value": float(unit * quantity), "currency": line["lineItemCost"]["currency"]}
            now = iso(self.now())
            summary = {"returnId": return_id, "orderId": order_id, "buyerLoginName": order["buyer"]["username"],
                       "sellerLoginName": self.username, "currentType": "MONEY_BACK",
                       "state": "RETURN_REQUESTED", "status": "RETURN_REQUESTED",
                       "creationInfo": {"item": {"itemId": line["legacyItemId"], "transactionId": line["lineItemId"],
                                                 "returnQuantity": quantity},
                                        "type": "MONEY_BACK", "reason": reason, "reasonType": "BUYER_REMORSE"
                                        if reason in ("WRONG_SIZE", "NO_LONGER_NEED_ITEM", "ORDERED_ACCIDENTALLY")
                                        else "SNAD", "comments": {"content": comment},
                                        "creationDate": {"value": now}},
                       "sellerTotalRefund": {"estimatedRefundAmount": estimate},
                       "buyerTotalRefund": {"estimatedRefundAmount": estimate},
                       "sellerResponseDue": {"activityDue": "SELLER_APPROVE_REQUEST",
                                             "respondByDate": {"value": iso(self.now() + 3 * 86400)}}}
            self.state.returns[return_id] = summary
            return summary

    def return_delivered(self, return_id: str) -> dict[str, Any]:
        """The returned parcel reached the seller."""
        with self.lock:
            summary = self.state.returns[return_id]
            summary["state"] = summary["status"] = "ITEM_DELIVERED"
            summary.pop("sellerResponseDue", None)
            return summary

    def refund_return(self, return_id: str, amount: str | None = None, *, keep_item: bool = False) -> dict[str, Any]:
        """The seller (or eBay) refunds the buyer for a return: the return closes with its
        actual refund, and the refund shows on the order and in the Finances API."""
        with self.lock:
            summary = self.state.returns[return_id]
            estimate = summary["sellerTotalRefund"]["estimatedRefundAmount"]
            value = Decimal(amount) if amount is not None else Decimal(str(estimate["value"]))
            actual = {"value": float(value), "currency": estimate["currency"]}
            summary["sellerTotalRefund"]["actualRefundAmount"] = actual
            summary["buyerTotalRefund"]["actualRefundAmount"] = actual
            summary["state"], summary["status"] = ("ITEM_KEPT", "CLOSED") if keep_item else ("CLOSED", "CLOSED")
            self._refund(summary["orderId"], value)
            return summary

    def seller_refund(self, order_id: str, amount: str) -> dict[str, Any]:
        """A refund without a return (made in the Seller Hub, or eBay's money-back guarantee)."""
        with self.lock:
            return self._refund(order_id, Decimal(amount))

    def complete_refunds(self) -> None:
        """eBay processes the refunds issue_refund left PENDING: REFUNDED, with their
        Finances REFUND transaction."""
        with self.lock:
            for order in self.state.orders.values():
                for entry in order["paymentSummary"]["refunds"]:
                    if entry["refundStatus"] == "PENDING":
                        entry["refundStatus"] = "REFUNDED"
                        self._refund_transaction(order["orderId"], entry["refundId"], Decimal(entry["amount"]["value"]))
                        order["lastModifiedDate"] = iso(self.now())

    def _refund(self, order_id: str, value: Decimal) -> dict[str, Any]:
        order = self.state.orders[order_id]
        refund_id = str(5_000_000_000_000 + len(self.state.refunds) + 1)
        entry = {"refundId": refund_id, "refundStatus": "REFUNDED",
                 "amount": {"value": f"{value:.2f}", "currency": "EUR"}, "refundDate": iso(self.now())}
        self.state.refunds.append({"orderId": order_id, **entry, "body": None})
        order["paymentSummary"]["refunds"].append(entry)
        refunded = sum((Decimal(r["amount"]["value"]) for r in order["paymentSummary"]["refunds"]), Decimal("0"))
        total = Decimal(order["pricingSummary"]["total"]["value"])
        order["orderPaymentStatus"] = "FULLY_REFUNDED" if refunded >= total else "PARTIALLY_REFUNDED"
        order["lastModifiedDate"] = iso(self.now())
        self._refund_transaction(order_id, refund_id, value)
        return entry

    def _refund_transaction(self, order_id: str, refund_id: str, value: Decimal) -> None:
        self.state.transactions.append({
            "transactionId": refund_id, "orderId": order_id, "transactionType": "REFUND",
            "transactionStatus": "FUNDS_PROCESSING", "transactionDate": iso(self.now()), "bookingEntry": "DEBIT",
            "amount": {"value": f"{value:.2f}", "currency": "EUR"},
            "totalFeeAmount": {"value": "0.00", "currency": "EUR"}, "orderLineItems": []})

    def _price(self, sku: str) -> Decimal:
        for o in self.state.offers.values():
            if o["sku"] == sku:
                return Decimal(o["pricingSummary"]["price"]["value"])
        for f in self.state.foreign.values():
            if f["sku"] == sku:
                return Decimal(f["price"])
        return Decimal("15.00")

    def _title(self, sku: str) -> str:
        if sku in self.state.items:
            return self.state.items[sku]["product"]["title"]
        return next((f["title"] for f in self.state.foreign.values() if f["sku"] == sku), sku)

    def _take_stock(self, sku: str, qty: int) -> None:
        if sku in self.state.items:
            avail = self.state.items[sku]["availability"]["shipToLocationAvailability"]
            avail["quantity"] = max(0, avail["quantity"] - qty)
            for o in self.state.offers.values():
                if o["sku"] == sku:
                    o["availableQuantity"] = max(0, o["availableQuantity"] - qty)

    # ------------------------------------------------------------------ notifications
    def public_key_pem(self) -> str:
        return self._notification_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()

    def signed(self, topic: str, data: dict[str, Any], *, notification_id: str | None = None,
               attempt: int = 1) -> tuple[bytes, dict[str, str]]:
        """A notification as eBay sends it: the JSON body and its X-EBAY-SIGNATURE."""
        now = iso(self.now())
        body = json.dumps({"metadata": {"topic": topic, "schemaVersion": "1.0", "deprecated": False},
                           "notification": {"notificationId": notification_id or secrets.token_hex(16),
                                            "eventDate": now, "publishDate": now, "publishAttemptCount": attempt,
                                            "data": data}}).encode()
        signature = self._notification_key.sign(body, ec.ECDSA(hashes.SHA1()))
        header = base64.b64encode(json.dumps({"alg": "ecdsa", "kid": self.kid,
                                              "signature": base64.b64encode(signature).decode(),
                                              "digest": "SHA1"}).encode()).decode()
        return body, {"X-EBAY-SIGNATURE": header, "Content-Type": "application/json"}

    def notify(self, topic: str, data: dict[str, Any]) -> list[Delivery]:
        sent = []
        with self.lock:
            targets = [self.state.destinations[s["destinationId"]] for s in self.state.subscriptions.values()
                       if s["topicId"] == topic and s["status"] == "ENABLED"
                       and s["destinationId"] in self.state.destinations]
        for dest in targets:
            body, headers = self.signed(topic, data)
            url = dest["deliveryConfig"]["endpoint"]
            status = self._post(url, headers, body)
            delivery = Delivery(topic, url, status, body)
            self.deliveries.append(delivery)
            sent.append(delivery)
        return sent

    def _post(self, url: str, headers: dict[str, str], body: bytes) -> int:
        if self.deliver is not None:
            return int(self.deliver("POST", url, headers, body)[0])
        try:
            return httpx.post(url, content=body, headers=headers, timeout=5.0).status_code
        except httpx.HTTPError:
            return 0

    def _challenge(self, url: str, code: str) -> Any:
        if self.deliver is not None:
            status, body = self.deliver("GET", f"{url}?{urlencode({'challenge_code': code})}", {}, b"")
            return json.loads(body) if status == 200 else None
        try:
            res = httpx.get(url, params={"challenge_code": code}, timeout=5.0)
            return res.json() if res.status_code == 200 else None
        except (httpx.HTTPError, ValueError):
            return None

    # ------------------------------------------------------------------ demo clock
    def tick(self) -> None:
        """The live demo shop: three orders at start-up, then one every 20 minutes at most."""
        if not self.live:
            return
        elapsed = self.now() - self.started
        due = 3 + int(elapsed // 1200)
        while self.demo_placed < due:
            self.demo_placed += 1
            in_stock = [sku for sku, item in self.state.items.items()
                        if item["availability"]["shipToLocationAvailability"]["quantity"] > 0]
            if not in_stock:
                return
            name, city, postal = self.rng.choice(BUYERS)
            lines = [(sku, 1) for sku in self.rng.sample(in_stock, min(len(in_stock), self.rng.choice((1, 1, 2))))]
            if self.demo_placed == 3 and DEMO_FOREIGN:
                lines.append((DEMO_FOREIGN[0][0], 1))
            threading.Thread(target=self.place_order, args=(lines,), kwargs={"buyer": name, "city": city,
                             "postal": postal}, daemon=True).start()
        # a buyer sends back one article of a shipped order every two hours at most
        while self.demo_returns < int(elapsed // 7200):
            self.demo_returns += 1
            with self.lock:
                returned = {r["orderId"] for r in self.state.returns.values()}
                shipped = [o for o in self.state.orders.values()
                           if o["orderFulfillmentStatus"] == "FULFILLED" and o["orderId"] not in returned]
            if not shipped:
                return
            order = min(shipped, key=lambda o: o["creationDate"])
            opened = self.open_return(order["orderId"], order["lineItems"][0]["sku"], 1,
                                      reason=self.rng.choice(("WRONG_SIZE", "NO_LONGER_NEED_ITEM", "DEFECTIVE_ITEM")))
            self.return_delivered(opened["returnId"])

    # ------------------------------------------------------------------ the wire
    def _user_ok(self, scheme: str = "Bearer") -> bool:
        auth = request.headers.get("Authorization") or ""
        if not auth.startswith(scheme + " "):
            return False
        token = auth[len(scheme) + 1:]
        return self.user_tokens.get(token, 0) > self.now() and token not in self.revoked

    def _app_ok(self) -> bool:
        auth = request.headers.get("Authorization") or ""
        return auth.startswith("Bearer ") and self.app_tokens.get(auth[7:], 0) > self.now()

    def _signature_error(self):
        body = request.get_data()
        jwe = request.headers.get("x-ebay-signature-key")
        if not jwe:
            return error(400, 215001, "Missing x-ebay-signature-key header", domain="ACCESS")
        public = self.state.signing_keys.get(jwe)
        url = request.host_url.rstrip("/") + request.script_root + request.path
        if public is None or signing.verify_request(request.method, url, request.headers, body, public):
            return error(400, 215120, "Signature validation failed", domain="ACCESS",
                         long="Signature validation failed to fulfill the request.")
        return None

    def _make_app(self) -> Flask:
        app = Flask(__name__)
        app.extensions["ebay_emulator"] = self
        kit = EmulatorKit("ebay", clock=self.clock, error_body=error_body)
        kit.attach(app)
        self.kit = kit
        emu = self
        state = self.state

        @app.after_request
        def _record(res):
            emu.answers.append((request.path, res.status_code))
            return res

        @app.before_request
        def _auth():
            emu.tick()
            path = request.path
            if path.startswith(CONTROL_PREFIX) or path.startswith("/oauth2/") or path == "/identity/v1/oauth2/token":
                return None
            if path.startswith("/commerce/notification/v1/public_key/") or path.startswith(
                    "/developer/key_management/"):
                if not emu._app_ok():
                    return error(401, 1001, "Invalid access token", domain="OAuth",
                                 long="Invalid access token. Check the value of the Authorization HTTP request header.")
                return None
            scheme = "IAF" if path.startswith("/post-order/") else "Bearer"
            if not emu._user_ok(scheme):
                return error(401, 1001, "Invalid access token", domain="OAuth",
                             long="Invalid access token. Check the value of the Authorization HTTP request header.")
            return None

        @app.post(f"{CONTROL_PREFIX}returns")
        def control_open_return():
            """The demo's (or a tester's) buyer opens a return: ``{"orderId", "sku", "quantity",
            "reason", "delivered"}``."""
            body = request.get_json(silent=True) or {}
            if str(body.get("orderId")) not in state.orders:
                return jsonify({"error": "unknown orderId"}), 404
            try:
                opened = emu.open_return(str(body["orderId"]), body.get("sku"), int(body.get("quantity") or 1),
                                         reason=str(body.get("reason") or "WRONG_SIZE"))
            except (KeyError, ValueError):
                return jsonify({"error": "unknown sku or bad quantity"}), 400
            if body.get("delivered"):
                emu.return_delivered(opened["returnId"])
            return jsonify(opened), 201

        # -------------------------------------------------------------- OAuth
        @app.get("/oauth2/authorize")
        def authorize():
            args = request.args
            if args.get("client_id") != emu.client_id or args.get("redirect_uri") != emu.ru_name \
                    or args.get("response_type") != "code":
                return Response("<h1>eBay</h1><p>Invalid client_id or redirect_uri.</p>", 400, mimetype="text/html")
            hidden = "".join(f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in args.items())
            scopes = "".join(f"<li>{escape(s.rsplit('/', 1)[-1])}</li>" for s in args.get("scope", "").split())
            page = (f"<!doctype html><html lang=\"fr\"><meta charset=\"utf-8\"><title>eBay – Autorisation</title>"
                    f"<body style=\"font-family:sans-serif;max-width:36rem;margin:3rem auto\"><h1>eBay</h1>"
                    f"<p>L'application <strong>{escape(emu.client_id.split('-')[0])}</strong> demande l'accès au "
                    f"compte <strong>{escape(emu.username)}</strong> :</p><ul>{scopes}</ul>"
                    f"<form method=\"post\" action=\"{escape(request.script_root)}/oauth2/consent\">{hidden}"
                    f"<button name=\"decision\" value=\"agree\">J'accepte</button> "
                    f"<button name=\"decision\" value=\"decline\">Non merci</button></form></body></html>")
            return Response(page, mimetype="text/html")

        @app.post("/oauth2/consent")
        def consent():
            form = request.form
            accept = emu.accept_url or (request.host_url.rstrip("/") + "/apps/ebay/oauth/callback")
            if form.get("decision") != "agree":
                return redirect(f"{accept}?{urlencode({'state': form.get('state', ''), 'error': 'access_denied'})}")
            code = "v^1.1#i^1#f^0#p^3#I^3#r^1#t^" + secrets.token_urlsafe(24)
            emu.codes[code] = {"expires": emu.now() + 299, "scope": form.get("scope", "")}
            return redirect(f"{accept}?{urlencode({'state': form.get('state', ''), 'code': code, 'expires_in': 299})}")

        @app.post("/identity/v1/oauth2/token")
        def token():
            auth = request.headers.get("Authorization") or ""
            expected = base64.b64encode(f"{emu.client_id}:{emu.client_secret}".encode()).decode()
            if auth != f"Basic {expected}":
                return jsonify({"error": "invalid_client", "error_description": "client authentication failed"}), 401
            if not (request.content_type or "").startswith("application/x-www-form-urlencoded"):
                return jsonify({"error": "invalid_request", "error_description": "unsupported content type"}), 400
            grant = request.form.get("grant_type")
            emu.token_grants.append(grant or "")
            if grant == "client_credentials":
                tok = "v^1.1#i^1#p^1#r^0#f^0#I^3#t^APP" + secrets.token_urlsafe(32)
                emu.app_tokens[tok] = emu.now() + APP_TOKEN_LIFETIME
                return jsonify({"access_token": tok, "expires_in": APP_TOKEN_LIFETIME, "token_type": "Application Access Token"})
            if grant == "authorization_code":
                entry = emu.codes.pop(request.form.get("code", ""), None)
                if entry is None or entry["expires"] < emu.now() or request.form.get("redirect_uri") != emu.ru_name:
                    return jsonify({"error": "invalid_grant", "error_description": "the provided authorization grant "
                                    "code is invalid or was issued to another client"}), 400
                refresh = "v^1.1#i^1#r^1#p^3#I^3#f^0#t^" + secrets.token_urlsafe(40)
                emu.refresh_tokens[refresh] = emu.now() + REFRESH_TOKEN_LIFETIME
                return jsonify({**emu._user_token(), "refresh_token": refresh,
                                "refresh_token_expires_in": REFRESH_TOKEN_LIFETIME})
            if grant == "refresh_token":
                refresh = request.form.get("refresh_token", "")
                if emu.refresh_tokens.get(refresh, 0) <= emu.now() or refresh in emu.revoked:
                    return jsonify({"error": "invalid_grant", "error_description": "the provided authorization "
                                    "refresh token is invalid or was issued to another client"}), 400
                return jsonify(emu._user_token())
            return jsonify({"error": "unsupported_grant_type", "error_description": "unsupported grant type"}), 400

        # -------------------------------------------------------------- Identity, Account
        @app.get("/commerce/identity/v1/user/")
        def user():
            return jsonify({"userId": emu.user_id, "username": emu.username, "accountType": "BUSINESS",
                            "registrationMarketplaceId": "EBAY_FR", "status": "CONFIRMED"})

        @app.get("/sell/account/v1/privilege")
        def privilege():
            return jsonify({"sellerRegistrationCompleted": True,
                            "sellingLimit": {"amount": {"value": "25000.00", "currency": "EUR"}, "quantity": 1000}})

        @app.get("/sell/account/v1/fulfillment_policy")
        def fulfillment_policies():
            mid = request.args.get("marketplace_id") or ""
            if not mid:
                return error(400, 20401, "Missing field marketplaceId.", domain="API_ACCOUNT")
            policies = [] if mid not in ("EBAY_FR", "EBAY_BE") else [
                {"fulfillmentPolicyId": "6200000001", "name": "Colissimo 48 h", "marketplaceId": mid}]
            return jsonify({"total": len(policies), "fulfillmentPolicies": policies})

        # -------------------------------------------------------------- Fulfillment
        @app.get("/sell/fulfillment/v1/order")
        def get_orders():
            args = request.args
            try:
                limit = int(args.get("limit", 50))
                offset = int(args.get("offset", 0))
            except ValueError:
                return error(400, 30900, "Invalid limit or offset.")
            if not 1 <= limit <= 200:
                return error(400, 31000, "The specified limit is invalid. Maximum value supported is 200.",
                             params=[{"name": "limit", "value": str(limit)}])
            if offset < 0:
                return error(400, 31100, "The specified offset is invalid.")
            if args.get("orderIds"):
                ids = args["orderIds"].split(",")[:50]
                rows = [state.orders[i] for i in ids if i in state.orders]
                return jsonify({"href": request.url, "total": len(rows), "limit": limit, "offset": 0, "orders": rows})
            with emu.lock:
                rows = list(state.orders.values())
            rows = [o for o in rows if parse_iso(o["creationDate"]) >= emu.now() - HISTORY_DAYS * 86400]
            flt = args.get("filter")
            if flt is None:
                rows = [o for o in rows if parse_iso(o["creationDate"]) >= emu.now() - DEFAULT_WINDOW_DAYS * 86400]
            else:
                date_field, statuses = None, None
                for part in _split_filter(flt):
                    m = FILTER.match(part)
                    if m:
                        lo, hi = m.group("from"), m.group("to")
                        if not TIMESTAMP.match(lo) or (hi and not TIMESTAMP.match(hi)):
                            return error(400, 30800, "Invalid date format.",
                                         long="The date in the filter is not a valid ISO 8601 UTC timestamp.")
                        if parse_iso(lo) > emu.now() + 60:
                            return error(400, 30850, "The date cannot be in the future.")
                        if date_field is None or m.group("field") == "creationdate":
                            date_field = (m.group("field"), parse_iso(lo), parse_iso(hi) if hi else None)
                    elif part.startswith("orderfulfillmentstatus:") and part.split(":", 1)[1] in STATUS_FILTERS:
                        statuses = STATUS_FILTERS[part.split(":", 1)[1]]
                    else:
                        return error(400, 30700, "Invalid filter value.",
                                     long=f"The filter '{part[:80]}' is invalid.", params=[{"name": "filter",
                                                                                           "value": part[:80]}])
                if date_field is not None:
                    key = "creationDate" if date_field[0] == "creationdate" else "lastModifiedDate"
                    rows = [o for o in rows if parse_iso(o[key]) >= date_field[1]
                            and (date_field[2] is None or parse_iso(o[key]) <= date_field[2])]
                if statuses is not None:
                    rows = [o for o in rows if o["orderFulfillmentStatus"] in statuses]
            rows.sort(key=lambda o: (o["lastModifiedDate"], o["orderId"]))
            page = rows[offset:offset + limit]
            body: dict[str, Any] = {"href": request.url, "total": len(rows), "limit": limit, "offset": offset,
                                    "orders": page}
            if offset + limit < len(rows):
                body["next"] = _page_url(request.base_url, args, offset + limit)
            if offset > 0:
                body["prev"] = _page_url(request.base_url, args, max(0, offset - limit))
            return jsonify(body)

        @app.get("/sell/fulfillment/v1/order/<order_id>")
        def get_order(order_id: str):
            order = state.orders.get(order_id)
            if order is None:
                return error(404, 32100, "Invalid Order Id", long=f"The order ID {order_id[:40]} is invalid.")
            return jsonify(order)

        @app.route("/sell/fulfillment/v1/order/<order_id>/shipping_fulfillment", methods=["GET", "POST"])
        def shipping_fulfillment(order_id: str):
            order = state.orders.get(order_id)
            if order is None:
                return error(404, 32100, "Invalid Order Id")
            if request.method == "GET":
                rows = state.fulfillments.get(order_id, [])
                return jsonify({"total": len(rows), "fulfillments": rows, "warnings": []})
            body = request.get_json(silent=True) or {}
            lines = body.get("lineItems") or []
            by_id = {ln["lineItemId"]: ln for ln in order["lineItems"]}
            shipped = {}
            for f in state.fulfillments.get(order_id, []):
                for ln in f["lineItems"]:
                    shipped[ln["lineItemId"]] = shipped.get(ln["lineItemId"], 0) + ln.get("quantity", 0)
            for ln in lines:
                item = by_id.get(ln.get("lineItemId"))
                if item is None:
                    return error(400, 32200, "Invalid line item id",
                                 params=[{"name": "lineItemId", "value": str(ln.get("lineItemId"))[:40]}])
                if shipped.get(item["lineItemId"], 0) + int(ln.get("quantity") or item["quantity"]) > item["quantity"]:
                    return error(400, 32210, "Duplicate line item id",
                                 long="The line item has already been fulfilled.")
            number, carrier = body.get("trackingNumber"), body.get("shippingCarrierCode")
            if bool(number) != bool(carrier):
                return error(400, 32300, "Invalid tracking number or carrier",
                             long="Shipping carrier code and tracking number must be provided together.")
            if number and (not re.fullmatch(r"[A-Za-z0-9]{4,40}", number) or carrier not in CARRIERS):
                return error(400, 32300, "Invalid tracking number or carrier",
                             long="The shipment tracking number or shipping carrier code is invalid.",
                             params=[{"name": "trackingNumber", "value": str(number)[:40]}])
            if body.get("shippedDate") and not TIMESTAMP.match(body["shippedDate"]):
                return error(400, 32500, "Invalid shipped date")
            fid = number or str(999 + len(state.fulfillments.get(order_id, [])))
            with emu.lock:
                state.fulfillments.setdefault(order_id, []).append({
                    "fulfillmentId": fid, "shipmentTrackingNumber": number or "", "shippingCarrierCode": carrier or "",
                    "shippedDate": body.get("shippedDate") or iso(emu.now()),
                    "lineItems": [{"lineItemId": ln["lineItemId"], "quantity": int(ln.get("quantity") or 1)}
                                  for ln in lines]})
                for ln in lines:
                    shipped[ln["lineItemId"]] = shipped.get(ln["lineItemId"], 0) + int(ln.get("quantity") or 1)
                for item in order["lineItems"]:
                    done = shipped.get(item["lineItemId"], 0)
                    item["lineItemFulfillmentStatus"] = ("FULFILLED" if done >= item["quantity"]
                                                         else "IN_PROGRESS" if done else "NOT_STARTED")
                states = {i["lineItemFulfillmentStatus"] for i in order["lineItems"]}
                order["orderFulfillmentStatus"] = ("FULFILLED" if states == {"FULFILLED"}
                                                   else "IN_PROGRESS" if states != {"NOT_STARTED"} else "NOT_STARTED")
                order["fulfillmentHrefs"].append(f"{request.base_url}/{fid}")
                order["lastModifiedDate"] = iso(emu.now())
            res = Response(status=201)
            res.headers["Location"] = f"{request.base_url}/{fid}"
            return res

        @app.post("/sell/fulfillment/v1/order/<order_id>/issue_refund")
        def issue_refund(order_id: str):
            bad = emu._signature_error()
            if bad is not None:
                return bad
            order = state.orders.get(order_id)
            if order is None:
                return error(404, 32100, "Invalid Order Id")
            body = request.get_json(silent=True) or {}
            if order["paymentSummary"]["refunds"] and order["orderPaymentStatus"] == "FULLY_REFUNDED":
                return error(409, 34917, "This order has already been refunded.", category="BUSINESS")
            amount = Decimal(((body.get("orderLevelRefundAmount") or {}).get("value")) or "0") or sum(
                (Decimal(i["refundAmount"]["value"]) for i in body.get("refundItems") or []), Decimal("0"))
            refund_id = str(5_000_000_000_000 + len(state.refunds) + 1)
            with emu.lock:
                entry = {"refundId": refund_id, "refundStatus": "PENDING",
                         "amount": {"value": f"{amount:.2f}", "currency": "EUR"}, "refundDate": iso(emu.now())}
                state.refunds.append({"orderId": order_id, **entry, "body": body})
                order["paymentSummary"]["refunds"].append(entry)
                total = Decimal(order["pricingSummary"]["total"]["value"])
                order["orderPaymentStatus"] = "FULLY_REFUNDED" if amount >= total else "PARTIALLY_REFUNDED"
                order["lastModifiedDate"] = iso(emu.now())
            return jsonify({"refundId": refund_id, "refundStatus": "PENDING"})

        # -------------------------------------------------------------- Inventory
        @app.get("/sell/inventory/v1/inventory_item")
        def inventory_items():
            limit = min(max(int(request.args.get("limit", 25)), 1), 200)
            offset = max(int(request.args.get("offset", 0)), 0)
            rows = sorted(state.items.values(), key=lambda i: i["sku"])
            body: dict[str, Any] = {"href": request.url, "total": len(rows), "size": len(rows[offset:offset + limit]),
                                    "limit": limit, "inventoryItems": rows[offset:offset + limit]}
            if offset + limit < len(rows):
                body["next"] = f"{request.base_url}?limit={limit}&offset={offset + limit}"
            return jsonify(body)

        @app.get("/sell/inventory/v1/offer")
        def offers():
            sku = request.args.get("sku")
            if not sku:
                return error(400, 25707, "Invalid value for sku", domain="API_INVENTORY")
            mid = request.args.get("marketplace_id")
            rows = [o for o in state.offers.values() if o["sku"] == sku and (not mid or o["marketplaceId"] == mid)]
            if sku not in state.items:
                return error(404, 25713, "This Offer is not available.", domain="API_INVENTORY")
            return jsonify({"href": request.url, "total": len(rows), "size": len(rows), "limit": 25, "offers": rows})

        @app.post("/sell/inventory/v1/bulk_update_price_quantity")
        def bulk_update():
            body = request.get_json(silent=True) or {}
            reqs = body.get("requests") or []
            if not reqs or len(reqs) > 25 or sum(len(r.get("offers") or []) for r in reqs) > 25:
                return error(400, 25709, "Invalid value for requests.", domain="API_INVENTORY",
                             long="The requests array must hold between 1 and 25 entries (25 offers at most).")
            responses, failed = [], False
            with emu.lock:
                for r in reqs:
                    sku = r.get("sku")
                    if sku not in state.items:
                        failed = True
                        responses.append({"sku": sku, "statusCode": 404, "errors": [{
                            "errorId": 25702, "domain": "API_INVENTORY", "category": "REQUEST",
                            "message": f"SKU {str(sku)[:30]} is not available in the system"}]})
                        continue
                    qty = (r.get("shipToLocationAvailability") or {}).get("quantity")
                    if qty is not None:
                        state.items[sku]["availability"]["shipToLocationAvailability"]["quantity"] = int(qty)
                    for o in r.get("offers") or []:
                        offer = state.offers.get(str(o.get("offerId")))
                        if offer is None or offer["sku"] != sku:
                            failed = True
                            responses.append({"sku": sku, "offerId": o.get("offerId"), "statusCode": 404, "errors": [{
                                "errorId": 25713, "domain": "API_INVENTORY", "category": "REQUEST",
                                "message": "This Offer is not available."}]})
                            continue
                        if o.get("availableQuantity") is not None:
                            offer["availableQuantity"] = int(o["availableQuantity"])
                        responses.append({"sku": sku, "offerId": offer["offerId"], "statusCode": 200})
                    if not r.get("offers"):
                        responses.append({"sku": sku, "statusCode": 200})
            return jsonify({"responses": responses}), 207 if failed else 200

        @app.post("/sell/inventory/v1/bulk_migrate_listing")
        def bulk_migrate():
            reqs = (request.get_json(silent=True) or {}).get("requests") or []
            if not reqs or len(reqs) > 5:
                return error(400, 25709, "Invalid value for requests.", domain="API_INVENTORY",
                             long="Up to five listings may be migrated per call.")
            out, failed = [], False
            for r in reqs:
                lid = str(r.get("listingId"))
                listing = state.foreign.pop(lid, None)
                if listing is None:
                    failed = True
                    out.append({"listingId": lid, "statusCode": 400, "errors": [{
                        "errorId": 25002, "domain": "API_INVENTORY", "category": "REQUEST",
                        "message": "The listing cannot be migrated."}]})
                    continue
                offer_id = emu.add_listing(listing["sku"], listing["title"], listing["price"], listing["quantity"])
                state.offers[offer_id]["listing"]["listingId"] = lid
                out.append({"listingId": lid, "marketplaceId": "EBAY_FR", "statusCode": 200,
                            "inventoryItems": [{"sku": listing["sku"], "offerId": offer_id}]})
            return jsonify({"responses": out}), 207 if failed else 200

        # -------------------------------------------------------------- Notification
        @app.get("/commerce/notification/v1/public_key/<kid>")
        def public_key(kid: str):
            if kid != emu.kid:
                return error(404, 195001, "The specified public key was not found.", domain="API_NOTIFICATION")
            return jsonify({"algorithm": "ECDSA", "digest": "SHA1", "key": emu.public_key_pem()})

        @app.route("/commerce/notification/v1/destination", methods=["GET", "POST"])
        def destinations():
            if request.method == "GET":
                rows = list(state.destinations.values())
                return jsonify({"href": request.url, "total": len(rows), "limit": 100, "destinations": rows})
            body = request.get_json(silent=True) or {}
            config = body.get("deliveryConfig") or {}
            token, endpoint = config.get("verificationToken") or "", config.get("endpoint") or ""
            if not re.fullmatch(r"[A-Za-z0-9_\-]{32,80}", token):
                return error(400, 195020, "Invalid verification token.", domain="API_NOTIFICATION")
            if not endpoint.startswith(("https://", "http://")):
                return error(400, 195021, "Invalid endpoint.", domain="API_NOTIFICATION")
            code = secrets.token_hex(16)
            answer = emu._challenge(endpoint, code)
            if not isinstance(answer, dict) or answer.get("challengeResponse") != signing.challenge_response(
                    code, token, endpoint):
                return error(400, 195025, "Challenge verification failed for the endpoint.", domain="API_NOTIFICATION")
            dest_id = secrets.token_hex(12)
            state.destinations[dest_id] = {"destinationId": dest_id, "name": body.get("name") or "",
                                           "status": body.get("status") or "ENABLED", "deliveryConfig": config}
            res = Response(status=201)
            res.headers["Location"] = f"{request.base_url}/{dest_id}"
            return res

        @app.route("/commerce/notification/v1/subscription", methods=["GET", "POST"])
        def subscriptions():
            if request.method == "GET":
                rows = list(state.subscriptions.values())
                return jsonify({"href": request.url, "total": len(rows), "limit": 100, "subscriptions": rows})
            body = request.get_json(silent=True) or {}
            if body.get("destinationId") not in state.destinations:
                return error(400, 195003, "Please provide a valid destination.", domain="API_NOTIFICATION")
            if body.get("topicId") not in ("ORDER_CONFIRMATION", "MARKETPLACE_ACCOUNT_DELETION", "ITEM_MARKED_SHIPPED",
                                           "AUTHORIZATION_REVOCATION"):
                return error(400, 195002, "Invalid or missing topic id.", domain="API_NOTIFICATION")
            if any(s["topicId"] == body["topicId"] and s["destinationId"] == body["destinationId"]
                   for s in state.subscriptions.values()):
                return error(409, 195009, "The subscription already exists.", domain="API_NOTIFICATION")
            sub_id = secrets.token_hex(12)
            state.subscriptions[sub_id] = {"subscriptionId": sub_id, "topicId": body["topicId"],
                                           "destinationId": body["destinationId"], "status": body.get("status") or "ENABLED",
                                           "payload": body.get("payload") or {}, "creationDate": iso(emu.now())}
            res = Response(status=201)
            res.headers["Location"] = f"{request.base_url}/{sub_id}"
            return res

        # -------------------------------------------------------------- Key Management
        @app.post("/developer/key_management/v1/signing_key")
        def create_signing_key():
            body = request.get_json(silent=True) or {}
            if body.get("signingKeyCipher") not in ("ED25519", "RSA"):
                return error(400, 240001, "Invalid signing key cipher.", domain="API_KEY_MANAGEMENT")
            private, public = signing.new_ed25519()
            jwe = "eyJ6aXAiOiJERUYiLCJlbmMiOiJBMjU2R0NNIiwiYWxnIjoiQTI1NktXIn0." + secrets.token_urlsafe(48)
            key_id = secrets.token_hex(16)
            state.signing_keys[jwe] = public
            now = int(emu.now())
            return jsonify({"signingKeyId": key_id, "signingKeyCipher": "ED25519", "jwe": jwe,
                            "privateKey": private, "publicKey": public, "creationTime": now,
                            "expirationTime": now + 3 * 365 * 86400})

        # -------------------------------------------------------------- Post-Order
        @app.post("/post-order/v2/cancellation/check_eligibility")
        def eligibility():
            legacy = (request.get_json(silent=True) or {}).get("legacyOrderId")
            order = next((o for o in state.orders.values() if o["legacyOrderId"] == legacy), None)
            if order is None:
                return error(400, 1305, "Invalid order id", domain="API_POSTORDER")
            reasons = []
            if order["orderFulfillmentStatus"] != "NOT_STARTED":
                reasons.append("ITEM_SHIPPED")
            if order["cancelStatus"]["cancelState"] != "NONE_REQUESTED":
                reasons.append("CANCEL_ALREADY_REQUESTED")
            return jsonify({"legacyOrderId": legacy, "eligible": not reasons, "failureReason": reasons,
                            "eligibleCancelReason": ["OUT_OF_STOCK_OR_CANNOT_FULFILL", "BUYER_ASKED_CANCEL",
                                                     "ADDRESS_ISSUES"]})

        @app.post("/post-order/v2/cancellation")
        def cancellation():
            bad = emu._signature_error()
            if bad is not None:
                return bad
            body = request.get_json(silent=True) or {}
            legacy = body.get("legacyOrderId")
            order = next((o for o in state.orders.values() if o["legacyOrderId"] == legacy), None)
            if order is None:
                return error(400, 1305, "Invalid order id", domain="API_POSTORDER")
            if order["orderFulfillmentStatus"] != "NOT_STARTED" or order["cancelStatus"]["cancelState"] != "NONE_REQUESTED":
                return error(400, 1320, "The order is not eligible for cancellation.", domain="API_POSTORDER")
            cancel_id = str(5_100_000_000 + len(state.cancellations) + 1)
            with emu.lock:
                state.cancellations[cancel_id] = {"cancelId": cancel_id, "legacyOrderId": legacy,
                                                  "cancelReason": body.get("cancelReason"), "cancelState": "CLOSED",
                                                  "requestorType": "SELLER", "cancelCloseDate": {"value": iso(emu.now())}}
                order["cancelStatus"] = {"cancelState": "CANCELED", "cancelledDate": iso(emu.now()),
                                         "cancelRequests": [{"cancelInitiator": "SELLER", "cancelReason":
                                                             body.get("cancelReason"), "cancelRequestId": cancel_id}]}
                order["lastModifiedDate"] = iso(emu.now())
            return jsonify({"cancelId": cancel_id}), 201

        @app.get("/post-order/v2/cancellation/search")
        def cancellation_search():
            legacy = request.args.get("legacy_order_id")
            rows = [c for c in state.cancellations.values() if not legacy or c["legacyOrderId"] == legacy]
            return jsonify({"cancellations": rows, "total": len(rows)})

        @app.get("/post-order/v2/return/search")
        def return_search():
            args = request.args
            lo, hi = args.get("creation_date_range_from"), args.get("creation_date_range_to")
            for name, value in (("creation_date_range_from", lo), ("creation_date_range_to", hi)):
                if value is not None and not TIMESTAMP.match(value):
                    return error(400, 1700, "Invalid date format.", domain="API_POSTORDER",
                                 long=f"The {name} value is not an ISO 8601 UTC timestamp.",
                                 params=[{"name": name, "value": value[:40]}])
            try:
                limit = int(args.get("limit", 25))
                page = int(args.get("offset", 1))
            except ValueError:
                return error(400, 1701, "Invalid limit or offset.", domain="API_POSTORDER")
            if not 1 <= limit <= 200 or page < 1:
                return error(400, 1701, "Invalid limit or offset.", domain="API_POSTORDER",
                             long="limit must be between 1 and 200 and offset (the page number) at least 1.")
            with emu.lock:
                rows = [dict(r) for r in state.returns.values()
                        if (lo is None or parse_iso(r["creationInfo"]["creationDate"]["value"]) >= parse_iso(lo))
                        and (hi is None or parse_iso(r["creationInfo"]["creationDate"]["value"]) <= parse_iso(hi))]
            rows.sort(key=lambda r: (r["creationInfo"]["creationDate"]["value"], r["returnId"]))
            pages = (len(rows) + limit - 1) // limit
            return jsonify({"members": rows[(page - 1) * limit:page * limit], "total": len(rows),
                            "paginationOutput": {"limit": limit, "offset": page, "totalEntries": len(rows),
                                                 "totalPages": pages}})

        @app.get("/post-order/v2/return/<return_id>")
        def get_return(return_id: str):
            summary = state.returns.get(return_id)
            if summary is None:
                return error(404, 1702, "Invalid return id.", domain="API_POSTORDER",
                             long=f"The return ID {return_id[:40]} is invalid.")
            group = (request.args.get("fieldgroups") or "FULL").upper()
            if group == "SUMMARY":
                return jsonify({"summary": summary})
            detail = {"itemDetail": {"itemId": summary["creationInfo"]["item"]["itemId"],
                                     "transactionId": summary["creationInfo"]["item"]["transactionId"],
                                     "returnQuantity": summary["creationInfo"]["item"]["returnQuantity"]},
                      "returnShipmentInfo": {}, "refundInfo": {}}
            return jsonify({"detail": detail})

        # -------------------------------------------------------------- Finances
        @app.get("/sell/finances/v1/transaction")
        def transactions():
            flt = request.args.get("filter") or ""
            m = re.fullmatch(r"transactionDate:\[([^\]]*?)\.\.([^\]]*)\]", flt)
            if flt and (m is None or not TIMESTAMP.match(m.group(1)) or (m.group(2) and not TIMESTAMP.match(m.group(2)))):
                return error(400, 135002, "Invalid filter.", domain="API_FINANCES")
            limit = min(max(int(request.args.get("limit", 20)), 1), 1000)
            offset = max(int(request.args.get("offset", 0)), 0)
            rows = list(state.transactions)
            if m:
                lo, hi = parse_iso(m.group(1)), parse_iso(m.group(2)) if m.group(2) else None
                rows = [t for t in rows if parse_iso(t["transactionDate"]) >= lo
                        and (hi is None or parse_iso(t["transactionDate"]) <= hi)]
            return jsonify({"href": request.url, "total": len(rows), "limit": limit, "offset": offset,
                            "transactions": rows[offset:offset + limit]})

        return app

    def _user_token(self) -> dict[str, Any]:
        tok = "v^1.1#i^1#I^3#f^0#r^0#p^3#t^H4sI" + secrets.token_urlsafe(40)
        self.user_tokens[tok] = self.now() + USER_TOKEN_LIFETIME
        return {"access_token": tok, "expires_in": USER_TOKEN_LIFETIME, "token_type": "User Access Token"}

    def revoke(self) -> None:
        """The seller withdraws the app's access: every token stops working."""
        self.revoked.update(self.user_tokens)
        self.revoked.update(self.refresh_tokens)

    def expire_tokens(self) -> None:
        for tok in self.user_tokens:
            self.user_tokens[tok] = 0


def _split_filter(flt: str) -> list[str]:
    """Comma-separated criteria; commas inside brackets or braces belong to a value."""
    parts, depth, cur = [], 0, ""
    for ch in flt:
        if ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    if cur:
        parts.append(cur)
    return parts


def _page_url(base: str, args: Any, offset: int) -> str:
    params = {k: v for k, v in args.items() if k != "offset"}
    params["offset"] = str(offset)
    return f"{base}?{urlencode(params)}"


# ----------------------------------------------------------------------------- the demo
_DEMO: dict[str, Emulator] = {}


def make_app() -> Flask:
    """The demo's emulator: a live eBay shop placing orders on its clock."""
    emu = Emulator(live=True, rng=random.Random(int(time.time())))
    _DEMO["emulator"] = emu
    return emu.app


def demo_settings(base_url: str) -> dict[str, Any]:
    return {"username": DEMO_USERNAME, "marketplace": "EBAY_FR", "marketplaces": [],
            "client_id": DEMO_CLIENT_ID, "client_secret": DEMO_CLIENT_SECRET, "ru_name": DEMO_RU_NAME,
            "verification_token": DEMO_VERIFICATION_TOKEN, "api_base_url": base_url}


def demo(organization: Any, shops: list[Any], base_url: str) -> None:
    """The demo's eBay shop is already authorised (as after "Installer sur eBay"): it holds
    the emulator's refresh token, and its listings import is queued."""
    from core.jobs import enqueue

    # the demo's OMS serves the emulator under /sandbox/ebay: its notification endpoint is beside
    root = base_url.split("/sandbox/", 1)[0]
    for shop in shops:
        if getattr(shop, "addon", None) == "ebay":
            shop.credentials = {"refresh_token": DEMO_REFRESH_TOKEN}
            endpoint = f"{root}/apps/ebay/notifications/{shop.id}" if "/sandbox/" in base_url else None
            enqueue("addons.ebay.jobs.after_install", shop.id, endpoint, job_id=f"ebay-install-{shop.id}",
                    unique=True, shop_id=shop.id, delay=5, retries=5, intervals=(10, 30, 60, 120, 300))
