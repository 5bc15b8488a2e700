"""The Colissimo exchanges recorded on the emulator, validated against the add-on's schemas
(``addons/colissimo/specs``); the multipart label answer checked part by part, on bytes."""
from __future__ import annotations

import io
import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from addons.colissimo import mapping

SPEC = Path(__file__).resolve().parents[1] / "specs" / "colissimo.schema.json"


@cache
def _doc() -> dict[str, Any]:
    return json.loads(SPEC.read_text())


def validate(name: str, instance: Any) -> None:
    doc = _doc()
    schema = {**doc[name], "$defs": doc["$defs"]}
    errors = sorted(Draft202012Validator(schema, format_checker=FormatChecker()).iter_errors(instance), key=str)
    assert not errors, f"{name}: " + "; ".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:5])


def check_traffic(exchanges: list[dict[str, Any]]) -> int:
    for ex in exchanges:
        path, status = ex["path"], ex["status"]
        if path.endswith(("/generateLabel", "/checkGenerateLabel")):
            validate("generateLabelRequest", ex["request"])
            if "apiKey" in ex["headers"]:
                assert "password" not in ex["request"] and "contractNumber" not in ex["request"]
            if ex["content_type"].startswith("multipart/"):
                parts = mapping.split_multipart(ex["content_type"], ex["body"])
                validate("jsonInfos", json.loads(parts["jsonInfos"]))
                assert parts["label"].startswith(b"%PDF-") and parts["label"].endswith(b"%%EOF\n")
            else:
                validate("messages", json.loads(ex["body"]))
        elif "/pointretrait/" in path:
            validate("pointsRequest", ex["request"])
            validate("pointsResponse", json.loads(ex["body"]))
        elif "/suivi/v2/idships/" in path:
            validate("suiviResponse", json.loads(ex["body"]))
        else:
            raise AssertionError(f"{ex['method']} {path}: not an operation of the add-on's schema")
    return len(exchanges)


class Recorder:
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
            captured["content_type"] = dict((k.lower(), v) for k, v in headers).get("content-type", "")
            return start_response(status, headers, exc_info)

        body = b"".join(self.app(environ, capture))
        if not request.path.startswith("/_emulator/") and captured["status"] not in (401, 503):
            self.exchanges.append({"method": request.method, "path": request.path, "headers": dict(request.headers),
                                   "request": json.loads(raw) if raw else None, **captured, "body": body})
        return [body]
