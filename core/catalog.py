"""The merchant's own catalogue: products and variants created and edited by hand, imported
and exported as CSV, and stock counts imported into a warehouse.

Imports are all or nothing: the whole file is read and checked first (every bad line reported
with its number and why), and only a file without errors is applied, in one transaction. The
SKU is the key: a known SKU updates its variant, a new one creates it (new SKUs sharing a
product title become variants of one product).
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select

from . import stock
from .csvexport import writer as csv_writer
from .extensions import db
from .models import Product, StockLevel, Variant, Warehouse
from .i18n import _

#: the columns of the products CSV, in order (export and import alike)
PRODUCT_COLUMNS = ("sku", "product_title", "variant_title", "options", "barcode", "price", "currency", "cost_price",
                   "weight_grams", "hs_code", "country_of_origin", "tags", "images", "description",
                   "dimensions_cm")
STOCK_COLUMNS = ("sku", "quantity")
MAX_PRICE = Decimal("1000000000")
MAX_GRAMS = 10_000_000
MAX_CM = Decimal("1000")  # 10 m: beyond, no parcel carrier takes it
_DIMENSIONS = re.compile(r"\s*([0-9]{1,4}(?:[.,][0-9])?)\s*[x×*]\s*([0-9]{1,4}(?:[.,][0-9])?)\s*[x×*]\s*"
                         r"([0-9]{1,4}(?:[.,][0-9])?)\s*(?:cm)?\s*", re.IGNORECASE)
MAX_UNITS = 10_000_000
MAX_ROWS = 20_000
_AMOUNT = re.compile(r"-?[0-9]{1,13}(?:[.,][0-9]{1,6})?")
_SKU = re.compile(r"[^\W_][\w.\-/+#]{0,63}")
_HS = re.compile(r"[0-9]{6,10}")
_ISO2 = re.compile(r"[A-Z]{2}")
_CURRENCY = re.compile(r"[A-Z]{3}")
GTIN_LENGTHS = (8, 12, 13, 14)


class CatalogError(ValueError):
    """A refusal the merchant can act on (French message)."""


# ----------------------------------------------------------------------------- values
def gtin_ok(code: str) -> bool:
    """EAN-8, UPC-A, EAN-13 or GTIN-14 in ASCII digits with a correct check digit."""
    if not (code.isascii() and code.isdigit() and len(code) in GTIN_LENGTHS):
        return False
    body = code[:-1]
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == int(code[-1])


def parse_money(text: str, what: str) -> Decimal | None:
    """``12,50`` or ``12.50`` (French spreadsheets write a comma); empty is None."""
    raw = text.strip().replace("\u00a0", "").replace(" ", "").replace("€", "")
    if not raw:
        return None
    if not (raw.isascii() and _AMOUNT.fullmatch(raw)):
        raise CatalogError(_("%(what)s : « %(text)s » n'est pas un montant (12,50)", what=what, text=text[:40]))
    try:
        value = Decimal(raw.replace(",", "."))
    except InvalidOperation:
        raise CatalogError(_("%(what)s : « %(text)s » n'est pas un montant (12,50)", what=what, text=text[:40])) from None
    if not value.is_finite() or value < 0 or value >= MAX_PRICE:
        raise CatalogError(f"{what} : « {text} » est hors limites (0 à {MAX_PRICE:,})".replace(",", " "))
    return value.quantize(Decimal("0.0001"))


def parse_int(text: str, what: str, *, maximum: int, minimum: int = 0) -> int | None:
    raw = text.strip().replace(" ", "")
    if not raw:
        return None
    if not (raw.isascii() and re.fullmatch(r"-?[0-9]+", raw)):
        raise CatalogError(_("%(what)s : « %(text)s » n'est pas un nombre entier", what=what, text=text))
    value = int(raw)
    if not minimum <= value <= maximum:
        raise CatalogError(_("%(what)s : %(value)s est hors limites (%(minimum)s à %(maximum)s)",
                             what=what, value=value, minimum=minimum, maximum=maximum))
    return value


def parse_dimensions(text: str) -> tuple[int, int, int] | None:
    """"30 x 20 x 10" (cm, length × width × height, a decimal allowed: 12,5) → millimetres."""
    if not text.strip():
        return None
    match = _DIMENSIONS.fullmatch(text) if text.isascii() or "×" in text else None
    if match is None:
        raise CatalogError(_("dimensions : « %(text)s » : écrivez longueur x largeur x hauteur en cm, par exemple "
                             "30 x 20 x 10", text=text[:40]))
    sizes = [Decimal(part.replace(",", ".")) for part in match.groups()]
    if any(size <= 0 or size > MAX_CM for size in sizes):
        raise CatalogError(_("dimensions : chaque côté entre 0,1 et %(max_cm)s cm", max_cm=MAX_CM))
    return tuple(int(size * 10) for size in sizes)  # type: ignore[return-value]


def format_dimensions(variant: Variant) -> str:
    sizes = (variant.length_mm, variant.width_mm, variant.height_mm)
    if any(size is None for size in sizes):
        return ""
    return " x ".join(str(Decimal(size) / 10).removesuffix(".0") for size in sizes)


def parse_options(text: str) -> dict[str, str]:
    """``Taille=M; Couleur=Bleu`` (or with commas)."""
    options: dict[str, str] = {}
    for part in re.split(r"[;,]", text):
        if not part.strip():
            continue
        if "=" not in part:
            raise CatalogError(_("options : « %(strip)s » doit s'écrire nom=valeur (Taille=M)", strip=part.strip()))
        key, value = (p.strip() for p in part.split("=", 1))
        if not key or not value:
            raise CatalogError(_("options : « %(strip)s » doit s'écrire nom=valeur (Taille=M)", strip=part.strip()))
        options[key[:60]] = value[:120]
    return options


def format_options(options: dict[str, str]) -> str:
    return "; ".join(f"{k}={v}" for k, v in sorted((options or {}).items()))


@dataclass
class VariantData:
    """A variant's fields as the merchant gave them (a form or a CSV line), checked."""

    sku: str
    product_title: str = ""
    variant_title: str = ""
    options: dict[str, str] = field(default_factory=dict)
    barcode: str | None = None
    price: Decimal | None = None
    currency: str = "EUR"
    cost_price: Decimal | None = None
    weight_grams: int | None = None
    dimensions_mm: tuple[int, int, int] | None = None  # length, width, height
    hs_code: str | None = None
    country_of_origin: str | None = None
    tags: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    description: str = ""


