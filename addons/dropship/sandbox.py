"""Emulator of a supplier's system receiving purchase orders by webhook.

It stands for the supplier's side, not for a service the OMS subscribes to:

- ``POST /purchase-orders``: a JSON purchase order, signed with the ``X-OMS-Signature``
  header (lowercase hex HMAC-SHA256 of the raw body with the shared secret). A missing or
  wrong signature gets ``401 {"error": "invalid_signature", ...}``; a body that is not a JSON
  object gets 400; an accepted order gets ``201 {"id", "status": "received", "received_at"}``.
- ``GET /purchase-orders``: what the supplier received so far, newest last.

A supplier whose ``order_channel`` is ``webhook`` and whose ``webhook_url`` is
``{base}/purchase-orders`` sends its purchase orders here.
"""
from __future__ import annotations

import threading
import uuid
from datetime import datetime, timezone
from typing import Any

from flask import Flask, jsonify, request

from .client import SIGNATURE_HEADER, verify

DEMO_WEBHOOK_SECRET = "oms-demo-supplier-shared-secret"


def make_app(secret: str = DEMO_WEBHOOK_SECRET) -> Flask:
    app = Flask(__name__)
    received: list[dict[str, Any]] = []
    lock = threading.Lock()
    app.config["RECEIVED"] = received

    @app.post("/purchase-orders")
    def receive():
        body = request.get_data()
        if not verify(body, secret, request.headers.get(SIGNATURE_HEADER)):
            return jsonify({"error": "invalid_signature",
                            "message": f"Missing or invalid {SIGNATURE_HEADER} header."}), 401
        order = request.get_json(silent=True)
        if not isinstance(order, dict):
            return jsonify({"error": "invalid_body", "message": "A JSON object is expected."}), 400
        entry = {"id": uuid.uuid4().hex, "status": "received",
                 "received_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                 "purchase_order": order}
        with lock:
            received.append(entry)
        return jsonify({k: entry[k] for k in ("id", "status", "received_at")}), 201

    @app.get("/purchase-orders")
    def listing():
        with lock:
            return jsonify({"purchase_orders": list(received)})

    return app


def demo_settings(base_url: str) -> dict[str, Any]:
    """Settings sharing the emulator's secret; give a supplier the webhook URL
    ``{base_url}/purchase-orders`` to send it purchase orders."""
    return {"webhook_secret": DEMO_WEBHOOK_SECRET}
