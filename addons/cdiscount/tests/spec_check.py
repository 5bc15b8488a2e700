"""Every request the client sends to the emulator and every answer it gets, checked against
the add-on's schema of Octopia's Seller API v2 (``specs/octopia-seller-v2.schema.json``)."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from flask import Flask, Response, request
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

SPEC = Path(__file__).resolve().parent.parent / "specs" / "octopia-seller-v2.schema.json"
SCHEMA = json.loads(SPEC.read_text())
REGISTRY = Registry().with_resource(SCHEMA["$id"], Resource.from_contents(SCHEMA))

#: (method, path regex) → (request definition, answer definition on success)
#: (method, path regex) → the definition of the query string the client sends
QUERIES = [("GET", r"/seller/v2/offers$", "catalogueQuery")]
ROUTES = [
    ("POST", r"/auth/realms/maas/protocol/openid-connect/token$", None, "tokenResponse"),
    ("GET", r"/seller/v2/sellers$", None, "seller"),
    ("GET", r"/seller/v2/carriers$", None, "carriers"),
    ("GET", r"/seller/v2/orders$", None, "ordersPage"),
    ("GET", r"/seller/v2/orders/[^/]+$", None, "order"),
    ("POST", r"/seller/v2/orders/[^/]+/approval-status$", "approvalRequest", None),
    ("POST", r"/seller/v2/orders/[^/]+/shipments$", "shipmentsRequest", None),
    ("PUT", r"/seller/v2/offers$", "offersRequest", "offersResponse"),
    ("GET", r"/seller/v2/offers$", None, "catalogueOffersPage"),
    ("POST", r"/seller/v2/order-cancellation-requests$", "cancellationRequest", None),
    ("GET", r"/seller/v2/cancellation-reasons$", None, None),
    ("GET", r"/seller/v2/operations$", None, "operationsPage"),
]


def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": f"{SCHEMA['$id']}#/$defs/{name}"}, registry=REGISTRY)


def check(name: str, body: Any) -> list[str]:
    return [f"{name}: {e.json_path}: {e.message}" for e in validator(name).iter_errors(body)]


def attach(app: Flask) -> list[str]:
    """Check the emulator's traffic as it flows; the problems found are appended to the list
    returned (a test asserts it stays empty)."""
    problems: list[str] = []

    @app.after_request
    def _check(res: Response) -> Response:
        path = request.path
        if path.startswith("/_emulator"):
            return res
        route = next((r for r in ROUTES if r[0] == request.method and re.search(r[1], path)), None)
        if route is None:
            problems.append(f"{request.method} {path}: not in the schema")
            return res
        _m, _p, req_def, res_def = route
        for method, pattern, query_def in QUERIES:
            if method == request.method and re.search(pattern, path):
                problems.extend(f"{request.method} {path} query: {p}" for p in check(query_def, request.args.to_dict()))
        if req_def and res.status_code < 400:
            problems.extend(f"{request.method} {path} request: {p}" for p in check(req_def, request.get_json(silent=True)))
        body = json.loads(res.get_data()) if res.get_data() else None
        if res.status_code >= 400:
            name = "tokenError" if "openid-connect" in path and res.status_code != 429 else "problem"
            if "openid-connect" in path and res.status_code == 429:
                name = "tokenError"
            problems.extend(f"{request.method} {path} {res.status_code}: {p}" for p in check(name, body))
        elif res_def:
            problems.extend(f"{request.method} {path} answer: {p}" for p in check(res_def, body))
        return res

    return problems