def check_sku(sku: str) -> str:
    sku = sku.strip()
    if not sku:
        raise CatalogError("SKU manquant")
    if not _SKU.fullmatch(sku):
        raise CatalogError(_("SKU « %(sku)s » invalide : lettres, chiffres et . _ / + # - (64 au plus), sans "
                             "espace, commençant par une lettre ou un chiffre", sku=sku[:70]))
    return sku


def check_barcode(code: str) -> str | None:
    code = code.strip()
    if not code:
        return None
    if not gtin_ok(code):
        raise CatalogError(_("code-barres « %(code)s » invalide : EAN-8, UPC-A (12), EAN-13 ou GTIN-14 avec sa "
                             "clé de contrôle", code=code[:40]))
    return code


def check_hs(code: str) -> str | None:
    code = code.strip().replace(" ", "").replace(".", "")
    if not code:
        return None
    if not (code.isascii() and _HS.fullmatch(code)):
        raise CatalogError(_("code SH « %(code)s » invalide : 6 à 10 chiffres", code=code[:20]))
    return code


def check_country(code: str) -> str | None:
    code = code.strip().upper()
    if not code:
        return None
    if not (code.isascii() and _ISO2.fullmatch(code)):
        raise CatalogError(_("pays d'origine « %(code)s » invalide : code ISO à deux lettres (FR, PT…)",
                             code=code[:10]))
    return code


