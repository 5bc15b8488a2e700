"""Products both ways between the OMS catalogue and a Shopify shop.

Conflict rule (readme/USAGE.md says the same to the merchant):

* Shopify is master of what customers read: product title, description, images, tags,
  variant option values, barcode, customs data (HS code, country of origin) and weight;
  an import overwrites them in the OMS (never with an empty value), and a push from the OMS
  sends them only when it creates the product or a new variant in Shopify;
* the OMS is master of the SKU (the join key: an import never renames an OMS SKU) and of
  stock (see ``inventory.py``);
* price: the last writer wins. Each binding remembers the price last exchanged; an import
  takes Shopify's price when it changed there after the OMS product was last modified, a
  push sends the OMS price.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from core.extensions import db
from core.i18n import _, joined
from core.models import Product, Shop, Variant, VariantBinding
from core.syncs import Progress

from .client import ShopifyClient, numeric_id
from .graphql import PRODUCT, PRODUCT_SET, PRODUCT_VARIANTS, PRODUCTS, PRODUCTS_COUNT, PRODUCTS_PAGE
from .normalize import parse_time

OVERLAP = timedelta(minutes=5)
#: why an import leaves a Shopify variant out (shown in the merchant's language)
NO_SKU = _l("Variante sans SKU dans Shopify : ajoutez-lui un SKU pour la relier à un article de l'OMS, "
            "puis relancez l'import.")
GRAMS = {"GRAMS": 1.0, "KILOGRAMS": 1000.0, "OUNCES": 28.3495, "POUNDS": 453.592}


@dataclass
class RemoteVariant:
    gid: str
    sku: str
    barcode: str | None
    price: Decimal
    title: str
    options: dict[str, str]
    inventory_item: str | None
    hs_code: str | None
    origin: str | None
    grams: int | None
    updated_at: datetime | None


@dataclass
class RemoteProduct:
    gid: str
    title: str
    description: str
    images: list[str]
    tags: list[str]
    updated_at: datetime | None
    variants: list[RemoteVariant] = field(default_factory=list)


@dataclass
class ImportResult:
    products: int = 0
    created: int = 0
    linked: int = 0
    updated: int = 0
    skipped: list[str] = field(default_factory=list)

    def add(self, other: "ImportResult") -> None:
        self.products += other.products
        self.created += other.created
        self.linked += other.linked
        self.updated += other.updated
        self.skipped += other.skipped

    def summary(self) -> str:
        text = _("%(products)s produit(s) Shopify lus : %(created)s variante(s) créée(s), %(linked)s reliée(s) par "
                 "SKU, %(updated)s mise(s) à jour", products=self.products, created=self.created, linked=self.linked,
                 updated=self.updated)
        if self.skipped:
            return joined(" ; ", [text, _("ignorées (sans SKU) : %(items)s", items=", ".join(self.skipped[:10]))])
        return text


# ----------------------------------------------------------------------------- reading Shopify
def _variant(node: dict[str, Any]) -> RemoteVariant:
    item = node.get("inventoryItem") or {}
    weight = ((item.get("measurement") or {}).get("weight") or {})
    grams = None
    if weight.get("value"):
        grams = int(round(float(weight["value"]) * GRAMS.get(weight.get("unit") or "GRAMS", 1.0)))
    options = {o["name"]: o["value"] for o in node.get("selectedOptions") or []
               if not (o["name"] == "Title" and o["value"] == "Default Title")}
    return RemoteVariant(gid=node["id"], sku=(node.get("sku") or "").strip(), barcode=node.get("barcode") or None,
                         price=Decimal(str(node.get("price") or "0")), title=node.get("title") or "",
                         options=options, inventory_item=item.get("id"), hs_code=item.get("harmonizedSystemCode"),
                         origin=item.get("countryCodeOfOrigin"), grams=grams,
                         updated_at=parse_time(node.get("updatedAt")))


def read_product(client: ShopifyClient, node: dict[str, Any]) -> RemoteProduct:
    """A product node with all its variants (more pages fetched when it has many)."""
    conn = node.get("variants") or {}
    nodes = list(conn.get("nodes") or [])
    info = conn.get("pageInfo") or {}
    while info.get("hasNextPage"):
        page = (client.graphql(PRODUCT_VARIANTS, {"id": node["id"], "first": 100, "after": info.get("endCursor")})
                .get("product") or {}).get("variants") or {}
        nodes += page.get("nodes") or []
        info = page.get("pageInfo") or {}
    images = [((m.get("image") or {}).get("url")) for m in (node.get("media") or {}).get("nodes") or []]
    return RemoteProduct(gid=node["id"], title=node.get("title") or "", description=node.get("descriptionHtml") or "",
                         images=[u for u in images if u], tags=list(node.get("tags") or []),
                         updated_at=parse_time(node.get("updatedAt")), variants=[_variant(v) for v in nodes])


def fetch_product(client: ShopifyClient, product_gid: str) -> RemoteProduct | None:
    data = client.graphql(PRODUCT, {"id": product_gid}).get("product")
    return read_product(client, data) if data else None


def count_products(client: ShopifyClient, query: str | None) -> int | None:
    """Shopify's count of the products a query lists (None when Shopify only gives a bound)."""
    found = client.graphql(PRODUCTS_COUNT, {"query": query}).get("productsCount") or {}
    return int(found["count"]) if found.get("precision") == "EXACT" and found.get("count") is not None else None


