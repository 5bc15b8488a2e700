"""Builders for the picking, packing and shipping tests (core and the Sendcloud add-on)."""
from __future__ import annotations

from decimal import Decimal

from core import services
from core.extensions import db
from core.intake import ingest
from core.models import BinLocation, Order, Product, Shop, StockLevel, Variant, Warehouse
from core.picking import gtin_check_digit
from tests.pipeline_helpers import norm

SENDCLOUD_SECRETS = {"secret_key", "webhook_signature_key"}


def ean13(body: str) -> str:
    return body + str(gtin_check_digit(body))


def stocked(org_id: int, wh: Warehouse, sku: str, qty: int, *, barcode: str | None = None, grams: int | None = 250,
            hs_code: str | None = "6109100010", origin: str | None = "PT", bin_code: str | None = None,
            sort_key: str = "", tags: list[str] | None = None, price: str = "10.00") -> Variant:
    """A variant with stock in ``wh`` and, with ``bin_code``, its bin there."""
    product = Product(organization_id=org_id, title=f"Produit {sku}", tags=tags or [])
    db.session.add(product)
    db.session.flush()
    variant = Variant(organization_id=org_id, product_id=product.id, sku=sku, barcode=barcode, title=sku,
                      price=Decimal(price), weight_grams=grams, hs_code=hs_code, country_of_origin=origin)
    db.session.add(variant)
    db.session.flush()
    location = None
    if bin_code:
        location = db.session.query(BinLocation).filter_by(warehouse_id=wh.id, code=bin_code).one_or_none()
        if location is None:
            location = BinLocation(warehouse_id=wh.id, code=bin_code, sort_key=sort_key)
            db.session.add(location)
            db.session.flush()
    db.session.add(StockLevel(variant_id=variant.id, warehouse_id=wh.id, on_hand=qty, reserved=0,
                              bin_location_id=location.id if location else None))
    db.session.flush()
    return variant


def allocated(shop: Shop, ext: str, lines: list[tuple[str, int]], **kw) -> Order:
    """An order taken in by core (routing, reservation): allocated when stock allows."""
    result = ingest(shop, norm(ext, lines, **kw))
    db.session.commit()
    return db.session.get(Order, result.order_id)


def connect_sendcloud(shop: Shop, settings: dict) -> None:
    """Sendcloud enabled on the shop with ``settings``, and its methods loaded (connection test)."""
    services.set_enabled(shop, "sendcloud", True)
    services.save_settings(shop, "sendcloud", settings, SENDCLOUD_SECRETS)
    db.session.flush()
    result = services.test_connection(shop, "sendcloud")
    assert result.ok, result.message
    db.session.commit()
