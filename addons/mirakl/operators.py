"""The Mirakl operators the catalog offers, read from ``operators.json`` (data, not code:
operators join and leave Mirakl — La Redoute joined in 2023, Darty left — and adding one is
one entry in that file)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

DATA = Path(__file__).resolve().parent / "operators.json"


@dataclass(frozen=True)
class Operator:
    code: str
    name: str
    category: str
    category_label: str
    instance_url: str
    help_url: str
    sells: str
    initials: str
    color: str
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def host(self) -> str:
        return (urlsplit(self.instance_url).hostname or "").lower()

    def allows(self, feature: str) -> bool:
        """An operator setting (``partial_acceptance``, ``returns``, ``multi_shipment``…)."""
        return bool(self.settings.get(feature))


@lru_cache(maxsize=1)
def _load() -> tuple[dict[str, Operator], dict[str, str]]:
    raw = json.loads(DATA.read_text(encoding="utf-8"))
    sectors = dict(raw["sectors"])
    ops: dict[str, Operator] = {}
    for item in raw["operators"]:
        code = item["code"]
        if code in ops:
            raise ValueError(f"operators.json: operator {code!r} listed twice")
        if item["category"] not in sectors:
            raise ValueError(f"operators.json: {code}: unknown category {item['category']!r}")
        ops[code] = Operator(code=code, name=item["name"], category=item["category"],
                             category_label=sectors[item["category"]], instance_url=item["instance_url"],
                             help_url=item.get("help_url", ""), sells=item.get("sells", ""),
                             initials=item.get("initials", item["name"][:2]), color=item.get("color", "#4f46e5"),
                             settings=dict(item.get("settings") or {}))
    return ops, sectors


def all_operators() -> list[Operator]:
    return sorted(_load()[0].values(), key=lambda o: o.name.lower())


def sectors() -> dict[str, str]:
    return dict(_load()[1])


def get(code: str | None) -> Operator | None:
    return _load()[0].get((code or "").strip().lower())


def for_shop(shop) -> Operator | None:
    return get(shop.marketplace)


#: what a shop without an operator (created outside the catalog cards) may do: the most
#: cautious choice for each setting
GENERIC = Operator(code="", name="Mirakl", category="general", category_label="", instance_url="", help_url="",
                   sells="", initials="MK", color="#2a6ef4",
                   settings={"partial_acceptance": False, "returns": False, "multi_shipment": False,
                             "refunds": True, "line_cancellation": True, "acceptance_hours": 24})