def import_products(shop: Shop, client: ShopifyClient, currency: str, since: datetime | None = None,
                    progress: Progress | None = None) -> ImportResult:
    """Every product (or those updated since ``since``, with an overlap), a page per commit;
    ``progress`` is told the total, then each committed page and its refused variants."""
    query = f"updated_at:>='{(since - OVERLAP).strftime('%Y-%m-%dT%H:%M:%SZ')}'" if since else None
    total = ImportResult()
    if progress is not None:
        progress.start(count_products(client, query))
    for page in client.paginate(PRODUCTS, {"query": query}, "products", page_size=PRODUCTS_PAGE):
        done = ImportResult()
        for node in page:
            done.add(upsert_product(shop, read_product(client, node), currency))
        db.session.commit()
        total.add(done)
        if progress is not None:
            progress.advance(len(page), [(ref, NO_SKU) for ref in done.skipped])
    return total


# ----------------------------------------------------------------------------- into the OMS
def bindings(shop_id: int, external_ids: Iterable[str] | None = None,
             variant_ids: Iterable[int] | None = None) -> list[VariantBinding]:
    stmt = select(VariantBinding).where(VariantBinding.shop_id == shop_id)
    if external_ids is not None:
        stmt = stmt.where(VariantBinding.external_id.in_(list(external_ids)))
    if variant_ids is not None:
        stmt = stmt.where(VariantBinding.variant_id.in_(list(variant_ids)))
    return list(db.session.scalars(stmt))


def _bind(shop: Shop, variant: Variant, rv: RemoteVariant, product_gid: str, price: Decimal,
          existing: VariantBinding | None) -> VariantBinding:
    binding = existing or db.session.scalar(select(VariantBinding).where(
        VariantBinding.shop_id == shop.id, VariantBinding.variant_id == variant.id))
    data = dict(binding.data or {}) if binding else {}
    data.update(inventory_item_id=rv.inventory_item, product_id=product_gid, price=str(price),
                updated_at=rv.updated_at.isoformat() if rv.updated_at else None)
    if binding is None:
        binding = VariantBinding(shop_id=shop.id, variant_id=variant.id, external_id=rv.gid, external_sku=rv.sku,
                                 data=data)
        db.session.add(binding)
    else:
        if binding.external_id != rv.gid:  # the Shopify variant was replaced: stock figures start over
            data.pop("levels", None)
        binding.external_id, binding.external_sku, binding.data = rv.gid, rv.sku or binding.external_sku, data
    return binding


