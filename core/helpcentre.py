"""The help centre's pages (``/help``): core's own, in French and English (``core/help/<lang>/``),
and one page per add-on built from its readme (``readme/DESCRIPTION.md``, ``CONFIGURE.md``,
``USAGE.md``, written in French). Each page is Markdown with a small header::

    ---
    title: Problèmes courants
    summary: one line for the index
    ---

Search (:func:`search`) finds the pages holding every word asked, accents and case aside.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sqlalchemy import exists, func, or_, select

from .addons import registry
from .extensions import db
from .markdown import plain
from .models import ConnectionStatus, Order, Shipment, Shop, ShopAddon, User, Variant

HERE = Path(__file__).resolve().parent / "help"
#: core's pages, in the index's order
ORDER = ("demarrer", "problemes", "preparation", "analyses")
README_PARTS = ("DESCRIPTION", "CONFIGURE", "USAGE")


@dataclass(frozen=True)
class Page:
    slug: str
    title: str
    summary: str
    body: str  # Markdown
    lang: str  # the language the body is written in
    addon: str | None = None

    @property
    def text(self) -> str:
        return plain(f"{self.title} {self.summary} {self.body}")


def _parse(slug: str, text: str, lang: str) -> Page:
    meta: dict[str, str] = {}
    body = text
    if text.startswith("---\n"):
        head, _sep, body = text[4:].partition("\n---\n")
        for line in head.splitlines():
            key, _colon, value = line.partition(":")
            meta[key.strip()] = value.strip()
    return Page(slug, meta.get("title", slug), meta.get("summary", ""), body.strip(), lang)


@lru_cache(maxsize=8)
def core_pages(lang: str) -> tuple[Page, ...]:
    folder = HERE / (lang if (HERE / lang).is_dir() else "fr")
    found = []
    for slug in ORDER:
        path = folder / f"{slug}.md"
        if path.is_file():
            found.append(_parse(slug, path.read_text(encoding="utf-8"), folder.name))
    return tuple(found)


def core_page(slug: str, lang: str) -> Page | None:
    return next((p for p in core_pages(lang) if p.slug == slug), None)


def addon_page(addon, locale: str = "fr") -> Page | None:
    """An add-on's page from its readme (in French, as add-ons write them)."""
    parts = [addon.readme(part).strip() for part in README_PARTS]
    if not any(parts):
        return None
    return Page(f"addons/{addon.name}", addon.title, addon.summary_for(locale), "\n\n".join(p for p in parts if p),
                "fr", addon=addon.name)


@dataclass(frozen=True)
class Step:
    key: str
    done: bool
    endpoint: str


def checklist(org) -> list[Step]:
    """The guide's first days, ticked from the organization's real state."""
    def has(stmt) -> bool:
        return bool(db.session.scalar(select(exists(stmt))))

    carriers = [a.name for a in registry().loaded() if a.kind == "carrier"]
    channels = db.session.scalar(select(func.count()).select_from(Shop).where(
        Shop.organization_id == org.id, Shop.status == ConnectionStatus.CONNECTED)) or 0
    return [
        Step("shop", channels > 0, "integrations.catalog"),
        Step("products", has(select(Variant.id).where(Variant.organization_id == org.id)), "catalog.products_import"),
        Step("order", has(select(Order.id).where(Order.organization_id == org.id)), "main.orders"),
        Step("carrier", bool(carriers) and has(
            select(ShopAddon.id).join(Shop, Shop.id == ShopAddon.shop_id).where(
                Shop.organization_id == org.id, ShopAddon.addon.in_(carriers), ShopAddon.active.is_(True),
                ShopAddon.status == ConnectionStatus.CONNECTED)), "integrations.catalog"),
        Step("label", has(select(Shipment.id).join(Order, Order.id == Shipment.order_id).where(
            Order.organization_id == org.id,
            or_(Shipment.tracking_number.is_not(None), Shipment.label.is_not(None)))), "picking.waves"),
        Step("team", (db.session.scalar(select(func.count()).select_from(User).where(
            User.organization_id == org.id, User.removed_at.is_(None))) or 0) > 1, "account.team_page"),
        Step("second_channel", channels > 1, "integrations.catalog"),
    ]


def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c))


def search(query: str, pages: list[Page], limit: int = 20) -> list[tuple[Page, str]]:
    """Pages holding every word of ``query`` (accents and case aside), the most mentions
    first, each with a snippet around its first match."""
    words = [w for w in re.findall(r"\w+", _fold(query))[:8] if len(w) > 1]
    if not words:
        return []
    found = []
    for page in pages:
        folded = _fold(page.text)
        if all(w in folded for w in words):
            score = sum(folded.count(w) for w in words) + 5 * sum(w in _fold(page.title) for w in words)
            at = folded.find(words[0])
            text = page.text
            start = max(0, at - 80)
            snippet = ("…" if start else "") + text[start:at + 160].strip() + ("…" if at + 160 < len(text) else "")
            found.append((score, page, snippet))
    found.sort(key=lambda item: -item[0])
    return [(page, snippet) for _score, page, snippet in found[:limit]]