def check_images(lines: Iterable[str]) -> list[str]:
    images = []
    for url in (u.strip() for u in lines):
        if not url:
            continue
        if not re.fullmatch(r"https://[^\s<>\"']{4,500}", url):
            raise CatalogError(_("image « %(url)s » : une adresse https:// est attendue", url=url[:60]))
        images.append(url)
    return images[:20]


def row_to_data(row: dict[str, str]) -> VariantData:
    """One CSV line (column → text) checked; :class:`CatalogError` names the first problem."""
    get = lambda key: (row.get(key) or "").strip()  # noqa: E731
    currency = (get("currency") or "EUR").upper()
    if not _CURRENCY.fullmatch(currency):
        raise CatalogError(_("devise « %(currency)s » invalide : code ISO à trois lettres (EUR)",
                             currency=currency[:10]))
    return VariantData(
        sku=check_sku(get("sku")), product_title=get("product_title")[:255], variant_title=get("variant_title")[:255],
        options=parse_options(get("options")), barcode=check_barcode(get("barcode")),
        price=parse_money(get("price"), "prix"), currency=currency, cost_price=parse_money(get("cost_price"), "coût"),
        weight_grams=parse_int(get("weight_grams"), "poids (g)", maximum=MAX_GRAMS),
        dimensions_mm=parse_dimensions(get("dimensions_cm")),
        hs_code=check_hs(get("hs_code")), country_of_origin=check_country(get("country_of_origin")),
        tags=[t.strip()[:60] for t in get("tags").split(",") if t.strip()][:30],
        images=check_images(get("images").split()), description=get("description")[:20000])


# ----------------------------------------------------------------------------- saving
def barcode_taken(org_id: int, barcode: str | None, variant_id: int | None) -> bool:
    if not barcode:
        return False
    stmt = select(Variant.id).where(Variant.organization_id == org_id, Variant.barcode == barcode)
    if variant_id is not None:
        stmt = stmt.where(Variant.id != variant_id)
    return db.session.scalar(stmt.limit(1)) is not None


def sku_taken(org_id: int, sku: str, variant_id: int | None) -> bool:
    stmt = select(Variant.id).where(Variant.organization_id == org_id, Variant.sku == sku)
    if variant_id is not None:
        stmt = stmt.where(Variant.id != variant_id)
    return db.session.scalar(stmt.limit(1)) is not None


def apply_variant(variant: Variant, data: VariantData, *, partial: bool = False) -> None:
    """Copy ``data`` onto the variant; with ``partial`` (an import), empty cells keep the value."""
    def put(attr: str, value: Any) -> None:
        if partial and value in (None, "", {}):
            return
        setattr(variant, attr, value)

    variant.sku = data.sku
    put("title", data.variant_title or (variant.title if partial else data.product_title))
    put("options", data.options)
    put("barcode", data.barcode)
    if data.price is not None or not partial:
        variant.price = data.price if data.price is not None else Decimal("0")
    put("currency", data.currency)
    put("cost_price", data.cost_price)
    put("weight_grams", data.weight_grams)
    if data.dimensions_mm is not None or not partial:
        variant.length_mm, variant.width_mm, variant.height_mm = data.dimensions_mm or (None, None, None)
    put("hs_code", data.hs_code)
    put("country_of_origin", data.country_of_origin)


def apply_product(product: Product, data: VariantData, *, partial: bool = False) -> None:
    if data.product_title or not partial:
        product.title = data.product_title or product.title
    if data.description or not partial:
        product.description = data.description
    if data.tags or not partial:
        product.tags = data.tags
    if data.images or not partial:
        product.images = data.images


