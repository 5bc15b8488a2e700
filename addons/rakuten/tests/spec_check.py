"""Every query the client sends and every answer the emulator gives, checked against the
schemas written from Rakuten's documentation (``addons/rakuten/specs``)."""
from __future__ import annotations

import json
from pathlib import Path

from jsonschema import Draft202012Validator
from lxml import etree

SPECS = Path(__file__).resolve().parent.parent / "specs"


class Specs:
    def __init__(self) -> None:
        self.ws = etree.XMLSchema(etree.parse(str(SPECS / "rakuten-ws.xsd")))
        self.error = etree.XMLSchema(etree.parse(str(SPECS / "error.xsd")))
        self.requests = Draft202012Validator(json.loads((SPECS / "requests.schema.json").read_text("utf-8")))

    def check_xml(self, body: bytes) -> list[str]:
        doc = etree.fromstring(body)
        schema = self.error if etree.QName(doc).localname == "errorresponse" else self.ws
        if schema.validate(doc):
            return []
        return [f"{etree.QName(doc).localname}: {e.message}" for e in schema.error_log]

    def check_query(self, query: dict[str, str]) -> list[str]:
        return [f"{query.get('action')}: {e.message}" for e in self.requests.iter_errors(query)]

    def problems(self, emulator, *, allow_bad_queries: bool = False) -> list[str]:
        found: list[str] = []
        if not allow_bad_queries:
            for query in emulator.queries:
                found += self.check_query(query)
        for _action, body in emulator.answers:
            found += self.check_xml(body)
        for body in emulator.files:
            found += self.check_xml(body)
        return found
