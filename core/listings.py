"""A channel's listing that no OMS product stands behind, and the merchant's two fixes.

Every sales channel reads the merchant's listings (offers, adverts, items) and matches them to
the catalogue by SKU, then barcode. What stays unmatched is shown with two buttons:

- **Relier**: the listing is that product, typed by its SKU; the channel's SKU becomes an alias
  of the variant, so the orders held for it resume at once;
- **Créer le produit**: a product made from the listing (its SKU, title, barcode, price).

An add-on keeps its own listing rows (they carry the channel's fields); these functions return
the variant to store on them. The template half is the ``listing_fix`` macro of
``templates/_macros.html``.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from .extensions import db
from .intake import map_sku
from .models import Product, Shop, Variant


class ListingFixError(ValueError):
    """A fix the merchant can correct (the sentence says how)."""


@dataclass(frozen=True)
class RemoteListing:
    """What a channel says of one listing, enough to make a product of it."""

    sku: str
    title: str | None = None
    price: Decimal | None = None
    currency: str = "EUR"
    barcode: str | None = None


def _variant(org_id: int, sku: str) -> Variant | None:
    return db.session.scalar(select(Variant).where(Variant.organization_id == org_id, Variant.sku == sku))


def link(shop: Shop, remote_sku: str, typed_sku: str | None) -> Variant:
    """The listing ``remote_sku`` is the variant the merchant typed; held orders for it resume."""
    typed = (typed_sku or "").strip()
    if not typed:
        raise ListingFixError(_l("Indiquez le SKU d'un produit de votre catalogue."))
    variant = _variant(shop.organization_id, typed)
    if variant is None:
        raise ListingFixError(_l("Aucun produit de votre catalogue ne porte le SKU « %(sku)s ».", sku=typed))
    if remote_sku:
        map_sku(shop.organization_id, remote_sku, variant)
    return variant


def create_product(shop: Shop, listing: RemoteListing) -> Variant:
    """A product made from the listing; held orders for its SKU resume."""
    sku = listing.sku.strip()[:64]
    if not sku:
        raise ListingFixError(_l("Cette annonce n'a pas de SKU : ajoutez-en un chez le canal, puis relisez les "
                                 "annonces."))
    if _variant(shop.organization_id, sku) is not None:
        raise ListingFixError(_l("Un produit porte déjà le SKU « %(sku)s » : reliez l'annonce à ce produit.",
                                 sku=sku))
    product = Product(organization_id=shop.organization_id, title=(listing.title or sku)[:255])
    db.session.add(product)
    db.session.flush()
    variant = Variant(organization_id=shop.organization_id, product_id=product.id, sku=sku,
                      barcode=listing.barcode or None, price=listing.price or Decimal("0"),
                      currency=listing.currency or "EUR")
    db.session.add(variant)
    db.session.flush()
    map_sku(shop.organization_id, sku, variant)
    return variant


def apply(shop: Shop, action: str | None, listing: RemoteListing, typed_sku: str | None = None) -> Variant:
    """The ``listing_fix`` form posted: ``do=link`` with the typed ``sku``, or ``do=create``."""
    if action == "create":
        return create_product(shop, listing)
    if action == "link":
        return link(shop, listing.sku, typed_sku)
    raise ListingFixError(_l("Choisissez « Relier » ou « Créer le produit »."))


def fixed_message(variant: Variant) -> str:
    """What the merchant reads once a listing is fixed."""
    return str(_l("Annonce reliée au produit %(sku)s : ses ventes et son stock suivent ce produit.", sku=variant.sku))
