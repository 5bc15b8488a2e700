"""Emulator of the Shopify Admin GraphQL endpoint the add-on calls.

Same wire format as Shopify: ``POST /admin/api/{version}/graphql.json`` authenticated by the
``X-Shopify-Access-Token`` header, a 401 with Shopify's error body on a bad token, and the
``extensions.cost`` block (query cost and leaky-bucket throttle status) on every answer. It
answers the shop query the connection test sends and refuses other operations the way
Shopify refuses a field it does not know.
"""
from __future__ import annotations

import re
import threading
import time
from typing import Any

from flask import Flask, jsonify, request

from .client import API_VERSION, DEFAULT_API_VERSION, SHOP_QUERY

DEMO_DOMAIN = "oms-demo.myshopify.com"
DEMO_TOKEN = "shpat_0d3m0t0k3n0f0m50000000000000"
DEMO_SHOP = {
    "name": "Boutique démo OMS",
    "myshopifyDomain": DEMO_DOMAIN,
    "currencyCode": "EUR",
    "plan": {"publicDisplayName": "Basic"},
}
INVALID_TOKEN = {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}

# Standard plan: a 2000-point bucket refilled at 100 points per second
BUCKET_SIZE = 2000.0
RESTORE_RATE = 100.0
SHOP_QUERY_COST = 2  # the shop object and its plan object


def _compact(query: str) -> str:
    """The query without its operation keyword/name and with canonical spacing."""
    text = re.sub(r"#[^\n]*", " ", query or "")
    text = re.sub(r"^\s*query\b\s*[A-Za-z_][A-Za-z0-9_]*\s*", "", text)
    text = re.sub(r"^\s*query\b", "", text)
    text = re.sub(r"\s*([{}])\s*", r" \1 ", text)
    return re.sub(r"\s+", " ", text).strip()


class _Bucket:
    def __init__(self) -> None:
        self.available = BUCKET_SIZE
        self.at = time.monotonic()
        self.lock = threading.Lock()

    def take(self, cost: int) -> float | None:
        """Charge ``cost`` points; None when the bucket cannot pay (throttled)."""
        with self.lock:
            now = time.monotonic()
            self.available = min(BUCKET_SIZE, self.available + (now - self.at) * RESTORE_RATE)
            self.at = now
            if self.available < cost:
                return None
            self.available -= cost
            return self.available


def make_app(access_token: str = DEMO_TOKEN, shop: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__)
    app.config["CALLS"] = []  # (method, path) of every request received, for tests
    shop_data = shop or DEMO_SHOP
    bucket = _Bucket()

    @app.before_request
    def _record() -> None:
        app.config["CALLS"].append((request.method, request.path))

    def cost(requested: int, actual: int, available: float) -> dict[str, Any]:
        return {"cost": {"requestedQueryCost": requested, "actualQueryCost": actual,
                         "throttleStatus": {"maximumAvailable": BUCKET_SIZE,
                                            "currentlyAvailable": int(available),
                                            "restoreRate": RESTORE_RATE}}}

    @app.post("/admin/api/<version>/graphql.json")
    def graphql(version: str):
        if request.headers.get("X-Shopify-Access-Token") != access_token:
            return jsonify(INVALID_TOKEN), 401
        if not API_VERSION.match(version):
            return jsonify({"errors": "Not Found"}), 404
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            return jsonify({"errors": {"query": "Required parameter missing or invalid"}}), 400
        if _compact(body["query"]) != _compact(SHOP_QUERY):
            return jsonify({
                "errors": [{"message": "This emulator only answers the shop query of the connection test",
                            "locations": [{"line": 1, "column": 1}],
                            "extensions": {"code": "undefinedField", "typeName": "QueryRoot"}}],
            })
        left = bucket.take(SHOP_QUERY_COST)
        if left is None:
            return jsonify({"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
                            "extensions": cost(SHOP_QUERY_COST, 0, bucket.available)})
        return jsonify({"data": {"shop": shop_data},
                        "extensions": cost(SHOP_QUERY_COST, SHOP_QUERY_COST, left)})

    return app


def demo_settings(base_url: str) -> dict[str, Any]:
    """Settings pointing the add-on at an emulator served at ``base_url``."""
    return {"shop_domain": DEMO_DOMAIN, "api_version": DEFAULT_API_VERSION, "access_token": DEMO_TOKEN,
            "api_base_url": base_url}
