"""Validation of the Amazon traffic against the official models (``shared/specs/amazon``, and
``addons/amazon/specs`` for the Finances API the shared folder lacks).

Every request the client sends to the emulator is checked against its operation in the
Swagger 2.0 model (path, query parameters with their types, enums and array limits, JSON
body schema) and every answer against the response schema of its status. Feed documents
are checked against ``listings-feed-schema-v2.json``, feed processing reports against
``listings-feed-processing-report-schema-v2.json`` and notifications against
``OrderChangeNotification.json``. JSON schemas are checked with ``jsonschema``.
"""
from __future__ import annotations

import gzip
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator, Draft7Validator, FormatChecker

from addons.amazon.clock import parse_iso
from addons.amazon.operations import OPERATIONS

ROOT = Path(__file__).resolve().parents[3]
SPEC_DIR = Path(os.environ.get("AMAZON_SPECS_DIR") or ROOT.parent / "shared" / "specs" / "amazon")
#: official models the shared folder lacks, kept with the add-on (Finances API v0)
ADDON_SPEC_DIR = Path(__file__).resolve().parents[1] / "specs"

FORMATS = FormatChecker(formats=())


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if "T" not in value:
        raise ValueError("not an ISO 8601 date-time")
    parse_iso(value)
    return True


@dataclass
class Route:
    method: str
    pattern: re.Pattern[str]
    model: dict[str, Any]
    operation: dict[str, Any]
    name: str


