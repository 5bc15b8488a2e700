"""Every request the client sends and every answer the emulator gives, checked against the
add-on's schema of the Mirakl seller API (``../specs/mirakl-seller.schema.json``)."""
from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

from flask import Flask, request
from jsonschema import Draft202012Validator, FormatChecker

SPEC = Path(__file__).resolve().parent.parent / "specs" / "mirakl-seller.schema.json"
SCHEMA = json.loads(SPEC.read_text(encoding="utf-8"))

#: (method, path after the instance) → (request schema, query schema, answer schema by status)
ROUTES = [
    ("GET", r"/api/account", None, None, "A01.response"),
    ("GET", r"/api/orders", None, "OR11.query", "OR11.response"),
    ("PUT", r"/api/orders/[^/]+/accept", "OR21.request", None, None),
    ("PUT", r"/api/orders/[^/]+/tracking", "OR23.request", None, None),
    ("GET", r"/api/shipping/carriers", None, None, "SH21.response"),
    ("POST", r"/api/offers/stock/imports", None, None, "STO01.response"),
    ("GET", r"/api/offers/stock/imports/[^/]+/status", None, None, "STO02.response"),
    ("POST", r"/api/shipments", "ST01.request", None, "ST01.response"),
    ("GET", r"/api/reasons/[^/]+", None, None, "RE02.response"),
    ("PUT", r"/api/orders/cancel", "OR30.request", None, "OR30.response"),
    ("PUT", r"/api/orders/refund", "OR28.request", None, "OR28.response"),
    ("GET", r"/api/returns", None, None, "RT11.response"),
    ("PUT", r"/api/returns/accept", "RT21.request", None, "RT21.response"),
]


def validator(name: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": f"#/$defs/{name}", "$defs": SCHEMA["$defs"]}, format_checker=FormatChecker())


def attach(app: Flask) -> list[str]:
    """Check the emulator's traffic; returns the list the problems are added to."""
    problems: list[str] = []

    @app.after_request
    def check(response):
        path = re.sub(r"^/[^/]+", "", request.path, count=1)  # the instance's code
        for method, pattern, req, query, answer in ROUTES:
            if request.method != method or not re.fullmatch(pattern, path):
                continue
            where = f"{request.method} {request.path}"
            if req:
                for err in validator(req).iter_errors(request.get_json(silent=True)):
                    problems.append(f"{where} request: {err.message}")
            if query and response.status_code < 400:  # a refused query is the emulator doing its job
                for err in validator(query).iter_errors(dict(request.args)):
                    problems.append(f"{where} query: {err.message}")
            if method == "POST" and pattern.endswith("stock/imports") and "file" in request.files:
                upload = request.files["file"]
                upload.stream.seek(0)
                head = next(csv.reader(io.StringIO(upload.read().decode("utf-8")), delimiter=";"))
                for err in validator("STO01.csv_header").iter_errors(head):
                    problems.append(f"{where} file header: {err.message}")
            body = response.get_json(silent=True) if response.is_json else None
            if answer and response.status_code < 300:
                for err in validator(answer).iter_errors(body):
                    problems.append(f"{where} answer: {err.message}")
            elif response.status_code >= 400 and body is not None:
                for err in validator("error.response").iter_errors(body):
                    problems.append(f"{where} error: {err.message}")
        return response

    return problems