# ----------------------------------------------------------------------------- CSV reading
def read_csv(content: bytes, columns: tuple[str, ...], required: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    """(line number, row) of a CSV file as spreadsheets write it: UTF-8 (with or without BOM)
    or Windows-1252, separated by ``;`` or ``,``. Refuses what is not such a file."""
    if b"\x00" in content:
        raise CatalogError(_("ce fichier n'est pas un CSV (il contient des octets binaires) : enregistrez-le "
                             "depuis votre tableur au format CSV"))
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = content.decode("cp1252", errors="replace")
    if not text.strip():
        raise CatalogError(_("le fichier est vide"))
    first = text.splitlines()[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [h.strip().lower() for h in next(reader)]
    except csv.Error as exc:
        raise CatalogError(_("en-tête illisible : %(exc)s", exc=exc)) from None
    unknown = [h for h in header if h and h not in columns]
    missing = [c for c in required if c not in header]
    if missing:
        raise CatalogError("colonne(s) manquante(s) : " + ", ".join(missing) + " — colonnes attendues : "
                           + ", ".join(columns))
    if unknown:
        raise CatalogError("colonne(s) inconnue(s) : " + ", ".join(unknown[:10]) + " — colonnes attendues : "
                           + ", ".join(columns))
    rows: list[tuple[int, dict[str, str]]] = []
    try:
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue
            if len(rows) >= MAX_ROWS:
                raise CatalogError(_("trop de lignes : %(max_rows)s au plus par fichier", max_rows=MAX_ROWS))
            rows.append((reader.line_num, {h: (cells[i] if i < len(cells) else "") for i, h in enumerate(header) if h}))
    except csv.Error as exc:
        raise CatalogError(f"ligne {reader.line_num} illisible : {exc}") from None
    return rows


@dataclass
class ImportPlan:
    """What an import would do, line by line; applied only when ``errors`` is empty."""

    creates: list[VariantData] = field(default_factory=list)
    updates: list[tuple[int, VariantData]] = field(default_factory=list)  # (variant id, data)
    errors: list[tuple[int, str]] = field(default_factory=list)  # (line, why)

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.creates or self.updates)


def plan_products(org_id: int, content: bytes) -> ImportPlan:
    plan = ImportPlan()
    try:
        rows = read_csv(content, PRODUCT_COLUMNS, ("sku",))
    except CatalogError as exc:
        plan.errors.append((1, str(exc)))
        return plan
    known = dict(db.session.execute(select(Variant.sku, Variant.id).where(Variant.organization_id == org_id)).all())
    barcodes = dict(db.session.execute(select(Variant.barcode, Variant.sku).where(
        Variant.organization_id == org_id, Variant.barcode.is_not(None))).all())
    seen: dict[str, int] = {}
    for line, row in rows:
        try:
            data = row_to_data(row)
            if data.sku in seen:
                raise CatalogError(_("SKU %(sku)s déjà présent ligne %(seen)s", sku=data.sku, seen=seen[data.sku]))
            if data.barcode and barcodes.get(data.barcode, data.sku) != data.sku:
                raise CatalogError(_("code-barres %(barcode)s déjà porté par le SKU %(barcodes)s",
                                     barcode=data.barcode, barcodes=barcodes[data.barcode]))
            if data.sku not in known and not data.product_title:
                raise CatalogError(_("nouveau SKU %(sku)s : product_title est obligatoire", sku=data.sku))
        except CatalogError as exc:
            plan.errors.append((line, str(exc)))
            continue
        seen[data.sku] = line
        if data.barcode:
            barcodes[data.barcode] = data.sku
        if data.sku in known:
            plan.updates.append((known[data.sku], data))
        else:
            plan.creates.append(data)
    if not rows:
        plan.errors.append((1, "aucune ligne à importer"))
    return plan


def apply_products(org_id: int, plan: ImportPlan) -> tuple[int, int]:
    """Write a checked plan (the caller commits). Returns (created, updated)."""
    if plan.errors:
        raise CatalogError(_("le fichier a des erreurs : rien n'a été importé"))
    for variant_id, data in plan.updates:
        variant = db.session.get(Variant, variant_id)
        apply_variant(variant, data, partial=True)
        apply_product(variant.product, data, partial=True)
    by_title = {p.title: p for p in db.session.scalars(select(Product).where(
        Product.organization_id == org_id, Product.title.in_({d.product_title for d in plan.creates})))}
    for data in plan.creates:
        product = by_title.get(data.product_title)
        if product is None:
            product = Product(organization_id=org_id, title=data.product_title)
            apply_product(product, data)
            db.session.add(product)
            by_title[data.product_title] = product
        variant = Variant(organization_id=org_id, product=product, sku=data.sku)
        apply_variant(variant, data)
        db.session.add(variant)
    db.session.flush()
    return len(plan.creates), len(plan.updates)


def export_products(org_id: int) -> str:
    out = io.StringIO()
    w = csv_writer(out, delimiter=";")
    w.writerow(PRODUCT_COLUMNS)
    for v in db.session.scalars(select(Variant).join(Product).where(Variant.organization_id == org_id)
                                .order_by(Product.title, Variant.sku)):
        p = v.product
        w.writerow([v.sku, p.title, v.title if v.title != p.title else "", format_options(v.options), v.barcode or "",
                    _decimal(v.price), v.currency, _decimal(v.cost_price), v.weight_grams if v.weight_grams is not None
                    else "", v.hs_code or "", v.country_of_origin or "", ", ".join(p.tags or []),
                    " ".join(p.images or []), p.description or "", format_dimensions(v)])
    return out.getvalue()


def _decimal(value: Decimal | None) -> str:
    if value is None:
        return ""
    return format(value.normalize(), "f").replace(".", ",")


# ----------------------------------------------------------------------------- stock counts
@dataclass
class StockPlan:
    counts: list[tuple[int, str, int, int]] = field(default_factory=list)  # variant id, sku, counted, on hand now
    errors: list[tuple[int, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.counts)


def plan_stock(org_id: int, warehouse: Warehouse, content: bytes) -> StockPlan:
    """A count per SKU for one warehouse: the new on-hand figure of each line."""
    plan = StockPlan()
    try:
        rows = read_csv(content, STOCK_COLUMNS, STOCK_COLUMNS)
    except CatalogError as exc:
        plan.errors.append((1, str(exc)))
        return plan
    known = dict(db.session.execute(select(Variant.sku, Variant.id).where(Variant.organization_id == org_id)).all())
    levels = {vid: (on_hand, reserved) for vid, on_hand, reserved in db.session.execute(
        select(StockLevel.variant_id, StockLevel.on_hand, StockLevel.reserved)
        .where(StockLevel.warehouse_id == warehouse.id))}
    seen: dict[str, int] = {}
    for line, row in rows:
        sku = (row.get("sku") or "").strip()
        try:
            if sku not in known:
                raise CatalogError(_("SKU « %(sku)s » inconnu : créez le produit d'abord", sku=sku[:70]))
            if sku in seen:
                raise CatalogError(_("SKU %(sku)s déjà compté ligne %(seen)s", sku=sku, seen=seen[sku]))
            counted = parse_int(row.get("quantity") or "", "quantité", maximum=MAX_UNITS)
            if counted is None:
                raise CatalogError(_("quantité manquante"))
            on_hand, reserved = levels.get(known[sku], (0, 0))
            if counted < reserved:
                raise CatalogError(_("%(sku)s : %(counted)s compté(s), mais %(reserved)s déjà réservé(s) par des "
                                     "commandes", sku=sku, counted=counted, reserved=reserved))
        except CatalogError as exc:
            plan.errors.append((line, str(exc)))
            continue
        seen[sku] = line
        plan.counts.append((known[sku], sku, counted, on_hand))
    if not rows:
        plan.errors.append((1, "aucune ligne à importer"))
    return plan


def apply_stock(org_id: int, warehouse: Warehouse, plan: StockPlan, *, user_id: int | None) -> int:
    """Set each counted SKU's on-hand figure (the caller commits). Returns the lines changed."""
    if plan.errors:
        raise CatalogError(_("le fichier a des erreurs : rien n'a été importé"))
    changed = 0
    for variant_id, _sku, counted, _before in plan.counts:
        current = stock.level(variant_id, warehouse.id).on_hand
        if counted != current:
            stock.adjust(org_id, variant_id, warehouse.id, counted - current, reason=_("inventaire importé (CSV)"),
                         user_id=user_id)
            changed += 1
    return changed