class SpecBook:
    def __init__(self, directory: Path = SPEC_DIR, addon_directory: Path = ADDON_SPEC_DIR) -> None:
        self.directory = directory
        self.models: dict[str, dict[str, Any]] = {}
        self.routes: list[Route] = []
        for file in sorted({op.model for op in OPERATIONS.values()}):
            source = directory / file if (directory / file).is_file() else addon_directory / file
            model = json.loads(source.read_text(encoding="utf-8"))
            self.models[file] = model
            for path, item in model["paths"].items():
                for method, operation in item.items():
                    if method.startswith("x-") or method == "parameters" or not isinstance(operation, dict):
                        continue
                    regex = "^" + re.sub(r"\{[^/]+\}", "[^/]+", path) + "$"
                    self.routes.append(Route(method.upper(), re.compile(regex), model, operation,
                                             operation.get("operationId", "")))
        self.routes.sort(key=lambda r: r.pattern.pattern.count("[^/]+"))
        self.feed_schema = self._schema("listings-feed-schema-v2.json")
        self.feed_report_schema = self._schema("listings-feed-processing-report-schema-v2.json")
        self.notification_schema = self._schema("OrderChangeNotification.json")

    def _schema(self, name: str) -> dict[str, Any]:
        return json.loads((self.directory / name).read_text(encoding="utf-8"))

    def route(self, method: str, path: str) -> Route | None:
        return next((r for r in self.routes if r.method == method and r.pattern.match(path)), None)

    # ------------------------------------------------------------------ schemas
    def _validate(self, model: dict[str, Any], schema: dict[str, Any], instance: Any, where: str) -> list[str]:
        root = {**schema, "definitions": model.get("definitions", {})}
        return [f"{where}: {'/'.join(str(p) for p in err.absolute_path)}: {err.message}"
                for err in Draft4Validator(root, format_checker=FORMATS).iter_errors(instance)]

    def check_document(self, schema: dict[str, Any], instance: Any, where: str) -> list[str]:
        return [f"{where}: {'/'.join(str(p) for p in err.absolute_path)}: {err.message}"
                for err in Draft7Validator(schema, format_checker=FORMATS).iter_errors(instance)]

    def check_feed(self, document: Any) -> list[str]:
        return self.check_document(self.feed_schema, document, "JSON_LISTINGS_FEED")

    def check_feed_report(self, report: Any) -> list[str]:
        return self.check_document(self.feed_report_schema, report, "processing report")

    def check_notification(self, notification: Any) -> list[str]:
        return self.check_document(self.notification_schema, notification, "ORDER_CHANGE")

    # ------------------------------------------------------------------ requests and answers
    def check_request(self, method: str, path: str, query: dict[str, list[str]], body: bytes) -> list[str]:
        route = self.route(method, path)
        if route is None:
            return [f"{method} {path}: no such operation in the models"]
        where = f"{route.name} request"
        problems: list[str] = []
        params = list(route.operation.get("parameters") or [])
        declared = {p["name"] for p in params if p.get("in") == "query"}
        for name in query:
            if name not in declared:
                problems.append(f"{where}: query parameter {name!r} is not in the model")
        for param in params:
            if param.get("in") == "query":
                problems += self._check_param(param, query.get(param["name"]), where)
            elif param.get("in") == "body":
                if not body:
                    if param.get("required"):
                        problems.append(f"{where}: body required")
                    continue
                try:
                    document = json.loads(body)
                except ValueError:
                    problems.append(f"{where}: body is not JSON")
                    continue
                problems += self._validate(route.model, param["schema"], document, where)
        return problems

    def _check_param(self, param: dict[str, Any], values: list[str] | None, where: str) -> list[str]:
        name = param["name"]
        if not values:
            return [f"{where}: query parameter {name!r} is required"] if param.get("required") else []
        if len(values) > 1 and param.get("collectionFormat") != "multi":
            return [f"{where}: {name!r} repeated"]
        raw = values[0]
        problems = []
        if param.get("type") == "array":
            items = raw.split(",") if param.get("collectionFormat", "csv") == "csv" else values
            if "maxItems" in param and len(items) > param["maxItems"]:
                problems.append(f"{where}: {name!r} has more than {param['maxItems']} items")
            enum = (param.get("items") or {}).get("enum")
            if enum:
                problems += [f"{where}: {name!r} value {v!r} not in {enum}" for v in items if v not in enum]
            return problems
        if param.get("type") == "integer":
            try:
                int(raw)
            except ValueError:
                problems.append(f"{where}: {name!r} is not an integer")
        if param.get("type") == "boolean" and raw not in ("true", "false"):
            problems.append(f"{where}: {name!r} is not a boolean")
        if param.get("enum") and raw not in param["enum"]:
            problems.append(f"{where}: {name!r} value {raw!r} not in {param['enum']}")
        if param.get("format") == "date-time":
            try:
                _date_time(raw)
            except ValueError:
                problems.append(f"{where}: {name!r} is not an ISO 8601 date-time")
        return problems

    def check_response(self, method: str, path: str, status: int, body: bytes) -> list[str]:
        route = self.route(method, path)
        if route is None:
            return []
        where = f"{route.name} {status} answer"
        declared = (route.operation.get("responses") or {}).get(str(status))
        if declared is None:
            return [f"{where}: status not in the model"]
        schema = declared.get("schema")
        if schema is None:
            return [] if not body else [f"{where}: a body where the model has none"]
        try:
            document = json.loads(body)
        except ValueError:
            return [f"{where}: body is not JSON"]
        return self._validate(route.model, schema, document, where)


def attach(app, book: SpecBook) -> list[str]:
    """Check every request and answer of the emulator ``app``; returns the live list of
    problems found."""
    from flask import request

    emulator = app.extensions["amazon_emulator"]
    problems: list[str] = []
    app.config["SPEC_PROBLEMS"] = problems
    app.config["SPEC_CHECKED"] = 0

    @app.after_request
    def _check(response):
        path = request.path
        if path.startswith("/auth/"):
            return response
        if path.startswith("/_documents/"):
            doc = emulator.documents.get(path.rsplit("/", 1)[-1]) or {}
            if request.method == "PUT" and doc.get("kind") == "feed-input":
                try:
                    problems.extend(book.check_feed(json.loads(request.get_data())))
                except ValueError:
                    problems.append("JSON_LISTINGS_FEED: not JSON")
            if request.method == "GET" and doc.get("kind") == "feed-result":
                problems.extend(book.check_feed_report(json.loads(gzip.decompress(response.get_data()))))
            return response
        query = {k: request.args.getlist(k) for k in request.args}
        problems.extend(book.check_request(request.method, path, query, request.get_data()))
        problems.extend(book.check_response(request.method, path, response.status_code, response.get_data()))
        app.config["SPEC_CHECKED"] += 1
        return response

    return problems