def upsert_product(shop: Shop, rp: RemoteProduct, currency: str) -> ImportResult:
    result = ImportResult(products=1)
    bound = {b.external_id: b for b in bindings(shop.id, [v.gid for v in rp.variants])}
    matched: list[tuple[RemoteVariant, Variant | None, VariantBinding | None]] = []
    for rv in rp.variants:
        binding = bound.get(rv.gid)
        variant = db.session.get(Variant, binding.variant_id) if binding else None
        if variant is None and rv.sku:
            variant = db.session.scalar(select(Variant).where(Variant.organization_id == shop.organization_id,
                                                              Variant.sku == rv.sku))
        if variant is None and not rv.sku:
            result.skipped.append(rv.title or numeric_id(rv.gid) or rv.gid)
            continue
        matched.append((rv, variant, binding))
    if not matched:
        return result
    product = next((v.product for _rv, v, _b in matched if v is not None), None)
    if product is None:
        product = Product(organization_id=shop.organization_id, title=rp.title[:255], description=rp.description,
                          images=rp.images, tags=rp.tags)
        db.session.add(product)
        db.session.flush()
    else:  # Shopify is master of what customers read
        for attr, value in (("title", rp.title[:255]), ("description", rp.description), ("images", rp.images),
                            ("tags", rp.tags)):
            if value and getattr(product, attr) != value:
                setattr(product, attr, value)
    oms_changed_at = product.updated_at
    for rv, variant, binding in matched:
        if variant is None:
            variant = Variant(organization_id=shop.organization_id, product_id=product.id, sku=rv.sku[:64],
                              barcode=(rv.barcode or None), title=(rv.title if rv.options else product.title)[:255],
                              price=rv.price, currency=currency or "EUR", options=rv.options,
                              weight_grams=rv.grams, hs_code=rv.hs_code, country_of_origin=rv.origin)
            db.session.add(variant)
            db.session.flush()
            result.created += 1
        else:
            if binding is None:
                result.linked += 1
            if _update_variant(variant, rv, binding, oms_changed_at):
                result.updated += 1
        _bind(shop, variant, rv, rp.gid, variant.price, binding)
    db.session.flush()
    return result


def _update_variant(variant: Variant, rv: RemoteVariant, binding: VariantBinding | None,
                    oms_changed_at: datetime | None) -> bool:
    changes: dict[str, Any] = {}
    if rv.barcode and rv.barcode != variant.barcode:
        changes["barcode"] = rv.barcode[:32]
    if rv.options and rv.options != variant.options:
        changes["options"] = rv.options
    if rv.options and rv.title and rv.title != variant.title:
        changes["title"] = rv.title[:255]
    if rv.hs_code and rv.hs_code != variant.hs_code:
        changes["hs_code"] = rv.hs_code[:16]
    if rv.origin and rv.origin != variant.country_of_origin:
        changes["country_of_origin"] = rv.origin
    if rv.grams and not variant.weight_grams:
        changes["weight_grams"] = rv.grams
    last_price = Decimal(binding.data["price"]) if binding and (binding.data or {}).get("price") else None
    shopify_changed = last_price is None or rv.price != last_price
    newer = rv.updated_at is None or oms_changed_at is None or rv.updated_at > oms_changed_at
    if rv.price != variant.price and shopify_changed and newer:
        changes["price"] = rv.price
    for attr, value in changes.items():
        setattr(variant, attr, value)
    return bool(changes)


def unbind_product(shop: Shop, product_gid: str) -> int:
    """Shopify deleted a product: its variants are no longer sold there (the OMS keeps them)."""
    gone = [b for b in bindings(shop.id) if (b.data or {}).get("product_id") == product_gid]
    for binding in gone:
        db.session.delete(binding)
    return len(gone)


def known_product_version(shop: Shop, product_gid: str) -> datetime | None:
    """The most recent Shopify ``updatedAt`` imported for this product."""
    seen = [parse_time((b.data or {}).get("updated_at")) for b in bindings(shop.id)
            if (b.data or {}).get("product_id") == product_gid]
    seen = [s for s in seen if s is not None]
    return max(seen) if seen else None


