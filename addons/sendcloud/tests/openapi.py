"""Validation of the Sendcloud traffic against Sendcloud's OpenAPI documents
(``shared/specs/sendcloud``, v2 and v3).

A request body is checked against its operation's ``requestBody`` schema, an answer against
the schema of its status and content type; PDFs must be PDFs. Schemas are OpenAPI 3.0
(``nullable``) with a few 3.1 forms (``type: "null"``): ``nullable`` is turned into a JSON
Schema type union, a ``oneOf`` whose alternatives require nothing becomes ``anyOf``, then
``jsonschema`` (draft 2020-12) validates, with the ``$ref`` resolved
inside the document.
"""
from __future__ import annotations

import io
import json
import os
import re
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

ROOT = Path(__file__).resolve().parents[3]
SPEC_DIR = Path(os.environ.get("SENDCLOUD_SPECS_DIR") or ROOT.parent / "shared" / "specs" / "sendcloud")
FORMATS = FormatChecker(formats=("email",))


@FORMATS.checks("date", raises=ValueError)
def _date(value: object) -> bool:
    if isinstance(value, str):
        date.fromisoformat(value)
    return True


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    if isinstance(value, str):
        datetime.fromisoformat(value.replace("Z", "+00:00"))
    return True


def _loose_one_of(alternatives: list[Any]) -> bool:
    """``oneOf`` of objects none of which requires its key (v2 ``{"parcel"}`` / ``{"parcels"}``):
    any body matches several, so it is checked as ``anyOf`` (each key still against its schema)."""
    return all(isinstance(a, dict) and "required" not in a and "$ref" not in a for a in alternatives)


def _nullable(node: Any) -> Any:
    """OpenAPI 3.0 ``nullable: true`` → a JSON Schema type accepting null."""
    if isinstance(node, list):
        return [_nullable(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _nullable(value) for key, value in node.items()}
    if isinstance(out.get("oneOf"), list) and _loose_one_of(out["oneOf"]):
        out["anyOf"] = out.pop("oneOf")
    if out.pop("nullable", False):
        kind = out.get("type")
        if isinstance(kind, str):
            out["type"] = [kind, "null"]
        if "enum" in out and None not in out["enum"]:
            out["enum"] = [*out["enum"], None]
        if "type" not in out and ("$ref" in out or "allOf" in out):
            out = {"anyOf": [{"type": "null"}, out]}
    return out


class Spec:
    def __init__(self, version: str) -> None:
        path = SPEC_DIR / f"sendcloud-api-{version}.openapi.json"
        if not path.is_file():
            if os.environ.get("CI") == "true":
                pytest.fail(f"Sendcloud OpenAPI document missing: {path}")
            pytest.skip(f"Sendcloud OpenAPI document missing: {path}")
        self.version = version
        self.uri = f"urn:sendcloud-{version}"
        self.doc = _nullable(json.loads(path.read_text(encoding="utf-8")))
        resource = Resource.from_contents(self.doc, default_specification=DRAFT202012)
        self.registry = Registry().with_resource(self.uri, resource)
        self.routes = []
        for template, item in self.doc["paths"].items():
            pattern = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$")
            self.routes.append((pattern, template, item))

    def _route(self, path: str) -> tuple[str, dict[str, Any]]:
        matches = [(template, item) for pattern, template, item in self.routes if pattern.match(path)]
        assert matches, f"{self.version} {path}: no such path in the OpenAPI document"
        # a literal path (/shipments/announce) beats a template (/shipments/{id})
        return min(matches, key=lambda m: m[0].count("{"))

    def _validate(self, pointer: str, instance: Any, what: str) -> None:
        ref = self.uri + "#" + pointer
        validator = Draft202012Validator({"$ref": ref}, registry=self.registry, format_checker=FORMATS)
        errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
        assert not errors, f"{what}: " + "; ".join(
            f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message[:300]}" for e in errors[:5])

    @staticmethod
    def _escape(part: str) -> str:
        return part.replace("~", "~0").replace("/", "~1")

    def operation(self, method: str, path: str) -> tuple[str, dict[str, Any]]:
        template, item = self._route(path)
        operation = item.get(method.lower())
        assert operation is not None, f"{method} {path}: method not in the OpenAPI document"
        return template, operation

    def request(self, method: str, path: str, body: Any) -> None:
        template, operation = self.operation(method, path)
        content = (operation.get("requestBody") or {}).get("content") or {}
        if body is None:
            assert not (operation.get("requestBody") or {}).get("required"), f"{method} {path}: body required"
            return
        assert "application/json" in content, f"{method} {path}: no JSON body in the OpenAPI document"
        pointer = "/".join(["", "paths", self._escape(template), method.lower(), "requestBody", "content",
                            self._escape("application/json"), "schema"])
        self._validate(pointer, body, f"request {method} {path}")

    def response(self, method: str, path: str, status: int, content_type: str, body: bytes) -> None:
        template, operation = self.operation(method, path)
        responses = operation.get("responses") or {}
        answer = responses.get(str(status))
        assert answer is not None, f"{method} {path}: status {status} not in the OpenAPI document"
        if "$ref" in answer:
            answer = self._resolve(answer["$ref"])
        kind = content_type.split(";")[0].strip()
        content = answer.get("content") or {}
        if not content:
            return
        assert kind in content, f"{method} {path} {status}: {kind} not among {sorted(content)}"
        if kind == "application/pdf":
            assert body.startswith(b"%PDF-") and body.rstrip().endswith(b"%%EOF"), "not a PDF"
            return
        if kind != "application/json" or "schema" not in content[kind]:
            return
        ref = answer.get("$ref_pointer") or "/".join(
            ["", "paths", self._escape(template), method.lower(), "responses", str(status)])
        pointer = ref + "/" + "/".join(["content", self._escape(kind), "schema"])
        self._validate(pointer, json.loads(body), f"response {method} {path} {status}")

    def _resolve(self, ref: str) -> dict[str, Any]:
        node: Any = self.doc
        for part in ref.lstrip("#/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return {**node, "$ref_pointer": ref.lstrip("#")}

    def component(self, name: str, instance: Any) -> None:
        self._validate(f"/components/schemas/{self._escape(name)}", instance, f"schema {name}")


@cache
def spec(version: str) -> Spec:
    return Spec(version)


def check_traffic(exchanges: list[dict[str, Any]]) -> int:
    """Validate recorded exchanges (see ``Recorder``); return how many were checked."""
    for ex in exchanges:
        version, _, path = ex["path"].lstrip("/").partition("/")
        book = spec(version)
        book.request(ex["method"], "/" + path, ex["request"])
        book.response(ex["method"], "/" + path, ex["status"], ex["content_type"], ex["body"])
    return len(exchanges)


class Recorder:
    """WSGI middleware around the emulator keeping every exchange (for ``check_traffic``)."""

    def __init__(self, app) -> None:
        self.app = app
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
            captured["content_type"] = dict((k.lower(), v) for k, v in headers).get("content-type", "")
            return start_response(status, headers, exc_info)

        chunks = list(self.app(environ, capture))
        body = b"".join(chunks)
        if not request.path.startswith("/_emulator/") and captured["status"] not in (401, 503):
            self.exchanges.append({"method": request.method, "path": request.path,
                                   "request": json.loads(raw) if raw else None, **captured, "body": body})
        return [body]
