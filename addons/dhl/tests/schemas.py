"""The DHL exchanges recorded on the emulator, validated against the add-on's schemas
(``addons/dhl/specs``, written from DHL's MyDHL 3.1.1 and Unified Tracking 1.5.8 references)."""
from __future__ import annotations

import base64
import io
import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

SPECS = Path(__file__).resolve().parents[1] / "specs"
#: (method, path prefix) → (request schema, {status: response schema})
ROUTES = {
    ("POST", "/mydhlapi/shipments"): ("createShipmentRequest", {201: "createShipmentResponse"}),
    ("POST", "/mydhlapi/rates"): ("ratesRequest", {200: "ratesResponse"}),
    ("GET", "/mydhlapi/rates"): (None, {200: "ratesResponse"}),
    ("POST", "/mydhlapi/pickups"): ("pickupRequest", {201: "pickupResponse"}),
    ("GET", "/mydhlapi/tracking"): (None, {200: "trackingResponse"}),
    ("GET", "/mydhlapi/shipments/"): (None, {200: "imageResponse"}),
    ("DELETE", "/mydhlapi/pickups/"): (None, {}),
}


@cache
def _doc(name: str) -> dict[str, Any]:
    return json.loads((SPECS / name).read_text())


def validate(file: str, name: str, instance: Any) -> None:
    doc = _doc(file)
    schema = {**doc[name], "$defs": doc.get("$defs", {})}
    errors = sorted(Draft202012Validator(schema, format_checker=FormatChecker()).iter_errors(instance), key=str)
    assert not errors, f"{name}: " + "; ".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:5])


def check_traffic(exchanges: list[dict[str, Any]]) -> int:
    checked = 0
    for ex in exchanges:
        method, path, status = ex["method"], ex["path"], ex["status"]
        if path.startswith("/track/"):
            validate("tracking-unified.schema.json", "request", ex["query"])
            body = json.loads(ex["body"])
            validate("tracking-unified.schema.json", "response" if status == 200 else "problem", body)
            checked += 1
            continue
        route = next((v for (m, p), v in ROUTES.items() if m == method and (path == p or (p.endswith("/")
                                                                                     and path.startswith(p)))), None)
        assert route is not None, f"{method} {path}: not an operation of the add-on's schema"
        request_schema, answers = route
        if request_schema:
            validate("mydhl.schema.json", request_schema, ex["request"])
        if status >= 400:
            validate("mydhl.schema.json", "problem", json.loads(ex["body"]))
        elif status in answers:
            body = json.loads(ex["body"])
            validate("mydhl.schema.json", answers[status], body)
            for doc in body.get("documents") or []:
                assert base64.b64decode(doc["content"]).startswith(b"%PDF-")
        checked += 1
    return checked


class Recorder:
    """WSGI middleware around the emulator keeping every exchange."""

    def __init__(self, app) -> None:
        self.app = app
        self.config = app.config
        self.exchanges: list[dict[str, Any]] = []

    def __call__(self, environ, start_response):
        from werkzeug.wrappers import Request

        request = Request(environ)
        raw = request.get_data(cache=True)
        environ["wsgi.input"] = io.BytesIO(raw)
        environ["CONTENT_LENGTH"] = str(len(raw))
        captured: dict[str, Any] = {}

        def capture(status, headers, exc_info=None):
            captured["status"] = int(status.split()[0])
            return start_response(status, headers, exc_info)

        body = b"".join(self.app(environ, capture))
        if not request.path.startswith("/_emulator/") and captured["status"] not in (401, 503):
            self.exchanges.append({"method": request.method, "path": request.path,
                                   "query": dict(request.args), "request": json.loads(raw) if raw else None,
                                   "headers": dict(request.headers), **captured, "body": body})
        return [body]
