"""Emulator of a supplier's system receiving purchase orders by webhook.

It stands for the supplier's side, not for a service the OMS subscribes to:

- ``POST /purchase-orders``: a JSON body ``{"merchant", "sent_at", "purchase_orders": [...]}``
  with the headers ``X-OMS-Timestamp`` (Unix seconds) and ``X-OMS-Signature`` (lowercase hex
  HMAC-SHA256 of ``"<timestamp>." + raw body`` with the shared secret). A missing or wrong
  signature gets ``401 {"error": "invalid_signature"}``, a timestamp more than five minutes
  away ``401 {"error": "stale_timestamp"}`` (a replay), a body that is not a JSON object 400;
  an accepted body gets ``201 {"id", "status": "received", "received_at"}``.
- ``GET /purchase-orders``: what the supplier received so far, oldest first.

``make_app(fail_times=n)`` makes the system answer ``503`` to the first ``n`` deliveries, as
a supplier's system being down does.

A supplier whose ``order_channel`` is ``webhook``, whose ``webhook_url`` is
``{base}/purchase-orders`` and whose secret is the emulator's sends its purchase orders here
(:func:`supplier_settings`).
"""
from __future__ import annotations

import threading
import uuid
from datetime import datetime, timezone
from typing import Any

from flask import Flask, jsonify, request

from core.connectors.emulator import EmulatorKit

from .client import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_webhook

DEMO_WEBHOOK_SECRET = "oms-demo-supplier-shared-secret"


def error_body(status: int) -> dict[str, Any]:
    """The supplier system's error body, for the faults told on demand."""
    return {"error": "unavailable" if status >= 500 else "too_many_requests" if status == 429 else "bad_request",
            "message": "Service temporarily unavailable." if status >= 500 else "Request refused."}


def make_app(secret: str = DEMO_WEBHOOK_SECRET, fail_times: int = 0) -> Flask:
    app = Flask(__name__)
    received: list[dict[str, Any]] = []
    state = {"failures_left": fail_times, "deliveries": 0}
    lock = threading.Lock()
    app.config["RECEIVED"] = received
    app.config["STATE"] = state
    EmulatorKit("dropship", error_body=error_body).attach(app)

    @app.post("/purchase-orders")
    def receive():
        with lock:
            state["deliveries"] += 1
            if state["failures_left"] > 0:
                state["failures_left"] -= 1
                return jsonify({"error": "unavailable", "message": "Service temporarily unavailable."}), 503
        body = request.get_data()
        refused = verify_webhook(body, secret, request.headers.get(TIMESTAMP_HEADER),
                                 request.headers.get(SIGNATURE_HEADER))
        if refused:
            return jsonify({"error": refused,
                            "message": f"Missing, invalid or stale {SIGNATURE_HEADER}/{TIMESTAMP_HEADER}."}), 401
        payload = request.get_json(silent=True)
        if not isinstance(payload, dict):
            return jsonify({"error": "invalid_body", "message": "A JSON object is expected."}), 400
        entry = {"id": uuid.uuid4().hex, "status": "received",
                 "received_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "body": payload}
        with lock:
            received.append(entry)
        return jsonify({k: entry[k] for k in ("id", "status", "received_at")}), 201

    @app.get("/purchase-orders")
    def listing():
        with lock:
            return jsonify({"deliveries": list(received)})

    return app


def demo_settings(base_url: str) -> dict[str, Any]:
    """The shop's settings for the demo: the emulator receives webhooks, so the shop needs no
    SMTP server to try the add-on; suppliers are pointed at it with :func:`supplier_settings`."""
    return {"dropship_when_short": False}


def supplier_settings(base_url: str) -> dict[str, Any]:
    """The fields of a supplier that sends its purchase orders to the emulator at ``base_url``."""
    return {"order_channel": "webhook", "webhook_url": f"{base_url.rstrip('/')}/purchase-orders",
            "webhook_secret": DEMO_WEBHOOK_SECRET}
