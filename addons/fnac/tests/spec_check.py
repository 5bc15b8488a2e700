"""Validation of the Fnac Darty traffic against the official XSDs (``shared/specs/fnac``, copied
unchanged from ``FnacMarketplace/fnacapiclient``, MIT).

Each service's schema file declares both its request root (``orders_query``) and its answer
root (``orders_query_response``): every request the client sends to the emulator and every
answer the emulator gives are validated with lxml against the file of their service.
"""
from __future__ import annotations

import os
from pathlib import Path

from lxml import etree

ROOT = Path(__file__).resolve().parents[3]
SPEC_DIR = Path(os.environ.get("FNAC_SPECS_DIR") or ROOT.parent / "shared" / "specs" / "fnac")

#: service (root element of the request) → its official schema file
SCHEMAS = {
    "auth": "AuthenticationService.xsd",
    "orders_query": "OrdersQueryService.xsd",
    "orders_update": "OrdersUpdateService.xsd",
    "offers_update": "OffersUpdateService.xsd",
    "offers_query": "OffersQueryService.xsd",
    "batch_status": "BatchStatusService.xsd",
    "carriers_query": "CarriersQueryService.xsd",
}


class SpecBook:
    def __init__(self, directory: Path = SPEC_DIR) -> None:
        self.schemas = {service: etree.XMLSchema(etree.parse(str(directory / name)))
                        for service, name in SCHEMAS.items()}

    def check(self, service: str, body: bytes, where: str) -> list[str]:
        schema = self.schemas.get(service)
        if schema is None:
            return [f"{where}: no official schema for the service {service!r}"]
        try:
            doc = etree.fromstring(body)
        except etree.XMLSyntaxError as exc:
            return [f"{where}: not XML ({exc})"]
        if schema.validate(doc):
            return []
        return [f"{where}: line {e.line}: {e.message}" for e in schema.error_log]


def attach(app, book: SpecBook) -> list[str]:
    """Check every request and answer of the emulator ``app``; returns the live list of problems."""
    from flask import request

    problems: list[str] = []
    app.config["SPEC_CHECKED"] = 0

    @app.after_request
    def _check(response):
        service = request.path.rstrip("/").rsplit("/", 1)[-1]
        if request.method != "POST" or service not in SCHEMAS or response.status_code != 200:
            return response
        problems.extend(book.check(service, request.get_data(), f"{service} request"))
        problems.extend(book.check(service, response.get_data(), f"{service} answer"))
        app.config["SPEC_CHECKED"] += 2
        return response

    return problems
