"""The add-on's PrestaShop schema applied to the traffic: the XML bodies written (read back as
dicts), the query strings of lists, and the JSON answers, by route."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from flask import Flask, request
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from addons.prestashop import xmlio

SPEC = Path(__file__).resolve().parent.parent / "specs" / "prestashop-webservice.schema.json"
DOC = json.loads(SPEC.read_text())
REGISTRY = Registry().with_resource(DOC["$id"], Resource.from_contents(DOC))

#: (method, path, body definition, JSON answer definition, answer key)
ROUTES: list[tuple[str, str, str | None, str | None, str | None]] = [
    ("GET", r"^/api/?$", None, None, None),
    ("GET", r"^/api/orders$", None, "orders", None),
    ("GET", r"^/api/orders/\d+$", None, "order", "order"),
    ("GET", r"^/api/order_states$", None, "order_states", None),
    ("GET", r"^/api/order_carriers$", None, "order_carriers", None),
    ("PUT", r"^/api/order_carriers/\d+$", "order_carrier_write", "order_carrier", "order_carrier"),
    ("POST", r"^/api/order_histories$", "order_history_write", None, None),
    ("GET", r"^/api/stock_availables/\d+$", None, "stock_available", "stock_available"),
    ("PUT", r"^/api/stock_availables/\d+$", "stock_available_write", "stock_available", "stock_available"),
    ("GET", r"^/api/order_slip$", None, "order_slips", None),
    ("GET", r"^/api/order_slip/\d+$", None, "order_slip", "order_slip"),
    ("GET", r"^/api/(stock_availables|customers|addresses|countries|currencies|products|combinations)$",
     None, None, None),
]


def problems_of(name: str, value: Any) -> list[str]:
    validator = Draft202012Validator({"$ref": f"{DOC['$id']}#/$defs/{name}"}, registry=REGISTRY)
    return [f"{name}: {e.json_path}: {e.message}" for e in validator.iter_errors(value)]


def attach(app: Flask) -> list[str]:
    problems: list[str] = []

    @app.after_request
    def _check(response):
        if not request.path.startswith("/api"):
            return response
        for method, pattern, body_def, answer_def, key in ROUTES:
            if method == request.method and re.match(pattern, request.path):
                if request.method == "GET" and request.path.rstrip("/") != "/api":
                    problems.extend(problems_of("list_query", request.args.to_dict()))
                if body_def is not None:
                    try:
                        _name, fields = xmlio.loads(request.get_data())
                    except Exception as exc:  # noqa: BLE001
                        problems.append(f"{body_def}: unreadable XML ({exc})")
                    else:
                        problems.extend(problems_of(body_def, fields))
                body = response.get_json(silent=True)
                if response.status_code >= 400:
                    if body is not None:
                        problems.extend(problems_of("errors", body))
                elif answer_def is not None and body is not None:
                    problems.extend(problems_of(answer_def, body.get(key) if key else body))
                break
        else:
            problems.append(f"unchecked route {request.method} {request.path}")
        return response

    return problems