# ----------------------------------------------------------------------------- to Shopify
def product_set_input(shop: Shop, product: Product) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(``ProductSetInput``, identifier) for pushing an OMS product."""
    bound = {b.variant_id: b for b in bindings(shop.id, variant_ids=[v.id for v in product.variants])}
    product_gid = next((b.data.get("product_id") for b in bound.values() if (b.data or {}).get("product_id")), None)
    names: list[str] = []
    for v in product.variants:
        names += [n for n in (v.options or {}) if n not in names]
    if not names:
        names = ["Title"]
    values: dict[str, list[str]] = {n: [] for n in names}
    variants = []
    for v in product.variants:
        chosen = {n: (v.options or {}).get(n) or ("Default Title" if n == "Title" else "-") for n in names}
        for n, val in chosen.items():
            if val not in values[n]:
                values[n].append(val)
        entry: dict[str, Any] = {"optionValues": [{"optionName": n, "name": val} for n, val in chosen.items()],
                                 "price": str(v.price), "sku": v.sku}
        binding = bound.get(v.id)
        if binding is not None and binding.data.get("product_id") == product_gid:
            entry["id"] = binding.external_id
        else:  # a variant new to Shopify: everything the OMS knows
            item: dict[str, Any] = {"sku": v.sku, "tracked": True}
            if v.hs_code:
                item["harmonizedSystemCode"] = v.hs_code
            if v.country_of_origin:
                item["countryCodeOfOrigin"] = v.country_of_origin
            if v.weight_grams:
                item["measurement"] = {"weight": {"unit": "GRAMS", "value": float(v.weight_grams)}}
            entry["inventoryItem"] = item
            if v.barcode:
                entry["barcode"] = v.barcode
        variants.append(entry)
    data: dict[str, Any] = {"productOptions": [{"name": n, "values": [{"name": x} for x in values[n]]} for n in names],
                            "variants": variants}
    if product_gid is None:  # created by the OMS: it sends what customers read too
        data.update(title=product.title, descriptionHtml=product.description or "", tags=list(product.tags or []),
                    status="ACTIVE")
        if product.images:
            data["files"] = [{"originalSource": url, "contentType": "IMAGE"} for url in product.images]
    return data, ({"id": product_gid} if product_gid else None)


def push_product(shop: Shop, client: ShopifyClient, product: Product) -> tuple[str, list[int]]:
    """Create or update the product in Shopify; returns its gid and the variants bound."""
    data, identifier = product_set_input(shop, product)
    result = client.mutate(PRODUCT_SET, {"input": data, "identifier": identifier}, "productSet")
    remote = result.get("product") or {}
    by_sku = {v.sku: v for v in product.variants}
    bound_ids = []
    for node in (remote.get("variants") or {}).get("nodes") or []:
        variant = by_sku.get(node.get("sku") or "")
        if variant is None:
            continue
        rv = RemoteVariant(gid=node["id"], sku=variant.sku, barcode=None, price=Decimal(str(node.get("price") or 0)),
                           title="", options={}, inventory_item=(node.get("inventoryItem") or {}).get("id"),
                           hs_code=None, origin=None, grams=None, updated_at=parse_time(node.get("updatedAt")))
        existing = db.session.scalar(select(VariantBinding).where(VariantBinding.shop_id == shop.id,
                                                                  VariantBinding.variant_id == variant.id))
        _bind(shop, variant, rv, remote["id"], variant.price, existing)
        bound_ids.append(variant.id)
    db.session.flush()
    return remote.get("id", ""), bound_ids


def channel_actions(shop: Shop, product: Product) -> list:
    """The product page's line for this store: how many variants it sells, and "Publier"."""
    from flask_babel import gettext as _

    from core.types import ChannelAction

    variant_ids = [v.id for v in product.variants]
    bound = db.session.scalars(select(VariantBinding.variant_id).where(
        VariantBinding.shop_id == shop.id, VariantBinding.variant_id.in_(variant_ids or [0]))).all()
    total = len(variant_ids)
    if not bound:
        status, kind, label = _("Pas encore sur cette boutique"), "muted", _("Publier sur Shopify")
    elif len(set(bound)) < total:
        status, kind = _("%(on)s variante(s) sur %(total)s en vente", on=len(set(bound)), total=total), "warning"
        label = _("Publier les autres variantes")
    else:
        status, kind, label = _("En vente"), "ok", _("Mettre à jour sur Shopify")
    return [ChannelAction(label=label, status=status, kind=kind, endpoint="shopify.push_product",
                          args={"product_id": product.id}, method="post")]
