"""The add-on's WooCommerce schema (``specs/woocommerce-rest-v3.schema.json``) applied to the
traffic: every JSON request the client sends and every JSON answer the emulator gives, by route,
and every webhook delivery's headers."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from flask import Flask, request
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

SPEC = Path(__file__).resolve().parent.parent / "specs" / "woocommerce-rest-v3.schema.json"
DOC = json.loads(SPEC.read_text())
REGISTRY = Registry().with_resource(DOC["$id"], Resource.from_contents(DOC))
API = "/wp-json/wc/v3"
TRACK = "/wp-json/wc-shipment-tracking/v3"

#: (method, path pattern) → (request definition or None, answer definition)
ROUTES: list[tuple[str, str, str | None, str]] = [
    ("GET", rf"^{API}/?$", None, "route_index"),
    ("GET", rf"^{API}/system_status$", None, "system_status"),
    ("GET", rf"^{API}/orders$", None, "orders"),
    ("GET", rf"^{API}/orders/\d+$", None, "order"),
    ("PUT", rf"^{API}/orders/\d+$", "order_update", "order"),
    ("GET", rf"^{API}/orders/\d+/notes$", None, "order_notes"),
    ("POST", rf"^{API}/orders/\d+/notes$", "order_note_create", "order_note"),
    ("GET", rf"^{API}/products$", None, "products"),
    ("GET", rf"^{API}/products/\d+/variations$", None, "variations"),
    ("POST", rf"^{API}/products/batch$", "stock_batch_request", "batch_response"),
    ("POST", rf"^{API}/products/\d+/variations/batch$", "stock_batch_request", "batch_response"),
    ("GET", rf"^{API}/webhooks$", None, "webhooks"),
    ("POST", rf"^{API}/webhooks$", "webhook_create", "webhook"),
    ("PUT", rf"^{API}/webhooks/\d+$", "webhook_update", "webhook"),
    ("GET", rf"^{TRACK}/orders/\d+/shipment-trackings$", None, "trackings"),
    ("POST", rf"^{TRACK}/orders/\d+/shipment-trackings$", "tracking_create", "tracking"),
]


def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": f"{DOC['$id']}#/$defs/{name}"}, registry=REGISTRY)


def problems_of(name: str, value: Any) -> list[str]:
    return [f"{name}: {e.json_path}: {e.message}" for e in validator(name).iter_errors(value)]


def attach(app: Flask) -> list[str]:
    """Check the emulator's traffic; the problems found are appended to the returned list.
    A route the table does not know is a problem too (nothing passes unchecked)."""
    problems: list[str] = []

    @app.after_request
    def _check(response):
        path = request.path
        if not path.startswith("/wp-json/"):
            return response
        for method, pattern, req_def, res_def in ROUTES:
            if method == request.method and re.match(pattern, path):
                if req_def is not None:
                    problems.extend(problems_of(req_def, request.get_json(silent=True)))
                body = response.get_json(silent=True)
                problems.extend(problems_of("error" if response.status_code >= 400 else res_def, body))
                break
        else:
            problems.append(f"unchecked route {request.method} {path}")
        return response

    return problems
